using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Simulator;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Telemetry;

/// <summary><c>GET /metrics</c> of a real hub process: the named metrics, and their values moving with a sync.</summary>
public class MetricsTests
{
    private static async Task<(string Folder, string ConnectorId)> ConnectorFolderAsync(SimulatorHost simulator, string sourceSystem, int pageSize = 1000)
    {
        var folder = Directory.CreateTempSubdirectory("hub-metrics-").FullName;
        // A schedule that never comes in the test: the only run is the one the test asks for.
        await File.WriteAllTextAsync(Path.Combine(folder, sourceSystem + ".json"), simulator.VendorRestConnectorJson(sourceSystem)
            .Replace("\"*/1 * * * *\"", "\"0 0 1 1 *\"", StringComparison.Ordinal)
            .Replace("\"pageSize\": 1000", $"\"pageSize\": {pageSize}", StringComparison.Ordinal));
        return (folder, sourceSystem + "-rest");
    }

    private static Dictionary<string, string> Settings(NpgsqlDataSource db, string connectors, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = db.ConnectionString,
            ["Hub__Connectors__Directory"] = connectors,
            ["Hub__Scheduler__SchemaName"] = "hf_metrics_" + Guid.NewGuid().ToString("N")[..8],
            ["Hub__Telemetry__GaugeRefresh"] = "00:00:01",
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static async Task<IReadOnlyList<PrometheusSample>> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return PrometheusText.Parse(text);
    }

    [Fact]
    public async Task A_sync_moves_the_run_change_and_record_counters_and_every_connector_gauge_is_scraped()
    {
        // Small pages served slowly: the run takes seconds, so scrapes see it in progress.
        await using var simulator = await SimulatorHost.StartAsync(new ProvinceOptions
        {
            SourceSystem = "sim-metrics",
            AgencyPrefix = "H81",
            Dossiers = 300,
            Faults = new FaultOptions { Latency = TimeSpan.FromMilliseconds(200) },
        });
        await using var db = await TestDatabase.CreateSchemaAsync("metrics");
        var (folder, id) = await ConnectorFolderAsync(simulator, "sim-metrics", pageSize: 50);
        await using var hub = HubProcess.Start(folder, Settings(db, folder));
        await hub.WaitReadyAsync(TimeSpan.FromSeconds(60));
        var connector = ("connector", id);

        // Before any run: no run or change counted for the connector; its gauges are there (no lag yet: nothing stored).
        var before = await ScrapeAsync(hub.Client);
        var runsBefore = before.Value("hub_sync_runs_total", connector, ("outcome", "succeeded")) ?? 0;
        var changesBefore = before.Value("hub_sync_changes_total", connector) ?? 0;
        var recordsBefore = before.Value("hub_sync_records_total", connector) ?? 0;
        Assert.Equal(0, before.Value("hub_quarantine_open", connector));
        Assert.Equal(0, before.Value("hub_connector_circuit", connector));
        Assert.Null(before.Value("hub_connector_lag_seconds", connector));

        using (var sync = await hub.Client.PostAsync($"/api/connectors/{id}/sync?reason=metrics", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, sync.StatusCode);
        }

        // Scraped during the run: records and changes climb page by page before the run is counted.
        IReadOnlyList<PrometheusSample> after = before;
        var seenDuring = new List<double>();
        for (var wait = 0; wait < 300 && (after.Value("hub_sync_runs_total", connector, ("outcome", "succeeded")) ?? 0) <= runsBefore; wait++)
        {
            await Task.Delay(200);
            after = await ScrapeAsync(hub.Client);
            if ((after.Value("hub_sync_runs_total", connector, ("outcome", "succeeded")) ?? 0) == runsBefore)
            {
                seenDuring.Add(after.Value("hub_sync_records_total", connector) ?? 0);
            }
        }

        Assert.True(seenDuring.Distinct().Count(v => v > recordsBefore) >= 2,
            $"Records counted during the run: {string.Join(", ", seenDuring)}");

        // The run ended succeeded once, and the counters moved by exactly what the run recorded.
        Assert.True(after.Value("hub_sync_runs_total", connector, ("outcome", "succeeded")) == runsBefore + 1, hub.Output);
        var (changesStored, recordsRead, quarantined) = await RunCountsAsync(db, id);
        Assert.True(changesStored > 0);
        Assert.Equal(simulator["sim-metrics"].Truth.Changes.Count, changesStored);
        Assert.Equal(changesBefore + changesStored, after.Value("hub_sync_changes_total", connector));
        Assert.Equal(recordsBefore + recordsRead, after.Value("hub_sync_records_total", connector));

        // The gauges, read again after GaugeRefresh: the lag of the newest event stored, the open quarantine, a closed circuit.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        after = await ScrapeAsync(hub.Client);
        var newest = simulator["sim-metrics"].Truth.Changes.Max(c => c.EventTime);
        var lag = after.Value("hub_connector_lag_seconds", connector);
        Assert.NotNull(lag);
        Assert.InRange(lag.Value, (DateTimeOffset.UtcNow - newest).TotalSeconds - 60, (DateTimeOffset.UtcNow - newest).TotalSeconds + 5);
        Assert.Equal(quarantined, after.Value("hub_quarantine_open", connector));
        Assert.Equal(0, after.Value("hub_connector_circuit", connector));

        // HTTP: ASP.NET Core's server metrics and HttpClient's (the connector's calls to the simulator).
        Assert.Contains(after, s => s.Name.StartsWith("http_server_request_duration_seconds", StringComparison.Ordinal));
        Assert.Contains(after, s => s.Name.StartsWith("http_client_request_duration_seconds", StringComparison.Ordinal));

        // No dossier code in any label.
        var codes = simulator["sim-metrics"].Truth.Changes.Select(c => c.DossierCode).ToHashSet(StringComparer.Ordinal);
        Assert.DoesNotContain(after.SelectMany(s => s.Labels.Values), codes.Contains);
    }

