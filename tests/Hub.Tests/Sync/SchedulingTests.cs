using System.Net;
using Hub.Simulator;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Sync;

/// <summary>Schedules and "sync now" through real hub processes sharing one database.</summary>
public class SchedulingTests
{
    private static async Task<(string Folder, string ConnectorId)> ConnectorFolderAsync(SimulatorHost simulator, string sourceSystem, string schedule)
    {
        var folder = Directory.CreateTempSubdirectory("hub-connectors-").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, sourceSystem + ".json"), simulator.VendorRestConnectorJson(sourceSystem)
            .Replace("\"*/1 * * * *\"", $"\"{schedule}\"", StringComparison.Ordinal));
        return (folder, sourceSystem + "-rest");
    }

    private static Dictionary<string, string> Settings(NpgsqlDataSource db, string connectors, string scheduler) => new()
    {
        ["ConnectionStrings__Hub"] = db.ConnectionString,
        ["Hub__Connectors__Directory"] = connectors,
        ["Hub__Scheduler__SchemaName"] = scheduler,
        ["Hub__Scheduler__ScheduleRefresh"] = "00:00:02",
    };

    private sealed record RunRow(long Id, string Host, string Outcome, DateTime Started, DateTime? Ended, string Trigger);

    private static async Task<List<RunRow>> RunsAsync(NpgsqlDataSource db, string connectorId)
    {
        await using var command = db.CreateCommand("select id, host, outcome, started_at, ended_at, trigger from sync_run where connector_id = $1 order by started_at, id");
        command.Parameters.Add(new() { Value = connectorId });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<RunRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new RunRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetDateTime(3), reader.IsDBNull(4) ? null : reader.GetDateTime(4), reader.GetString(5)));
        }

        return rows;
    }

    [Fact]
    public async Task Two_hub_processes_sharing_the_database_never_run_the_same_connector_at_once()
    {
        var province = new ProvinceOptions
        {
            SourceSystem = "sim-twin",
            AgencyPrefix = "H92",
            Dossiers = 2000,
            Faults = new FaultOptions { Latency = TimeSpan.FromMilliseconds(250) },
        };
        await using var simulator = await SimulatorHost.StartAsync(province);
        await using var db = await TestDatabase.CreateSchemaAsync("twin");
        var (folder, connectorId) = await ConnectorFolderAsync(simulator, "sim-twin", "0 0 1 1 *");
        var settings = Settings(db, folder, "hf_twin_" + Guid.NewGuid().ToString("N")[..8]);
        await using var first = HubProcess.Start(folder, settings);
        await using var second = HubProcess.Start(folder, settings);
        await Task.WhenAll(first.WaitReadyAsync(TimeSpan.FromSeconds(60)), second.WaitReadyAsync(TimeSpan.FromSeconds(60)));

        // Both processes are asked, at once and repeatedly, to sync the same connector now.
        var requests = Enumerable.Range(0, 12).Select(i => (i % 2 == 0 ? first : second).Client.PostAsync($"/api/connectors/{connectorId}/sync", null));
        Assert.All(await Task.WhenAll(requests), r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));

        List<RunRow> runs = [];
        for (var wait = 0; wait < 120; wait++)
        {
            runs = await RunsAsync(db, connectorId);
            if (runs.Count >= 12 && runs.All(r => r.Outcome != "running"))
            {
                break;
            }

            await Task.Delay(500);
        }

        Assert.True(runs.Count >= 12, $"{runs.Count} runs recorded:\n{first.Output}");
        var ran = runs.Where(r => r.Outcome is "succeeded" or "failed").ToList();
        Assert.Contains(ran, r => r.Outcome == "succeeded");
        Assert.Contains(runs, r => r.Outcome == "skipped");
        for (var i = 1; i < ran.Count; i++)
        {
            Assert.True(ran[i].Started >= ran[i - 1].Ended, $"Runs {ran[i - 1].Id} and {ran[i].Id} overlap.");
        }

        // Both processes took part: each ran or was refused the connector's lock at least once.
        Assert.Equal(2, runs.Select(r => r.Host).Distinct().Count());
        Assert.Equal(simulator["sim-twin"].Truth.Changes.Count, await SyncLedgerTests.CountAsync(db, "select count(*) from dossier_change"));
    }

    [Fact]
    public async Task A_connector_with_a_schedule_runs_on_its_own_and_sync_now_of_an_unknown_connector_is_a_404()
    {
        await using var simulator = await SimulatorHost.StartAsync(new ProvinceOptions { SourceSystem = "sim-cron", AgencyPrefix = "H93", Dossiers = 50 });
        await using var db = await TestDatabase.CreateSchemaAsync("cron");
        var (folder, connectorId) = await ConnectorFolderAsync(simulator, "sim-cron", "*/5 * * * * *");
        await using var hub = HubProcess.Start(folder, Settings(db, folder, "hf_cron_" + Guid.NewGuid().ToString("N")[..8]));
        await hub.WaitReadyAsync(TimeSpan.FromSeconds(60));

        List<RunRow> runs = [];
        for (var wait = 0; wait < 90 && runs.Count(r => r.Outcome == "succeeded") < 2; wait++)
        {
            await Task.Delay(500);
            runs = await RunsAsync(db, connectorId);
        }

        Assert.True(runs.Count(r => r is { Trigger: "schedule", Outcome: "succeeded" }) >= 2, hub.Output);
        var missing = await hub.Client.PostAsync("/api/connectors/no-such-connector/sync", null);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("no-such-connector", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
