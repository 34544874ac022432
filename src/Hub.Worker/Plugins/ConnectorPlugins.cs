using System.Reflection;
using System.Runtime.Loader;
using Hub.Connectors;

namespace Hub.Worker.Plugins;

/// <summary>Where connector plugins are loaded from at start-up.</summary>
public sealed class ConnectorPluginOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Hub:Plugins";

    /// <summary>The default plugins folder.</summary>
    public const string DefaultDirectory = "plugins";

    /// <summary>
    /// The plugins folder, relative to the current folder: one subfolder per plugin. A missing folder means no plugins;
    /// an empty value turns plugin loading off.
    /// </summary>
    public string? Directory { get; set; } = DefaultDirectory;
}

/// <summary>The plugins the hub loaded at start-up.</summary>
public sealed class ConnectorPlugins(IReadOnlyList<ConnectorPlugin> plugins)
{
    /// <summary>No plugins.</summary>
    public static readonly ConnectorPlugins None = new([]);

    /// <summary>The plugins, by folder name.</summary>
    public IReadOnlyList<ConnectorPlugin> All { get; } = plugins;

    /// <summary>The kinds of every plugin.</summary>
    public IEnumerable<IConnectorKind> Kinds => All.SelectMany(p => p.Kinds);
}

/// <summary>A loaded connector plugin.</summary>
/// <param name="Name">The plugin's name: its folder's and its main assembly's.</param>
/// <param name="Directory">Its folder.</param>
/// <param name="Assembly">Its main assembly, loaded in a <see cref="PluginLoadContext"/> of its own.</param>
/// <param name="Kinds">The connector kinds it holds.</param>
public sealed record ConnectorPlugin(string Name, string Directory, Assembly Assembly, IReadOnlyList<IConnectorKind> Kinds)
{
    /// <summary>The plugin's load context.</summary>
    public AssemblyLoadContext Context => AssemblyLoadContext.GetLoadContext(Assembly)!;

    /// <summary>The version of its main assembly: the informational version when it has one.</summary>
    public string Version => VersionOf(Assembly);

    internal static string VersionOf(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? assembly.GetName().Version?.ToString()
        ?? "unknown";
}

/// <summary>A plugin that cannot be loaded; the message names it and says why. The hub does not start.</summary>
public sealed class PluginLoadException : Exception
{
    /// <summary>Creates the exception for a plugin.</summary>
    public PluginLoadException(string pluginName, string directory, string reason, Exception? innerException = null)
        : base($"Connector plugin '{pluginName}' ({directory}) cannot be loaded: {reason}", innerException)
    {
        PluginName = pluginName;
        Reason = reason;
    }

    /// <summary>Creates the exception.</summary>
    public PluginLoadException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public PluginLoadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PluginLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The plugin's name.</summary>
    public string? PluginName { get; }

    /// <summary>Why it cannot be loaded.</summary>
    public string? Reason { get; }
}
