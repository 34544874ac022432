using System.Collections.Frozen;
using System.Reflection;
using Hub.Connectors;
using Hub.Contracts;

namespace Hub.Worker.Plugins;

/// <summary>
/// The assemblies a plugin shares with the hub instead of loading its own copy: the connector SDK (Hub.Connectors),
/// the canonical contracts (Hub.Contracts), the assemblies they reference (such as
/// Microsoft.Extensions.Logging.Abstractions for <c>ILogger</c>), and every assembly of the shared frameworks the hub
/// runs on (Microsoft.NETCore.App, Microsoft.AspNetCore.App).
/// </summary>
public static class SharedAssemblies
{
    private static readonly Lazy<FrozenSet<string>> Names = new(Collect);

    /// <summary>The SDK assembly plugins compile against.</summary>
    public static Assembly Sdk => typeof(IConnectorKind).Assembly;

    /// <summary>Whether the assembly is the hub's to give.</summary>
    public static bool Contains(AssemblyName name) => name.Name is { } simpleName && Names.Value.Contains(simpleName);

    /// <summary>Whether the assembly is the SDK or the contracts.</summary>
    internal static bool IsSdk(string? simpleName) =>
        simpleName is not null &&
        (string.Equals(simpleName, Sdk.GetName().Name, StringComparison.OrdinalIgnoreCase) ||
         string.Equals(simpleName, typeof(DossierChange).Assembly.GetName().Name, StringComparison.OrdinalIgnoreCase));

    private static FrozenSet<string> Collect()
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var assembly in new[] { Sdk, typeof(DossierChange).Assembly })
        {
            names.Add(assembly.GetName().Name!);
            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                names.Add(reference.Name!);
            }
        }

        // Every assembly of each shared framework the hub runs on, by name: where a package the hub uses carries a newer
        // copy of a framework assembly (Microsoft.Extensions.Logging.Abstractions), the hub's copy is that one.
        var coreLibrary = typeof(object).Assembly.Location;
        // <dotnet>/shared/Microsoft.NETCore.App/<version>/System.Private.CoreLib.dll; a self-contained hub has no such folder.
        var sharedRoot = string.IsNullOrEmpty(coreLibrary) ? null : Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(coreLibrary)));
        if (sharedRoot is not null && Path.GetFileName(sharedRoot) == "shared" && AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string trusted)
        {
            var frameworkFolders = trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Where(path => path.StartsWith(sharedRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                .Select(Path.GetDirectoryName)
                .Distinct(StringComparer.Ordinal);
            foreach (var folder in frameworkFolders)
            {
                foreach (var file in Directory.EnumerateFiles(folder!, "*.dll"))
                {
                    names.Add(Path.GetFileNameWithoutExtension(file));
                }
            }
        }

        return names.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }
}
