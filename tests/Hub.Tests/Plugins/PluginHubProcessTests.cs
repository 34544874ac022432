using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Plugins;

/// <summary>The real hub process with a plugins folder (Hub:Plugins:Directory).</summary>
public sealed class PluginHubProcessTests : IAsyncLifetime
{
    private NpgsqlDataSource _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateSchemaAsync("plugin_hub");

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task The_hub_loads_the_plugins_kind_at_start_up_and_registers_a_connector_of_that_kind_from_a_file()
    {
        using var plugins = new PluginsFolder();
        plugins.DeployTestPlugin();
        var connectors = Directory.CreateTempSubdirectory("hub-connectors-");
        try
        {
            File.WriteAllText(Path.Combine(connectors.FullName, "h13-legacy-csv.json"),
                PluginSyncEndToEndTests.ConnectorFile("h13-legacy-csv", "h13-legacy", new Uri("http://127.0.0.1:9/export/ho-so.csv")));
            await using var hub = HubProcess.Start(Path.GetTempPath(), new Dictionary<string, string>
            {
                ["ConnectionStrings__Hub"] = _db.ConnectionString,
                ["Hub__Plugins__Directory"] = plugins.Path,
                ["Hub__Connectors__Directory"] = connectors.FullName,
            });
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(60));

            Assert.Contains($"Connector plugin Hub.TestPlugin 1.2.3", hub.Output, StringComparison.Ordinal);
            Assert.Contains("Plugin Hub.TestPlugin: connector kind csv-pull (Hub.TestPlugin.CsvPullConnectorKind)", hub.Output, StringComparison.Ordinal);
            Assert.Contains("Connector kinds: csv-pull, json-webhook, national-portal, national-portal-client, rest-pull, signed-webhook, signed-xml", hub.Output, StringComparison.Ordinal);
            Assert.Contains("Connector h13-legacy-csv (csv-pull) registered from h13-legacy-csv.json", hub.Output, StringComparison.Ordinal);
            var registered = await TestSecrets.Catalog(_db).GetAsync("h13-legacy-csv", CancellationToken.None);
            Assert.Equal("csv-pull", registered?.Registration.Kind);
        }
        finally
        {
            connectors.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_plugin_that_cannot_be_loaded_from_the_default_plugins_folder_stops_the_hub_with_its_name_and_the_reason()
    {
        // No Hub:Plugins:Directory: the hub reads "plugins" in its current folder.
        var work = Directory.CreateTempSubdirectory("hub-plugins-default-");
        try
        {
            var plugin = Directory.CreateDirectory(Path.Combine(work.FullName, "plugins", "Acme.Connectors"));
            File.WriteAllText(Path.Combine(plugin.FullName, "Acme.Connectors.dll"), "not an assembly");
            await using var hub = HubProcess.Start(work.FullName, new Dictionary<string, string> { ["ConnectionStrings__Hub"] = _db.ConnectionString });

            await Assert.ThrowsAsync<InvalidOperationException>(() => hub.WaitReadyAsync(TimeSpan.FromSeconds(60)));

            Assert.True(hub.ExitCode == 1, $"exit code {hub.ExitCode}:\n{hub.Output}");
            Assert.Contains(
                $"Connector plugin 'Acme.Connectors' ({plugin.FullName}) cannot be loaded: Acme.Connectors.dll is not a .NET assembly this hub can load",
                hub.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", hub.Output, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