    [Fact]
    public async Task A_failing_source_counts_a_failed_run_and_its_circuit_gauge_reads_open()
    {
        await using var simulator = await SimulatorHost.StartAsync(new ProvinceOptions { SourceSystem = "sim-metrics-down", AgencyPrefix = "H84", Dossiers = 20 });
        simulator["sim-metrics-down"].Faults.ServerErrorRate = 1.0;
        await using var db = await TestDatabase.CreateSchemaAsync("metrics_down");
        var folder = Directory.CreateTempSubdirectory("hub-metrics-").FullName;
        var registration = System.Text.Json.Nodes.JsonNode.Parse(simulator.VendorRestConnectorJson("sim-metrics-down"))!;
        registration["schedule"] = "0 0 1 1 *";
        registration["resilience"]!["maxRetries"] = 4;
        registration["resilience"]!["circuitMinimumThroughput"] = 3;
        registration["resilience"]!["circuitBreakDuration"] = "00:05:00";
        await File.WriteAllTextAsync(Path.Combine(folder, "sim-metrics-down.json"), registration.ToJsonString());
        await using var hub = HubProcess.Start(folder, Settings(db, folder));
        await hub.WaitReadyAsync(TimeSpan.FromSeconds(60));
        var connector = ("connector", "sim-metrics-down-rest");
        Assert.Equal(0, (await ScrapeAsync(hub.Client)).Value("hub_connector_circuit", connector));

        using (var sync = await hub.Client.PostAsync("/api/connectors/sim-metrics-down-rest/sync?reason=metrics", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, sync.StatusCode);
        }

        var scraped = await ScrapeAsync(hub.Client);
        for (var wait = 0; wait < 120 && (scraped.Value("hub_sync_runs_total", connector, ("outcome", "failed")) is null
            || scraped.Value("hub_connector_circuit", connector) != 2); wait++)
        {
            await Task.Delay(500);
            scraped = await ScrapeAsync(hub.Client);
        }

        Assert.True(scraped.Value("hub_sync_runs_total", connector, ("outcome", "failed")) == 1, hub.Output);
        Assert.Null(scraped.Value("hub_sync_runs_total", connector, ("outcome", "succeeded")));
        Assert.Equal(2, scraped.Value("hub_connector_circuit", connector));
    }

    [Fact]
    public async Task Metrics_need_a_monitor_key_unless_the_anonymous_option_is_on()
    {
        await using var simulator = await SimulatorHost.StartAsync(new ProvinceOptions { SourceSystem = "sim-metrics-auth", AgencyPrefix = "H82", Dossiers = 10 });
        await using var db = await TestDatabase.CreateSchemaAsync("metrics_auth");
        var (folder, _) = await ConnectorFolderAsync(simulator, "sim-metrics-auth");
        await using (var hub = HubProcess.Start(folder, Settings(db, folder)))
        {
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(60));
            using var anonymous = new HttpClient { BaseAddress = hub.BaseAddress };
            using var refused = await anonymous.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Contains("needs an API key", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);

            // A province-admin is not a monitor: 403.
            using var provinceAdmin = await ClientWithGrantAsync(hub, new { role = "province-admin", agency = "H82" });
            using var forbidden = await provinceAdmin.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.NotEmpty(await ScrapeAsync(hub.Client));
        }

        await using (var open = HubProcess.Start(folder, Settings(db, folder, ("Hub__Telemetry__MetricsAnonymous", "true"))))
        {
            await open.WaitReadyAsync(TimeSpan.FromSeconds(60));
            using var anonymous = new HttpClient { BaseAddress = open.BaseAddress };
            Assert.Contains(await ScrapeAsync(anonymous), s => s.Name == "hub_connector_circuit");
        }
    }

    private static async Task<HttpClient> ClientWithGrantAsync(HubProcess hub, object grant)
    {
        var id = "metrics-" + Guid.NewGuid().ToString("N")[..8];
        using var created = await hub.Client.PostAsJsonAsync("/api/principals", new { id, displayName = id, roles = new[] { grant } });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        using var key = await hub.Client.PostAsJsonAsync($"/api/principals/{id}/keys", new { description = "test", expiresAt = DateTimeOffset.UtcNow.AddDays(1) });
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        var client = new HttpClient { BaseAddress = hub.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", (await key.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        return client;
    }

    private static async Task<(long Changes, long Records, long Quarantined)> RunCountsAsync(NpgsqlDataSource db, string connectorId)
    {
        await using var command = db.CreateCommand(
            "select changes_stored, records_read, (select count(*) from quarantined_record where connector_id = $1 and resolved_at is null) from sync_run where connector_id = $1 and outcome = 'succeeded'");
        command.Parameters.Add(new() { Value = connectorId });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var counts = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        Assert.False(await reader.ReadAsync(), "more than one succeeded run");
        return counts;
    }
}
