using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hub.Connectors;

namespace Hub.Worker.Plugins;

/// <summary>
/// Loads connector plugins from the plugins folder: one subfolder per plugin, holding the plugin's build or publish
/// output (its main assembly named like the folder, its private dependencies and its <c>.deps.json</c>). Each plugin gets
/// a <see cref="PluginLoadContext"/> of its own; every public, non-abstract class of its main assembly that implements
/// <see cref="IConnectorKind"/> with a public parameterless constructor is one of its kinds.
/// </summary>
/// <remarks>
/// A plugin that cannot be loaded stops the start with its name and the reason, like a connector file that cannot be
/// read: a hub that runs without a province's connector kind, and so without its connectors, is worse than one that
/// does not start.
/// </remarks>
public static partial class PluginLoader
{
    /// <summary>Loads every plugin of a plugins folder.</summary>
    /// <param name="directory">The plugins folder; missing: no plugins. Empty: plugin loading is off.</param>
    /// <param name="builtInKinds">The hub's own kinds, whose names plugins may not take.</param>
    /// <param name="logger">Where each plugin and its kinds are logged.</param>
    /// <exception cref="PluginLoadException">A plugin cannot be loaded; the message names it and says why.</exception>
    public static ConnectorPlugins LoadAll(string? directory, IEnumerable<IConnectorKind> builtInKinds, ILogger logger)
    {
        if (string.IsNullOrWhiteSpace(directory))
        {
            LogOff(logger);
            return ConnectorPlugins.None;
        }

        var root = Path.GetFullPath(directory);
        if (!Directory.Exists(root))
        {
            LogNoFolder(logger, root);
            return ConnectorPlugins.None;
        }

        foreach (var stray in Directory.EnumerateFiles(root, "*.dll"))
        {
            LogStrayAssembly(logger, stray);
        }

        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kind in builtInKinds)
        {
            owners.TryAdd(kind.Name, $"the built-in kind {kind.GetType().FullName}");
        }

        var plugins = new List<ConnectorPlugin>();
        foreach (var folder in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            var plugin = Load(folder, logger);
            foreach (var kind in plugin.Kinds)
            {
                if (owners.TryGetValue(kind.Name, out var owner))
                {
                    throw new PluginLoadException(plugin.Name, folder,
                        $"its kind '{kind.Name}' ({kind.GetType().FullName}) has the name of {owner}. Kind names are unique: rename the plugin's kind.");
                }

                owners[kind.Name] = $"{kind.GetType().FullName} of plugin '{plugin.Name}'";
            }

            plugins.Add(plugin);
            LogLoaded(logger, plugin.Name, plugin.Version, folder, string.Join(", ", plugin.Kinds.Select(k => k.Name)));
            foreach (var kind in plugin.Kinds)
            {
                LogKind(logger, plugin.Name, kind.Name, kind.GetType().FullName!, kind.Description);
            }
        }

        if (plugins.Count == 0)
        {
            LogEmptyFolder(logger, root);
        }

