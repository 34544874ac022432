using Hub.Connectors;
using Hub.Worker.Plugins;

namespace Hub.Tests.Plugins;

/// <summary>A plugin that cannot be loaded stops the start with its name and a reason that says what to fix.</summary>
public class BrokenPluginTests
{
    [Fact]
    public void A_garbage_main_assembly_is_named_as_not_a_NET_assembly()
    {
        using var plugins = new PluginsFolder();
        var folder = plugins.Deploy("Acme.Connectors", "Acme.Connectors.dll", "MZ this is not an assembly"u8.ToArray());

        var e = Assert.Throws<PluginLoadException>(() => PluginKit.Load(plugins.Path));

        Assert.Equal("Acme.Connectors", e.PluginName);
        Assert.StartsWith($"Connector plugin 'Acme.Connectors' ({folder}) cannot be loaded: Acme.Connectors.dll is not a .NET assembly this hub can load", e.Message);
    }

    [Fact]
    public void A_plugin_folder_without_its_main_assembly_says_which_file_it_expected_and_what_it_found()
    {
        using var plugins = new PluginsFolder();
        var folder = plugins.DeployTestPlugin("Acme.Connectors");

        var e = Assert.Throws<PluginLoadException>(() => PluginKit.Load(plugins.Path));

        Assert.Equal(
            $"Connector plugin 'Acme.Connectors' ({folder}) cannot be loaded: its main assembly Acme.Connectors.dll is missing " +
            "(found Hub.TestPlugin.Csv.dll, Hub.TestPlugin.dll). A plugin folder holds the build or publish output of the plugin, " +
            "whose main assembly is named like the folder.",
            e.Message);
    }

    [Fact]
    public void A_kind_named_like_a_built_in_kind_is_refused_with_both_types()
    {
        using var plugins = new PluginsFolder();
        plugins.DeployEmitted("Acme.Connectors", "rest-pull");

        var e = Assert.Throws<PluginLoadException>(() => PluginKit.Load(plugins.Path));

        Assert.Equal("Acme.Connectors", e.PluginName);
        Assert.Equal(
            "its kind 'rest-pull' (Acme.Connectors.Kind) has the name of the built-in kind Hub.Connectors.BuiltIn.RestPullConnectorKind. " +
            "Kind names are unique: rename the plugin's kind.",
            e.Reason);
    }

    [Fact]
    public void The_test_plugins_csv_pull_clashes_with_a_built_in_kind_of_that_name()
    {
        using var plugins = new PluginsFolder();
        plugins.DeployTestPlugin();

        var e = Assert.Throws<PluginLoadException>(() => PluginKit.Load(plugins.Path, null, new NamedKind("csv-pull")));

        Assert.Equal("Hub.TestPlugin", e.PluginName);
        Assert.StartsWith($"its kind 'csv-pull' (Hub.TestPlugin.CsvPullConnectorKind) has the name of the built-in kind {typeof(NamedKind).FullName}.", e.Reason);
    }

    [Fact]
    public void Two_plugins_with_one_kind_name_are_refused_naming_the_first()
    {
        using var plugins = new PluginsFolder();
        plugins.DeployTestPlugin();
        plugins.DeployEmitted("Zeta.Connectors", "csv-pull");

        var e = Assert.Throws<PluginLoadException>(() => PluginKit.Load(plugins.Path));

        Assert.Equal("Zeta.Connectors", e.PluginName);
        Assert.StartsWith("its kind 'csv-pull' (Zeta.Connectors.Kind) has the name of Hub.TestPlugin.CsvPullConnectorKind of plugin 'Hub.TestPlugin'.", e.Reason);
    }

    [Fact]
    public void A_kind_whose_configuration_schema_is_not_JSON_is_refused_with_the_parser_error()
    {
        using var plugins = new PluginsFolder();
        plugins.DeployEmitted("Acme.Connectors", "acme-pull", schema: """{"type": "object", """);

        var e = Assert.Throws<PluginLoadException>(() => PluginKit.Load(plugins.Path));

        Assert.StartsWith("its kind Acme.Connectors.Kind ('acme-pull') has a ConfigurationSchema that is not valid JSON: ", e.Reason);
    }

    [Fact]
    public void A_kind_whose_name_is_not_lower_case_with_dashes_is_refused()
    {
        using var plugins = new PluginsFolder();
        plugins.DeployEmitted("Acme.Connectors", "Acme Pull");

        var e = Assert.Throws<PluginLoadException>(() => PluginKit.Load(plugins.Path));

        Assert.StartsWith("its kind Acme.Connectors.Kind has the name 'Acme Pull'; a kind's name is lower-case", e.Reason);
    }

    [Fact]
    public void A_plugin_built_against_an_SDK_without_a_member_of_this_one_is_named_incompatible()
    {
        using var plugins = new PluginsFolder();
        plugins.DeployEmitted("Acme.Connectors", "acme-pull", implementSchema: false);

        var e = Assert.Throws<PluginLoadException>(() => PluginKit.Load(plugins.Path));

        Assert.Contains("built against an incompatible Hub.Connectors (this hub has ", e.Reason, StringComparison.Ordinal);
        Assert.Contains("TypeLoadException", e.Reason, StringComparison.Ordinal);
        Assert.Contains("get_ConfigurationSchema", e.Reason, StringComparison.Ordinal);
        Assert.IsAssignableFrom<TypeLoadException>(e.InnerException);
    }

    private sealed class NamedKind(string name) : IConnectorKind
    {
        public string Name => name;

        public string Description => "A built-in kind of a test.";

        public string ConfigurationSchema => "{}";
    }
}
