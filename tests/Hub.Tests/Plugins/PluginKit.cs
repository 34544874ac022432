using System.Reflection;
using System.Reflection.Emit;
using Hub.Connectors;
using Hub.Worker.Plugins;
using Microsoft.Extensions.Logging;

namespace Hub.Tests.Plugins;

/// <summary>A plugins folder of a test's own, deleted at the end, and ways to put plugins in it.</summary>
public sealed class PluginsFolder : IDisposable
{
    /// <summary>The test plugin's build output, copied beside the tests by Plugins/TestPlugin.targets.</summary>
    public static readonly string TestPluginOutput = System.IO.Path.Combine(AppContext.BaseDirectory, "TestPlugins", "Hub.TestPlugin");

    public string Path { get; } = Directory.CreateTempSubdirectory("hub-plugins-").FullName;

    /// <summary>Copies the test plugin's output into <c>Hub.TestPlugin/</c>, as an operator deploys a plugin.</summary>
    public string DeployTestPlugin(string folderName = "Hub.TestPlugin")
    {
        var target = System.IO.Path.Combine(Path, folderName);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(TestPluginOutput, "*", SearchOption.AllDirectories))
        {
            var destination = System.IO.Path.Combine(target, System.IO.Path.GetRelativePath(TestPluginOutput, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return target;
    }

    /// <summary>A plugin folder holding one file.</summary>
    public string Deploy(string pluginName, string fileName, byte[] content)
    {
        var target = System.IO.Path.Combine(Path, pluginName);
        Directory.CreateDirectory(target);
        File.WriteAllBytes(System.IO.Path.Combine(target, fileName), content);
        return target;
    }

    /// <summary>
    /// A plugin whose main assembly is written here and now with one kind class (<c>{pluginName}.Kind</c>) that returns
    /// the given name and schema; without <paramref name="implementSchema"/>, the class lacks ConfigurationSchema, as a
    /// plugin built against an SDK without that member would.
    /// </summary>
    public string DeployEmitted(string pluginName, string kindName, string schema = """{"type":"object"}""", bool implementSchema = true)
    {
        var target = System.IO.Path.Combine(Path, pluginName);
        Directory.CreateDirectory(target);
        var assembly = new PersistedAssemblyBuilder(new AssemblyName(pluginName) { Version = new Version(2, 1, 0, 0) }, typeof(object).Assembly);
        var module = assembly.DefineDynamicModule(pluginName);
        var type = module.DefineType(pluginName + ".Kind", TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Class, typeof(object), [typeof(IConnectorKind)]);
        type.DefineDefaultConstructor(MethodAttributes.Public);
        Property(type, nameof(IConnectorKind.Name), kindName);
        Property(type, nameof(IConnectorKind.Description), "A kind written by a test.");
        if (implementSchema)
        {
            Property(type, nameof(IConnectorKind.ConfigurationSchema), schema);
        }

        type.CreateType();
        assembly.Save(System.IO.Path.Combine(target, pluginName + ".dll"));
        return target;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);

    private static void Property(TypeBuilder type, string name, string value)
    {
        var getter = type.DefineMethod("get_" + name,
            MethodAttributes.Public | MethodAttributes.Virtual | MethodAttributes.NewSlot | MethodAttributes.Final | MethodAttributes.HideBySig | MethodAttributes.SpecialName,
            typeof(string), Type.EmptyTypes);
        var il = getter.GetILGenerator();
        il.Emit(OpCodes.Ldstr, value);
        il.Emit(OpCodes.Ret);
        type.DefineProperty(name, PropertyAttributes.None, typeof(string), null).SetGetMethod(getter);
        type.DefineMethodOverride(getter, typeof(IConnectorKind).GetProperty(name)!.GetMethod!);
    }
}

/// <summary>A logger that keeps what it is given.</summary>
public sealed class ListLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((logLevel, formatter(state, exception)));
        }
    }
}

public static class PluginKit
{
    /// <summary>Loads a plugins folder next to the hub's built-in kinds.</summary>
    public static ConnectorPlugins Load(string folder, ILogger? logger = null, params IConnectorKind[] builtIn) =>
        PluginLoader.LoadAll(folder, builtIn.Length == 0 ? [new Hub.Connectors.BuiltIn.RestPullConnectorKind()] : builtIn, logger ?? new ListLogger());
}
