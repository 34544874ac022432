using System.Text.Json.Nodes;
using Hub.Simulator;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Sync;

/// <summary>Each connector has its own resilience pipeline: one failing province neither stops nor slows the others.</summary>
public class ResilienceTests
{
    private sealed record Run(string Connector, string Outcome, DateTime Started, string? FailureSide);

    private static async Task<List<Run>> RunsAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand("select connector_id, outcome, started_at, failure_side from sync_run where trigger = 'schedule' order by started_at");
        await using var reader = await command.ExecuteReaderAsync();
        var runs = new List<Run>();
        while (await reader.ReadAsync())
        {
            runs.Add(new Run(reader.GetString(0), reader.GetString(1), reader.GetDateTime(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        }

        return runs;
    }

    [Fact]
    public async Task A_province_that_times_out_and_fails_does_not_hold_back_the_others_and_its_circuit_opens_then_closes_when_it_recovers()
    {
        var provinces = new[] { "sim-ok1", "sim-ok2", "sim-bad" }
            .Select((s, i) => new ProvinceOptions { SourceSystem = s, AgencyPrefix = "H8" + i, Dossiers = 200, Seed = 80 + i })
            .ToList();
        await using var simulator = await SimulatorHost.StartAsync(provinces);
        var bad = simulator["sim-bad"];
        bad.Faults.HangTime = TimeSpan.FromSeconds(30);
        bad.Faults.TimeoutRate = 0.4;
        bad.Faults.ServerErrorRate = 0.6;

        await using var db = await TestDatabase.CreateSchemaAsync("resilience");
        var folder = Directory.CreateTempSubdirectory("hub-connectors-").FullName;
        foreach (var province in provinces)
        {
            var registration = JsonNode.Parse(simulator.VendorRestConnectorJson(province.SourceSystem))!;
            registration["schedule"] = "*/2 * * * * *";
            var resilience = registration["resilience"]!;
            resilience["attemptTimeout"] = "00:00:01";
            resilience["totalTimeout"] = "00:00:20";
            resilience["maxRetries"] = 3;
            resilience["retryBaseDelay"] = "00:00:00.100";
            resilience["circuitMinimumThroughput"] = 4;
            resilience["circuitBreakDuration"] = "00:00:03";
            await File.WriteAllTextAsync(Path.Combine(folder, province.SourceSystem + ".json"), registration.ToJsonString());
        }

        await using var hub = HubProcess.Start(folder, new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = db.ConnectionString,
            ["Hub__Connectors__Directory"] = folder,
            ["Hub__Scheduler__SchemaName"] = "hf_res_" + Guid.NewGuid().ToString("N")[..8],
        });
        await hub.WaitReadyAsync(TimeSpan.FromSeconds(60));

        // While one province fails, the healthy ones keep succeeding run after run, on their schedule.
        var failingSince = DateTime.UtcNow;
        List<Run> runs = [];
        for (var wait = 0; wait < 120; wait++)
        {
            await Task.Delay(500);
            runs = await RunsAsync(db);
            if (new[] { "sim-ok1-rest", "sim-ok2-rest" }.All(c => runs.Count(r => r.Connector == c && r.Outcome == "succeeded") >= 4)
                && runs.Count(r => r.Connector == "sim-bad-rest" && r.Outcome == "failed") >= 2
                && hub.Output.Contains("sim-bad-rest: circuit opened", StringComparison.Ordinal))
            {
                break;
            }
        }

        var during = DateTime.UtcNow;
        foreach (var healthy in new[] { "sim-ok1-rest", "sim-ok2-rest" })
        {
            var succeeded = runs.Where(r => r.Connector == healthy && r.Outcome == "succeeded").ToList();
            Assert.True(succeeded.Count >= 4, $"{healthy}: {succeeded.Count} runs succeeded while sim-bad failed.\n{hub.Output}");

            // Runs start every couple of seconds: none waits for the failing province's retries and timeouts.
            var gaps = succeeded.Zip(succeeded.Skip(1), (a, b) => b.Started - a.Started).ToList();
            Assert.True(gaps.Max() < TimeSpan.FromSeconds(10), $"{healthy}: gaps between runs {string.Join(", ", gaps)}");
        }

        Assert.All(runs.Where(r => r.Connector == "sim-bad-rest" && r.Outcome == "failed"), r => Assert.Equal("source_unreachable", r.FailureSide));
        Assert.Contains("Connector sim-bad-rest: circuit opened", hub.Output, StringComparison.Ordinal);
        Assert.Equal(0, await SyncLedgerTests.CountAsync(db, "select count(*) from sync_run where connector_id <> 'sim-bad-rest' and outcome = 'failed'"));

        // The province recovers: the circuit lets a trial request through, closes, and the province is synced.
        bad.Faults.Clear();
        for (var wait = 0; wait < 120 && !(await RunsAsync(db)).Any(r => r.Connector == "sim-bad-rest" && r.Outcome == "succeeded" && r.Started > during); wait++)
        {
            await Task.Delay(500);
        }

        var badRuns = (await RunsAsync(db)).Where(r => r.Connector == "sim-bad-rest").ToList();
        Assert.True(badRuns.Any(r => r.Started > during && r.Outcome == "succeeded"), string.Join("\n", badRuns) + "\n" + hub.Output);
        Assert.Contains("Connector sim-bad-rest: circuit closed", hub.Output, StringComparison.Ordinal);
        Assert.Equal(bad.Truth.Changes.Count, await SyncLedgerTests.CountAsync(db, "select count(*) from dossier_change where source_system = 'sim-bad'"));
        Assert.True(during > failingSince);
    }
}

/// <summary>The number of retries a registration asks for is the number the connector's client makes, none included.</summary>
public class RetryCountTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task A_source_answering_errors_is_asked_once_plus_the_registrations_retries(int retries)
    {
        await using var simulator = await SimulatorHost.StartAsync(new ProvinceOptions { SourceSystem = "sim-retries", AgencyPrefix = "H88", Dossiers = 5 });
        simulator["sim-retries"].Faults.Down = true;
        var registration = RestSyncEndToEndTests.RegistrationFor(simulator, "sim-retries");
        registration = registration with { Resilience = registration.Resilience with { MaxRetries = retries, RetryBaseDelay = TimeSpan.FromMilliseconds(10) } };
        using var clients = new Hub.Worker.Sync.ConnectorHttpClients(Microsoft.Extensions.Logging.Abstractions.NullLogger<Hub.Worker.Sync.ConnectorHttpClients>.Instance);

        using var response = await clients.For(registration).Client.GetAsync(simulator.RevisionsAddress("sim-retries"));

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1 + retries, simulator["sim-retries"].Stats.Requests);
    }
}
