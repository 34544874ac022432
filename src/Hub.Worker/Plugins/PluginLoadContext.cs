using System.Reflection;
using System.Runtime.Loader;

namespace Hub.Worker.Plugins;

/// <summary>
/// The load context of one connector plugin: the plugin's own assemblies and private dependencies come from its folder
/// (resolved through its <c>.deps.json</c>), while the connector SDK, the canonical contracts and the framework always
/// resolve to the hub's single copy, so that the plugin's kinds implement the hub's <c>IConnectorKind</c>.
/// </summary>
/// <remarks>
/// Two plugins may carry two versions of one package without meeting: each sees its own. The context is not
/// collectible: plugins are loaded once at start-up and live as long as the hub.
/// </remarks>
public sealed class PluginLoadContext : AssemblyLoadContext
{
    private readonly AssemblyDependencyResolver _resolver;

    /// <summary>Creates the context of the plugin whose main assembly is at <paramref name="mainAssemblyPath"/>.</summary>
    /// <exception cref="InvalidOperationException">The plugin's <c>.deps.json</c> cannot be read.</exception>
    public PluginLoadContext(string pluginName, string mainAssemblyPath)
        : base("plugin:" + pluginName, isCollectible: false)
    {
        PluginName = pluginName;
        _resolver = new AssemblyDependencyResolver(mainAssemblyPath);
    }

    /// <summary>The plugin's name (its folder's name).</summary>
    public string PluginName { get; }

    /// <inheritdoc />
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        // null: the default context answers, with the hub's copy. A copy of the SDK that a plugin carries by mistake is
        // never loaded, since its IConnectorKind would be a different type from the hub's.
        if (SharedAssemblies.Contains(assemblyName))
        {
            return null;
        }

        return _resolver.ResolveAssemblyToPath(assemblyName) is { } path ? LoadFromAssemblyPath(path) : null;
    }

    /// <inheritdoc />
    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) =>
        _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } path ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
}
