using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Core.Audit;
using Hub.Simulator;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Dashboard;

/// <summary>
/// An operator's work on a failing province, in a real browser against a real hub pulling a real simulated province every ten
/// seconds: the province's API goes down; the operator's overview, refreshing itself, marks it failing within one
/// schedule interval of the moment the freshness rule makes it failing; the operator opens it, reads why its runs fail,
/// pauses it with a reason, resumes it once the province is back, and sees it on time again after a successful run.
/// </summary>
public sealed class FailingProvinceScenarioTests : IAsyncLifetime
{
    private const string Source = "sim-scenario";
    private const string ConnectorId = Source + "-rest";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private SimulatorHost _simulator = null!;
    private NpgsqlDataSource _db = null!;
    private HubProcess _hub = null!;
    private string _work = "";

    private static string Screenshots => Directory.CreateDirectory(Path.Combine(RepoRoot.Path, "TestResults", "screenshots")).FullName;

    public async Task InitializeAsync()
    {
        _simulator = await SimulatorHost.StartAsync(new ProvinceOptions { SourceSystem = Source, AgencyPrefix = "H86", Dossiers = 60 });
        _db = await TestDatabase.CreateSchemaAsync("scenario");
        _work = Directory.CreateTempSubdirectory("hub-scenario-").FullName;
        var registration = JsonNode.Parse(_simulator.VendorRestConnectorJson(Source))!;
        registration["schedule"] = "*/10 * * * * *";
        // Fail fast while the province is down, and try again soon after it is back.
        registration["resilience"]!["maxRetries"] = 1;
        registration["resilience"]!["circuitBreakDuration"] = "00:00:02";
        await File.WriteAllTextAsync(Path.Combine(_work, Source + ".json"), registration.ToJsonString());
        _hub = HubProcess.Start(_work, new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = _db.ConnectionString,
            ["Hub__Connectors__Directory"] = _work,
            ["Hub__Scheduler__SchemaName"] = "hf_scenario_" + Guid.NewGuid().ToString("N")[..8],
            ["Hub__Dashboard__RefreshInterval"] = "00:00:01",
        });
        await _hub.WaitReadyAsync(TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
        await _simulator.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    private sealed record Verdict(string State, TimeSpan? Interval, DateTimeOffset? LastSuccessAt, DateTimeOffset? FailingAt);

    private async Task<Verdict> FreshnessAsync()
    {
        var all = await _hub.Client.GetFromJsonAsync<JsonElement>("/api/connectors/freshness");
        var mine = all.EnumerateArray().Single(v => v.GetProperty("connectorId").GetString() == ConnectorId);
        return mine.Deserialize<Verdict>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
    }

    private async Task<JsonElement> WaitForRunAsync(string outcome, DateTimeOffset after, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var runs = await _hub.Client.GetFromJsonAsync<JsonElement>($"/api/connectors/{ConnectorId}/runs?limit=20");
            foreach (var run in runs.EnumerateArray())
            {
                if (run.GetProperty("outcome").GetString() == outcome && run.GetProperty("startedAt").GetDateTimeOffset() > after)
                {
                    return run.Clone();
                }
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"no {outcome} run started after {after:O}:\n{runs}\n{_hub.Output}");
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task An_operator_sees_a_failing_province_pauses_it_with_a_reason_and_resumes_it_back_to_on_time()
    {
        var (operatorClient, operatorId) = await _hub.PrincipalClientAsync("scenario", new { role = "operator" });
        using var _ = operatorClient;
        var start = DateTimeOffset.UtcNow;
        await WaitForRunAsync("succeeded", start.AddMinutes(-1), TimeSpan.FromSeconds(90));

        var down = DateTimeOffset.UtcNow;
        _simulator[Source].Faults.Down = true;
        var failed = await WaitForRunAsync("failed", down, TimeSpan.FromSeconds(60));
        // From here no run can succeed, so the moment the rule makes the connector failing is fixed.
        var before = await FreshnessAsync();
        Assert.Equal(Interval, before.Interval);
        Assert.NotNull(before.FailingAt);

        var keyFile = Path.Combine(_work, "operator.key");
        await File.WriteAllTextAsync(keyFile, operatorClient.DefaultRequestHeaders.Authorization!.Parameter);
        var result = await RunScenarioAsync(keyFile);

        // Marked failing by the page's own refresh, within one interval of when the rule says failing, and not before.
        Assert.Contains(result.GetProperty("firstSeen").GetString(), new[] { "onTime", "late" });
        Assert.True(result.GetProperty("refreshedInPlace").GetBoolean(), "the overview reloaded instead of refreshing in place");
        var failingSeenAt = result.GetProperty("failingSeenAt").GetDateTimeOffset();
        Assert.InRange(failingSeenAt, before.FailingAt!.Value, before.FailingAt.Value + Interval);
        Assert.Contains("overdue", result.GetProperty("failingWhy").GetString(), StringComparison.Ordinal);
        // The connector page says why: the failed run's side and reason, as the ledger recorded it.
        Assert.Equal("failing", result.GetProperty("freshness").GetString());
        var reason = failed.GetProperty("failure").GetProperty("reason").GetString()!;
        Assert.Contains("503", reason, StringComparison.Ordinal);
        Assert.Contains(reason, result.GetProperty("failure").GetString(), StringComparison.Ordinal);
        Assert.Equal(("paused", "province API answers 503; vendor called"),
            (result.GetProperty("paused").GetProperty("lifecycle").GetString(), result.GetProperty("paused").GetProperty("reason").GetString()));
        Assert.Equal(("active", "vendor fixed their API"),
            (result.GetProperty("resumed").GetProperty("lifecycle").GetString(), result.GetProperty("resumed").GetProperty("reason").GetString()));
        // Back on time after a successful run that came after the resume, seen by the page's own refresh.
        Assert.True(result.GetProperty("recoveredInPlace").GetBoolean(), "the overview reloaded instead of refreshing in place");
        var resumedAt = result.GetProperty("resumedAt").GetDateTimeOffset();
        Assert.True(result.GetProperty("lastSuccess").GetDateTimeOffset() > resumedAt);
        var after = await FreshnessAsync();
        Assert.Equal("onTime", after.State);
        Assert.Empty(result.GetProperty("foreign").EnumerateArray());

        var log = new ExchangeLog(_db, TimeProvider.System);
        var steps = (await log.SearchAsync(new ExchangeSearch { Kind = ExchangeRecord.AdminKind, ConnectorId = ConnectorId, Limit = 100 }, CancellationToken.None))
            .OrderBy(e => e.Id).Select(e => (e.Action, e.Actor, e.Reason)).ToList();
        Assert.Equal(
            [("connector.paused", operatorId, "province API answers 503; vendor called"), ("connector.resumed", operatorId, "vendor fixed their API")],
            steps.Where(s => s.Action is "connector.paused" or "connector.resumed").ToList());
        foreach (var shot in new[] { "scenario-overview-failing.png", "scenario-connector-failing.png", "scenario-overview-recovered.png", "scenario-connector-recovered.png" })
        {
            Assert.True(new FileInfo(Path.Combine(Screenshots, shot)).Length > 10_000, shot);
        }
    }

    /// <summary>Runs the browser script, bringing the province back when it asks; its result.</summary>
    private async Task<JsonElement> RunScenarioAsync(string keyFile)
    {
        var start = new ProcessStartInfo("node", [
            Path.Combine(RepoRoot.Path, "tools", "browser-tests", "failing-province.mjs"), _hub.BaseAddress.ToString().TrimEnd('/'), keyFile, ConnectorId, Screenshots])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.Combine(RepoRoot.Path, "tools", "browser-tests"),
        };
        using var node = Process.Start(start)!;
        var errors = node.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        while (await node.StandardOutput.ReadLineAsync() is { } line)
        {
            lines.Add(line);
            if (line == """{"ask":"recover"}""")
            {
                _simulator[Source].Faults.Down = false;
                await node.StandardInput.WriteLineAsync("ok");
                await node.StandardInput.FlushAsync();
            }
        }

        await node.WaitForExitAsync();
        Assert.True(node.ExitCode == 0, $"the browser run failed:\n{string.Join('\n', lines)}\n{await errors}\n{_hub.Output}");
        return JsonDocument.Parse(lines[^1]).RootElement.Clone();
    }
}
