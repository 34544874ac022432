using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json.Nodes;
using Hub.Connectors;
using Hub.Contracts;
using Hub.Worker.Plugins;
using Microsoft.Extensions.Logging;

namespace Hub.Tests.Plugins;

/// <summary>How a plugin is loaded: in a context of its own, sharing only the SDK, the contracts and the framework.</summary>
public class PluginLoadingTests
{
    [Fact]
    public void The_test_plugin_loads_from_the_plugins_folder_into_a_load_context_of_its_own()
    {
        // The tests never reference the plugin: it is found in the plugins folder or nowhere.
        Assert.False(File.Exists(Path.Combine(AppContext.BaseDirectory, "Hub.TestPlugin.dll")));
        using var plugins = new PluginsFolder();
        var folder = plugins.DeployTestPlugin();

        var plugin = Assert.Single(PluginKit.Load(plugins.Path).All);

        Assert.Equal("Hub.TestPlugin", plugin.Name);
        Assert.Equal(Path.Combine(folder, "Hub.TestPlugin.dll"), plugin.Assembly.Location);
        var context = Assert.IsType<PluginLoadContext>(plugin.Context);
        Assert.NotSame(AssemblyLoadContext.Default, context);
        Assert.Equal("plugin:Hub.TestPlugin", context.Name);
        var kind = Assert.Single(plugin.Kinds);
        Assert.Equal("csv-pull", kind.Name);
        Assert.Same(context, AssemblyLoadContext.GetLoadContext(kind.GetType().Assembly));
    }

    [Fact]
    public void The_plugins_kind_implements_the_hubs_own_IConnectorKind()
    {
        using var plugins = new PluginsFolder();
        plugins.DeployTestPlugin();

        var kind = Assert.Single(PluginKit.Load(plugins.Path).Kinds);

        Assert.Same(typeof(IConnectorKind), kind.GetType().GetInterface(typeof(IConnectorKind).FullName!));
        Assert.Same(typeof(IPullConnectorKind), kind.GetType().GetInterface(typeof(IPullConnectorKind).FullName!));
        Assert.IsAssignableFrom<IPullConnectorKind>(kind);
    }

    [Fact]
    public void The_SDK_contracts_and_framework_are_the_hubs_copies_while_the_private_dependency_comes_from_the_plugin_folder()
    {
        using var plugins = new PluginsFolder();
        var folder = plugins.DeployTestPlugin();
        var plugin = Assert.Single(PluginKit.Load(plugins.Path).All);
        var references = plugin.Assembly.GetReferencedAssemblies().Select(r => r.Name).ToList();
        Assert.Contains("Hub.Connectors", references);
        Assert.Contains("Hub.TestPlugin.Csv", references);

        Assert.Same(typeof(IConnectorKind).Assembly, plugin.Context.LoadFromAssemblyName(new AssemblyName("Hub.Connectors")));
        Assert.Same(typeof(DossierChange).Assembly, plugin.Context.LoadFromAssemblyName(new AssemblyName("Hub.Contracts")));
        Assert.Same(typeof(ILogger).Assembly, plugin.Context.LoadFromAssemblyName(new AssemblyName("Microsoft.Extensions.Logging.Abstractions")));
        Assert.Same(typeof(System.Text.Json.JsonElement).Assembly, plugin.Context.LoadFromAssemblyName(new AssemblyName("System.Text.Json")));

        var csv = plugin.Context.LoadFromAssemblyName(new AssemblyName("Hub.TestPlugin.Csv"));
        Assert.Same(plugin.Context, AssemblyLoadContext.GetLoadContext(csv));
        Assert.Equal(Path.Combine(folder, "Hub.TestPlugin.Csv.dll"), csv.Location);
        Assert.Throws<FileNotFoundException>(() => AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName("Hub.TestPlugin.Csv")));
    }

    [Fact]
    public void A_copy_of_the_SDK_deployed_with_a_plugin_is_ignored_for_the_hubs()
    {
        // As the output of a plugin built without Private="false" on its SDK references: the SDK's assemblies are in its
        // folder and in its .deps.json.
        using var plugins = new PluginsFolder();
        var folder = plugins.DeployTestPlugin();
        var depsFile = Path.Combine(folder, "Hub.TestPlugin.deps.json");
        var deps = JsonNode.Parse(File.ReadAllText(depsFile))!;
        var targets = deps["targets"]![".NETCoreApp,Version=v10.0"]!.AsObject();
        foreach (var sdk in new[] { "Hub.Connectors", "Hub.Contracts" })
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, sdk + ".dll"), Path.Combine(folder, sdk + ".dll"));
            targets["Hub.TestPlugin/1.2.3"]!["dependencies"]![sdk] = "1.0.0";
            targets[sdk + "/1.0.0"] = new JsonObject { ["runtime"] = new JsonObject { [sdk + ".dll"] = new JsonObject() } };
            deps["libraries"]![sdk + "/1.0.0"] = new JsonObject { ["type"] = "project", ["serviceable"] = false, ["sha512"] = "" };
        }

        File.WriteAllText(depsFile, deps.ToJsonString());

        var plugin = Assert.Single(PluginKit.Load(plugins.Path).All);

        Assert.Same(typeof(IConnectorKind).Assembly, plugin.Context.LoadFromAssemblyName(new AssemblyName("Hub.Connectors")));
        Assert.Same(typeof(DossierChange).Assembly, plugin.Context.LoadFromAssemblyName(new AssemblyName("Hub.Contracts")));
        Assert.IsAssignableFrom<IPullConnectorKind>(Assert.Single(plugin.Kinds));
    }

    [Fact]
    public void Each_loaded_plugin_is_logged_with_its_version_and_its_kinds()
    {
        using var plugins = new PluginsFolder();
        var folder = plugins.DeployTestPlugin();
        var logger = new ListLogger();

        PluginKit.Load(plugins.Path, logger);

        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Information
            && e.Message.StartsWith($"Connector plugin Hub.TestPlugin 1.2.3", StringComparison.Ordinal)
            && e.Message.EndsWith($"loaded from {folder}: kinds csv-pull", StringComparison.Ordinal));
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Information
            && e.Message.StartsWith("Plugin Hub.TestPlugin: connector kind csv-pull (Hub.TestPlugin.CsvPullConnectorKind)", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_plugins_folder_means_no_plugins_and_says_so_at_information()
    {
        var missing = Path.Combine(Path.GetTempPath(), "hub-no-plugins-" + Guid.NewGuid().ToString("N"));
        var logger = new ListLogger();

        var loaded = PluginKit.Load(missing, logger);

        Assert.Empty(loaded.All);
        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Equal($"No connector plugins: the plugins folder {missing} does not exist", entry.Message);
    }
}