        return new ConnectorPlugins(plugins);
    }

    /// <summary>Loads one plugin folder in a load context of its own.</summary>
    /// <exception cref="PluginLoadException">The plugin cannot be loaded; the message names it and says why.</exception>
    public static ConnectorPlugin Load(string folder, ILogger logger)
    {
        folder = Path.GetFullPath(folder);
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
        var main = Path.Combine(folder, name + ".dll");
        if (!File.Exists(main))
        {
            var found = Directory.EnumerateFiles(folder, "*.dll").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            throw new PluginLoadException(name, folder,
                $"its main assembly {name}.dll is missing (found {(found.Count == 0 ? "no assembly" : string.Join(", ", found))}). " +
                "A plugin folder holds the build or publish output of the plugin, whose main assembly is named like the folder.");
        }

        Assembly assembly;
        try
        {
            assembly = new PluginLoadContext(name, main).LoadFromAssemblyPath(main);
        }
        catch (Exception e)
        {
            throw new PluginLoadException(name, folder, Describe(e, main), e);
        }

        Type[] types;
        try
        {
            types = assembly.GetExportedTypes();
        }
        catch (Exception e)
        {
            throw new PluginLoadException(name, folder, Describe(e, main), e);
        }

        var kinds = new List<IConnectorKind>();
        foreach (var type in types.OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            try
            {
                if (!type.IsClass || type.IsAbstract || !typeof(IConnectorKind).IsAssignableFrom(type))
                {
                    continue;
                }

                if (type.GetConstructor(Type.EmptyTypes) is null)
                {
                    LogNoConstructor(logger, name, type.FullName!);
                    continue;
                }

                var kind = (IConnectorKind)Activator.CreateInstance(type)!;
                if (Invalid(kind) is { } problem)
                {
                    throw new PluginLoadException(name, folder, $"its kind {type.FullName} {problem}");
                }

                kinds.Add(kind);
            }
            catch (Exception e) when (e is not PluginLoadException)
            {
                throw new PluginLoadException(name, folder, $"its kind {type.FullName} failed: {Describe(e, main)}", e);
            }
        }

        if (kinds.Count == 0)
        {
            throw new PluginLoadException(name, folder,
                $"{name}.dll holds no connector kind: no public, non-abstract class with a public parameterless constructor implements {typeof(IConnectorKind).FullName}.");
        }

        return new ConnectorPlugin(name, folder, assembly, kinds);
    }

    private static string? Invalid(IConnectorKind kind)
    {
        if (kind.Name is not { } name || !KindNamePattern().IsMatch(name))
        {
            return $"has the name '{kind.Name}'; a kind's name is lower-case letters and digits in dash-separated words, such as 'csv-pull'.";
        }

        try
        {
            using var schema = JsonDocument.Parse(kind.ConfigurationSchema ?? "");
            return schema.RootElement.ValueKind == JsonValueKind.Object
                ? null
                : $"('{name}') has a ConfigurationSchema that is not a JSON Schema object but a {schema.RootElement.ValueKind}.";
        }
        catch (JsonException e)
        {
            return $"('{name}') has a ConfigurationSchema that is not valid JSON: {e.Message}";
        }
    }

    /// <summary>What went wrong, in words that say what to do.</summary>
    private static string Describe(Exception e, string main) => e switch
    {
        TargetInvocationException { InnerException: { } inner } => $"its constructor threw {inner.GetType().Name}: {inner.Message}",
        ReflectionTypeLoadException { LoaderExceptions: var loader } when loader.FirstOrDefault(x => x is not null) is { } first => Describe(first, main),
        BadImageFormatException => $"{Path.GetFileName(e is BadImageFormatException { FileName: { } file } ? file : main)} is not a .NET assembly this hub can load: {e.Message}",
        FileNotFoundException or FileLoadException when SharedAssemblies.IsSdk(AssemblyNameOf(FileNameOf(e))) => Incompatible(e),
        FileNotFoundException { FileName: var file } =>
            $"its dependency {file} is missing. Deploy the whole build or publish output of the plugin, with its .deps.json, in its folder.",
        FileLoadException { FileName: var file } => $"its dependency {file} cannot be loaded: {e.Message}",
        TypeLoadException or MissingMemberException or EntryPointNotFoundException => Incompatible(e),
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    private static string Incompatible(Exception e) =>
        $"it was built against an incompatible Hub.Connectors (this hub has {ConnectorPlugin.VersionOf(SharedAssemblies.Sdk)}); " +
        $"rebuild it against the hub's Hub.Connectors. {e.GetType().Name}: {e.Message}";

    private static string? FileNameOf(Exception e) => e switch
    {
        FileNotFoundException f => f.FileName,
        FileLoadException f => f.FileName,
        _ => null,
    };

    private static string? AssemblyNameOf(string? file)
    {
        if (file is null)
        {
            return null;
        }

        try
        {
            return new AssemblyName(file).Name;
        }
        catch (FileLoadException)
        {
            return Path.GetFileNameWithoutExtension(file);
        }
    }

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex KindNamePattern();

    [LoggerMessage(Level = LogLevel.Information, Message = "Connector plugins are off (Hub:Plugins:Directory is empty)")]
    private static partial void LogOff(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "No connector plugins: the plugins folder {Directory} does not exist")]
    private static partial void LogNoFolder(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "No connector plugins: the plugins folder {Directory} has no plugin folder")]
    private static partial void LogEmptyFolder(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{File} is ignored: each plugin goes in a folder of its own, named like its main assembly")]
    private static partial void LogStrayAssembly(ILogger logger, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plugin {Plugin}: {Type} implements IConnectorKind but has no public parameterless constructor; it is not loaded")]
    private static partial void LogNoConstructor(ILogger logger, string plugin, string type);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connector plugin {Plugin} {Version} loaded from {Directory}: kinds {Kinds}")]
    private static partial void LogLoaded(ILogger logger, string plugin, string version, string directory, string kinds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Plugin {Plugin}: connector kind {Kind} ({Type}): {Description}")]
    private static partial void LogKind(ILogger logger, string plugin, string kind, string type, string description);
}
