using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hub.Simulator;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Sync;

/// <summary>
/// Back-fills, their dry runs and retries of failed runs, through a real hub process against the in-process simulator
/// (docs/decisions/0017-backfill.md), and the connector page's chart of the runs.
/// </summary>
public sealed partial class BackfillTests
{
    /// <summary>The simulated province's dossiers live in September 2026: well in the past, whatever day the tests run.</summary>
    private static readonly DateTimeOffset Window = new(2026, 9, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The range back-filled: 4 to 6 September, midnights in Vietnam time (the connector's time zone).</summary>
    private static readonly (DateTimeOffset From, DateTimeOffset To) Range =
        (new DateTimeOffset(2026, 9, 4, 0, 0, 0, TimeSpan.FromHours(7)), new DateTimeOffset(2026, 9, 6, 0, 0, 0, TimeSpan.FromHours(7)));

    private const string RangeQuery = "from=2026-09-04&to=2026-09-06";

    /// <summary>A province, a database and a hub process with the province's rest-pull connector (central, active, 50 items a page).</summary>
    private sealed class Rig : IAsyncDisposable
    {
        private readonly string _folder;
        private readonly Dictionary<string, string> _settings;

        private Rig(SimulatorHost simulator, NpgsqlDataSource db, string folder, Dictionary<string, string> settings, HubProcess hub, string connectorId)
        {
            Simulator = simulator;
            Db = db;
            _folder = folder;
            _settings = settings;
            Hub = hub;
            ConnectorId = connectorId;
        }

        public SimulatorHost Simulator { get; }

        public SimulatedProvince Province => Simulator[Simulator.Provinces[0].SourceSystem];

        public NpgsqlDataSource Db { get; }

        public HubProcess Hub { get; private set; }

        /// <summary>Kills the hub process (as a crash would) and starts another on the same database.</summary>
        public async Task KillAndRestartAsync()
        {
            Hub.Kill();
            await Hub.DisposeAsync();
            Hub = HubProcess.Start(_folder, _settings);
            await Hub.WaitReadyAsync(TimeSpan.FromSeconds(90));
        }

        public string ConnectorId { get; }

        public static async Task<Rig> StartAsync(string name)
        {
            var simulator = await SimulatorHost.StartAsync(new ProvinceOptions
            {
                SourceSystem = "sim-" + name,
                AgencyPrefix = "H94",
                Dossiers = 300,
                Start = Window,
                End = Window.AddDays(10),
            });
            var db = await TestDatabase.CreateSchemaAsync(name.Replace('-', '_'));
            var folder = Directory.CreateTempSubdirectory("hub-connectors-").FullName;
            var registration = System.Text.Json.Nodes.JsonNode.Parse(simulator.VendorRestConnectorJson("sim-" + name))!;
            registration["schedule"] = "0 0 1 1 *";
            registration["configuration"]!["pageSize"] = 50;
            // A source that is down fails the run after one quick retry, and the circuit stays closed: the tests go down and up quickly.
            registration["resilience"]!["maxRetries"] = 1;
            registration["resilience"]!["circuitMinimumThroughput"] = 1000;
            await File.WriteAllTextAsync(Path.Combine(folder, "sim-" + name + ".json"), registration.ToJsonString());
            var settings = new Dictionary<string, string>
            {
                ["ConnectionStrings__Hub"] = db.ConnectionString,
                ["Hub__Connectors__Directory"] = folder,
                ["Hub__Scheduler__SchemaName"] = "hf_" + name.Replace('-', '_') + "_" + Guid.NewGuid().ToString("N")[..8],
            };
            var hub = HubProcess.Start(folder, settings);
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(90));
            return new Rig(simulator, db, folder, settings, hub, "sim-" + name + "-rest");
        }

        /// <summary>The simulator's changes (one per feed item, no faults) whose update time is in the range.</summary>
        public int ChangesInRange => Province.Truth.Changes.Count(c => c.EventTime >= Range.From && c.EventTime < Range.To);

        public async Task<long> CountAsync(string sql) => await SyncLedgerTests.CountAsync(Db, sql);

        public async Task<JsonElement> ConnectorAsync() =>
            (await Hub.Client.GetFromJsonAsync<JsonElement>("/api/connectors")).EnumerateArray().Single(c => c.GetProperty("id").GetString() == ConnectorId);

        public async Task<List<JsonElement>> RunsAsync() =>
            [.. (await Hub.Client.GetFromJsonAsync<JsonElement>($"/api/connectors/{ConnectorId}/runs")).EnumerateArray()];

        /// <summary>Waits for the run after <paramref name="after"/> runs to end, and returns it.</summary>
        public async Task<JsonElement> NextRunAsync(int after)
        {
            for (var wait = 0; wait < 240; wait++)
            {
                var runs = await RunsAsync();
                if (runs.Count > after && runs[0].GetProperty("outcome").GetString() != "running")
                {
                    return runs[0];
                }

                await Task.Delay(250);
            }

            throw new TimeoutException($"No run ended after {after} runs:\n{Hub.Output}");
        }

        public async ValueTask DisposeAsync()
        {
            await Hub.DisposeAsync();
            await Db.DisposeAsync();
            await Simulator.DisposeAsync();
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient client, string path)
    {
        using var response = await client.PostAsync(path, null);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static async Task<List<(string Action, string? Actor, string? Reason, JsonElement Detail)>> AdminEntriesAsync(Rig rig)
    {
        var log = new Core.Audit.ExchangeLog(rig.Db, TimeProvider.System);
        var entries = await log.SearchAsync(
            new Core.Audit.ExchangeSearch { Kind = Core.Audit.ExchangeRecord.AdminKind, ConnectorId = rig.ConnectorId, Limit = 100 }, CancellationToken.None);
        return [.. entries.Where(e => e.Action is not "connector.registered").OrderBy(e => e.Id).Select(e => (e.Action!, e.Actor, e.Reason, e.Detail is null ? default : JsonDocument.Parse(e.Detail).RootElement.Clone()))];
    }

    [Fact]
    public async Task A_dry_run_counts_the_range_and_stores_nothing_and_the_back_fill_stores_exactly_the_range_without_moving_the_cursor()
    {
        await using var rig = await Rig.StartAsync("backfill");
        var expected = rig.ChangesInRange;
        Assert.InRange(expected, 20, 200);

        // As if the connector had synced up to the end of September, and the store had lost what it read.
        const string cursor = """{"from":"2026-09-30T00:00:00+00:00"}""";
        await using (var set = rig.Db.CreateCommand($"update connector set cursor = '{cursor}' where id = '{rig.ConnectorId}'"))
        {
            Assert.Equal(1, await set.ExecuteNonQueryAsync());
        }

        var schema = new NpgsqlConnectionStringBuilder(rig.Db.ConnectionString).SearchPath!;
        var before = await DatabaseSnapshot.TakeAsync(rig.Db, schema);
        var (countStatus, count) = await PostAsync(rig.Hub.Client, $"/api/connectors/{rig.ConnectorId}/backfill?{RangeQuery}&dryRun=true&reason=vendor+outage+in+September");
        var afterCount = await DatabaseSnapshot.TakeAsync(rig.Db, schema);

        Assert.True(countStatus == HttpStatusCode.OK, $"{countStatus}: {count}\n{rig.Hub.Output}");
        Assert.Equal(expected, count.GetProperty("records").GetInt32());
        Assert.True(count.GetProperty("complete").GetBoolean());
        Assert.Equal(0, count.GetProperty("undated").GetInt32());
        Assert.Equal((Range.From, Range.To), (count.GetProperty("from").GetDateTimeOffset(), count.GetProperty("to").GetDateTimeOffset()));
        // Nothing of the store, the runs, the cursor or the quarantine moved; only the exchange log has the count's entry.
        var changed = before.Keys.Where(t => before[t] != afterCount.GetValueOrDefault(t)).ToList();
        Assert.Contains(schema + ".exchange_entry", changed);
        // (The key's last use is noted on each call.)
        Assert.True(changed.All(t => t.StartsWith(schema + ".exchange_", StringComparison.Ordinal) || t == schema + ".api_key"), DatabaseSnapshot.Differences(before, afterCount));
        Assert.Equal(0, await rig.CountAsync("select count(*) from dossier_change"));
        Assert.Equal(0, await rig.CountAsync("select count(*) from sync_run"));

        var (queuedStatus, queued) = await PostAsync(rig.Hub.Client, $"/api/connectors/{rig.ConnectorId}/backfill?{RangeQuery}&reason=vendor+outage+in+September");
        Assert.Equal(HttpStatusCode.Accepted, queuedStatus);
        Assert.Equal("backfill", queued.GetProperty("trigger").GetString());
        var run = await rig.NextRunAsync(0);

        Assert.Equal(("backfill", "succeeded"), (run.GetProperty("trigger").GetString(), run.GetProperty("outcome").GetString()));
        Assert.Equal(expected, run.GetProperty("counts").GetProperty("changesStored").GetInt32());
        Assert.Equal(expected, run.GetProperty("counts").GetProperty("recordsRead").GetInt32());
        Assert.Equal(expected, await rig.CountAsync("select count(*) from dossier_change"));
        var utcFrom = Range.From.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var utcTo = Range.To.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        Assert.Equal(expected, await rig.CountAsync($"select count(*) from dossier_change where event_time >= '{utcFrom}+00' and event_time < '{utcTo}+00'"));
        Assert.Equal(Range.From, run.GetProperty("range").GetProperty("from").GetDateTimeOffset());
        var connector = await rig.ConnectorAsync();
        Assert.Equal(cursor, connector.GetProperty("cursor").GetString());

        // Back-filled again, the same range stores nothing twice.
        var (againStatus, _) = await PostAsync(rig.Hub.Client, $"/api/connectors/{rig.ConnectorId}/backfill?{RangeQuery}&reason=checking+it+is+idempotent");
        Assert.Equal(HttpStatusCode.Accepted, againStatus);
        var again = await rig.NextRunAsync(1);
        Assert.Equal(("succeeded", 0, expected), (again.GetProperty("outcome").GetString(), again.GetProperty("counts").GetProperty("changesStored").GetInt32(),
            again.GetProperty("counts").GetProperty("unchanged").GetInt32()));
        Assert.Equal(expected, await rig.CountAsync("select count(*) from dossier_change"));

        // Each request is in the exchange log with its actor, reason and what it did.
        var entries = await AdminEntriesAsync(rig);
        Assert.Equal(
            [("backfill.counted", rig.Hub.PrincipalId, "vendor outage in September"), ("backfill.requested", rig.Hub.PrincipalId, "vendor outage in September"),
             ("backfill.requested", rig.Hub.PrincipalId, "checking it is idempotent")],
            entries.Select(e => (e.Action, e.Actor, e.Reason)).ToList());
        Assert.Equal(expected, entries[0].Detail.GetProperty("inRange").GetInt32());

        // Bad ranges are refused with what is wrong; another agency's admin does not see the connector.
        var now = DateTimeOffset.UtcNow;
        foreach (var (query, says) in new[]
        {
            ("from=2026-09-06&to=2026-09-04", "must be before 'to'"),
            ("from=2026-09-04&to=2026-09-04", "must be before 'to'"),
            ($"from=2026-09-04&to={now.AddDays(2):yyyy-MM-dd}", "is in the future"),
            ("from=2024-01-01&to=2026-09-04", "more than 366 days"),
            ("from=04/09/2026&to=2026-09-06", "is not a date"),
            ("to=2026-09-06", "'from' is missing"),
        })
        {
            var (status, problem) = await PostAsync(rig.Hub.Client, $"/api/connectors/{rig.ConnectorId}/backfill?{query}&dryRun=true&reason=x");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("Bad back-fill range", problem.GetProperty("title").GetString());
            Assert.Contains(says, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var (other, _) = await rig.Hub.PrincipalClientAsync("h95-admin", new { role = "province-admin", agency = "H95" });
        using (other)
        {
            var (otherStatus, otherProblem) = await PostAsync(other, $"/api/connectors/{rig.ConnectorId}/backfill?{RangeQuery}&dryRun=true&reason=x");
            var (otherRetry, _) = await PostAsync(other, $"/api/connectors/{rig.ConnectorId}/runs/{run.GetProperty("id").GetInt64()}/retry?reason=x");
            Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (otherStatus, otherRetry));
            Assert.Equal("Connector not found", otherProblem.GetProperty("title").GetString());
        }

        Assert.Equal(3, (await AdminEntriesAsync(rig)).Count);

        // The page's chart: this hour's bucket holds the two back-fills, with the lag at the end of the last one.
        var runs = await rig.RunsAsync();
        var svg = await ChartAsync(rig);
        Assert.Equal("sim-vendor/1", svg.MappingVersion);
        Assert.Equal(24, svg.Buckets.Count);
        foreach (var bucket in svg.Buckets)
        {
            var inBucket = runs.Where(r => r.GetProperty("endedAt").GetDateTimeOffset() is var at && at >= bucket.Start && at < bucket.End).ToList();
            Assert.Equal(inBucket.Count, bucket.Runs);
            Assert.Equal(inBucket.Sum(r => r.GetProperty("counts").GetProperty("changesStored").GetInt64()), bucket.Changes);
            var last = inBucket.OrderBy(r => r.GetProperty("endedAt").GetDateTimeOffset()).LastOrDefault(r => r.GetProperty("newestEventAt").ValueKind != JsonValueKind.Null);
            Assert.Equal(
                last.ValueKind == JsonValueKind.Undefined ? null
                    : (long)Math.Floor((last.GetProperty("endedAt").GetDateTimeOffset() - last.GetProperty("newestEventAt").GetDateTimeOffset()).TotalSeconds),
                bucket.LagSeconds);
        }

        Assert.Equal(expected, svg.Buckets.Sum(b => b.Changes));
        Assert.Equal(2, svg.Buckets.Sum(b => b.Runs));
        var newest = rig.Province.Truth.Changes.Where(c => c.EventTime >= Range.From && c.EventTime < Range.To).Max(c => c.EventTime);
        Assert.Equal(newest, runs[0].GetProperty("newestEventAt").GetDateTimeOffset(), TimeSpan.FromMilliseconds(1));

        // A paused connector is still counted and back-filled (its schedule rests, its source does not); a retired one is not.
        var countPath = $"/api/connectors/{rig.ConnectorId}/backfill?{RangeQuery}&dryRun=true&reason=x";
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(rig.Hub.Client, $"/api/connectors/{rig.ConnectorId}/lifecycle/pause?reason=vendor+maintenance")).Item1);
        var (pausedStatus, paused) = await PostAsync(rig.Hub.Client, countPath);
        Assert.Equal((HttpStatusCode.OK, expected), (pausedStatus, paused.GetProperty("records").GetInt32()));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(rig.Hub.Client, $"/api/connectors/{rig.ConnectorId}/lifecycle/retire?reason=replaced")).Item1);
        var (retiredStatus, retired) = await PostAsync(rig.Hub.Client, countPath);
        Assert.Equal(HttpStatusCode.Conflict, retiredStatus);
        Assert.Contains("is retired: only an active or paused pull connector is back-filled", retired.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_sync_and_a_failed_back_fill_are_retried_once_the_source_is_up_the_back_fill_from_where_it_stopped()
    {
        await using var rig = await Rig.StartAsync("retry");
        var expected = rig.ChangesInRange;
        Assert.InRange(expected, 120, 400);
        var faults = rig.Province.Faults;
        var client = rig.Hub.Client;
        var connector = rig.ConnectorId;
        async Task<(HttpStatusCode, JsonElement)> RetryAsync(JsonElement run, string reason) =>
            await PostAsync(client, $"/api/connectors/{connector}/runs/{run.GetProperty("id").GetInt64()}/retry?reason={Uri.EscapeDataString(reason)}");

        // The province is down: a sync fails, and so does its retry, which names it.
        faults.Set(new FaultOptions { Down = true });
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(client, $"/api/connectors/{connector}/sync?reason=first")).Item1);
        var failedSync = await rig.NextRunAsync(0);
        Assert.Equal("failed", failedSync.GetProperty("outcome").GetString());
        var (retriedStatus, retried) = await RetryAsync(failedSync, "still down?");
        Assert.Equal(HttpStatusCode.Accepted, retriedStatus);
        Assert.Equal(("manual", failedSync.GetProperty("id").GetInt64()), (retried.GetProperty("trigger").GetString(), retried.GetProperty("runId").GetInt64()));
        var failedRetry = await rig.NextRunAsync(1);
        Assert.Equal(("failed", failedSync.GetProperty("id").GetInt64()), (failedRetry.GetProperty("outcome").GetString(), failedRetry.GetProperty("retryOf").GetInt64()));

        // Up, but down again after two more pages: the back-fill stores two pages and fails.
        faults.Set(new FaultOptions { DownAfterFeedRequests = (int)rig.Province.Stats.FeedRequests + 2 });
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(client, $"/api/connectors/{connector}/backfill?{RangeQuery}&reason=outage")).Item1);
        var failedBackfill = await rig.NextRunAsync(2);
        Assert.Equal(("backfill", "failed"), (failedBackfill.GetProperty("trigger").GetString(), failedBackfill.GetProperty("outcome").GetString()));
        var storedBefore = failedBackfill.GetProperty("counts").GetProperty("changesStored").GetInt32();
        Assert.Equal(100, storedBefore);
        Assert.NotEqual(failedBackfill.GetProperty("cursorBefore").GetString(), failedBackfill.GetProperty("cursorAfter").GetString());

        // Up for good: the back-fill's retry goes on from the failed run's progress and stores the rest of the range, once.
        faults.Clear();
        var (backfillRetryStatus, backfillRetry) = await RetryAsync(failedBackfill, "source is back");
        Assert.Equal(HttpStatusCode.Accepted, backfillRetryStatus);
        Assert.Equal("backfill", backfillRetry.GetProperty("trigger").GetString());
        var resumed = await rig.NextRunAsync(3);
        Assert.Equal(("backfill", "succeeded"), (resumed.GetProperty("trigger").GetString(), resumed.GetProperty("outcome").GetString()));
        Assert.Equal(failedBackfill.GetProperty("id").GetInt64(), resumed.GetProperty("retryOf").GetInt64());
        Assert.Equal(failedBackfill.GetProperty("cursorAfter").GetString(), resumed.GetProperty("cursorBefore").GetString());
        Assert.Equal(failedBackfill.GetProperty("range").GetRawText(), resumed.GetProperty("range").GetRawText());
        Assert.Equal(expected - storedBefore, resumed.GetProperty("counts").GetProperty("changesStored").GetInt32());
        Assert.Equal(expected - storedBefore, resumed.GetProperty("counts").GetProperty("recordsRead").GetInt32());
        Assert.Equal(expected, await rig.CountAsync("select count(*) from dossier_change"));
        Assert.Null((await rig.ConnectorAsync()).GetProperty("cursor").GetString());

        // The latest failed sync is retried: a sync from the connector's cursor, which reads everything.
        Assert.Equal(HttpStatusCode.Accepted, (await RetryAsync(failedRetry, "source is back")).Item1);
        var synced = await rig.NextRunAsync(4);
        Assert.Equal(("manual", "succeeded", failedRetry.GetProperty("id").GetInt64()),
            (synced.GetProperty("trigger").GetString(), synced.GetProperty("outcome").GetString(), synced.GetProperty("retryOf").GetInt64()));
        Assert.Equal(rig.Province.Truth.Changes.Count, await rig.CountAsync("select count(*) from dossier_change"));

        // What a later run did is not retried; neither is a run that succeeded, nor another connector's run.
        foreach (var (run, says) in new[]
        {
            (failedSync, $"Run {synced.GetProperty("id").GetInt64()}, a later sync, succeeded"),
            (failedBackfill, $"Run {resumed.GetProperty("id").GetInt64()}, a later back-fill of the same range, succeeded"),
            (synced, "is succeeded: only a failed, abandoned or skipped run is retried"),
        })
        {
            var (status, problem) = await RetryAsync(run, "again");
            Assert.Equal(HttpStatusCode.Conflict, status);
            Assert.Contains(says, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var (unknown, _) = await PostAsync(client, $"/api/connectors/{connector}/runs/999999/retry?reason=x");
        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.Equal(5, (await rig.RunsAsync()).Count);

        // Each retry is in the exchange log with its actor and reason, naming the run it retried.
        var retries = (await AdminEntriesAsync(rig)).Where(e => e.Action == "run.retried").ToList();
        Assert.Equal(
            [(failedSync.GetProperty("id").GetInt64(), "still down?"), (failedBackfill.GetProperty("id").GetInt64(), "source is back"), (failedRetry.GetProperty("id").GetInt64(), "source is back")],
            retries.Select(e => (e.Detail.GetProperty("runId").GetInt64(), e.Reason!)).ToList());
        Assert.All(retries, e => Assert.Equal(rig.Hub.PrincipalId, e.Actor));
    }

    [Fact]
    public async Task A_back_fill_killed_with_its_hub_process_resumes_from_its_own_progress_and_stores_the_range_once()
    {
        await using var rig = await Rig.StartAsync("backfill-crash");
        var expected = rig.ChangesInRange;
        // Slow pages, so that the process is killed in the middle of the range.
        rig.Province.Faults.Set(new FaultOptions { Latency = TimeSpan.FromMilliseconds(700) });
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(rig.Hub.Client, $"/api/connectors/{rig.ConnectorId}/backfill?{RangeQuery}&reason=outage")).Item1);
        for (var wait = 0; wait < 200 && await rig.CountAsync("select coalesce(max(pages), 0)::bigint from sync_run where outcome = 'running'") < 1; wait++)
        {
            await Task.Delay(100);
        }

        await rig.KillAndRestartAsync();
        var killed = Assert.Single(await rig.RunsAsync());
        Assert.Equal("running", killed.GetProperty("outcome").GetString());
        var storedBeforeKill = killed.GetProperty("counts").GetProperty("changesStored").GetInt32();
        Assert.InRange(storedBeforeKill, 50, expected - 1);
        Assert.Equal(storedBeforeKill, await rig.CountAsync("select count(*) from dossier_change"));

        // The same back-fill asked again (as the scheduler does with the job of a dead process) goes on where the killed one stopped.
        rig.Province.Faults.Clear();
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(rig.Hub.Client, $"/api/connectors/{rig.ConnectorId}/backfill?{RangeQuery}&reason=again")).Item1);
        var resumed = await rig.NextRunAsync(1);
        var runs = await rig.RunsAsync();

        Assert.Equal(("backfill", "succeeded"), (resumed.GetProperty("trigger").GetString(), resumed.GetProperty("outcome").GetString()));
        Assert.Equal(killed.GetProperty("id").GetInt64(), resumed.GetProperty("retryOf").GetInt64());
        Assert.Equal(killed.GetProperty("cursorAfter").GetString(), resumed.GetProperty("cursorBefore").GetString());
        Assert.Equal(expected - storedBeforeKill, resumed.GetProperty("counts").GetProperty("recordsRead").GetInt32());
        Assert.Equal(expected - storedBeforeKill, resumed.GetProperty("counts").GetProperty("changesStored").GetInt32());
        Assert.Equal(expected, await rig.CountAsync("select count(*) from dossier_change"));
        Assert.Equal("abandoned", runs.Single(r => r.GetProperty("id").GetInt64() == killed.GetProperty("id").GetInt64()).GetProperty("outcome").GetString());
        Assert.Null((await rig.ConnectorAsync()).GetProperty("cursor").GetString());
    }

    private sealed record Bucket(DateTimeOffset Start, DateTimeOffset End, int Runs, long Changes, long? LagSeconds);

    /// <summary>The connector page's activity chart, as a signed-in operator gets it: its mapping version and its buckets' values.</summary>
    private static async Task<(string MappingVersion, List<Bucket> Buckets)> ChartAsync(Rig rig)
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = rig.Hub.BaseAddress };
        var form = await browser.GetStringAsync("/ui/login");
        var token = Regex.Match(form, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        using (var signIn = await browser.PostAsync("/ui/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = rig.Hub.Client.DefaultRequestHeaders.Authorization!.Parameter!,
            ["__RequestVerificationToken"] = token,
        })))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        }

        var html = await browser.GetStringAsync($"/ui/connectors/{rig.ConnectorId}");
        var svg = SvgPattern().Match(html);
        Assert.True(svg.Success, html);
        var buckets = BucketPattern().Matches(svg.Value).Select(m => new Bucket(
            DateTimeOffset.Parse(m.Groups["start"].Value, CultureInfo.InvariantCulture),
            DateTimeOffset.Parse(m.Groups["end"].Value, CultureInfo.InvariantCulture),
            int.Parse(m.Groups["runs"].Value, CultureInfo.InvariantCulture),
            long.Parse(m.Groups["changes"].Value, CultureInfo.InvariantCulture),
            m.Groups["lag"].Value.Length == 0 ? null : long.Parse(m.Groups["lag"].Value, CultureInfo.InvariantCulture))).ToList();
        return (Regex.Match(svg.Value, "data-mapping-version=\"([^\"]*)\"").Groups[1].Value, buckets);
    }

    [GeneratedRegex("<svg id=\"activity\".*?</svg>", RegexOptions.Singleline)]
    private static partial Regex SvgPattern();

    [GeneratedRegex("<g class=\"bucket\" data-start=\"(?<start>[^\"]+)\" data-end=\"(?<end>[^\"]+)\" data-runs=\"(?<runs>\\d+)\"\\s+data-changes=\"(?<changes>\\d+)\" data-lag-seconds=\"(?<lag>-?\\d*)\"")]
    private static partial Regex BucketPattern();
}
