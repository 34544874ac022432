using System.Diagnostics;
using Hub.Simulator;
using Hub.Simulator.Portal;
using Hub.Tests.Infrastructure;
using Hub.Tests.Sync;
using Npgsql;
using Xunit.Abstractions;

namespace Hub.Tests.Bus;

/// <summary>
/// Three hub processes on one PostgreSQL database and one RabbitMQ virtual host, as a cluster behind a load balancer:
/// simulated provinces are pulled on schedules (each connector's run on one node at a time) and one pushes through the
/// national portal protocol spread over the nodes, while one node is killed (SIGKILL) and restarted twice. Nothing is
/// lost: the store ends equal to the provinces' truths, and a subscriber's view of the published events to the store.
/// </summary>
[Collection(HubNodesCollection.Name)]
public class ThreeNodeTests(ITestOutputHelper output)
{
    /// <summary>How long the load runs before the pushes end; the node is killed at a third and at two thirds of it.</summary>
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task Three_hubs_lose_nothing_while_one_of_them_is_killed_and_restarted_twice_under_pushes_and_pulls()
    {
        var clock = Stopwatch.StartNew();
        var window = new DateTimeOffset(2026, 8, 1, 0, 0, 0, TimeSpan.Zero);
        ProvinceOptions Province(string system, string prefix, int seed) => new()
        {
            SourceSystem = system,
            AgencyPrefix = prefix,
            Dossiers = 300,
            Seed = seed,
            Start = window,
            End = window.AddDays(20),
            RollbackShare = 0.05,
            // Small, slow pages keep the pulls going through the kills.
            Faults = new FaultOptions { Latency = TimeSpan.FromMilliseconds(500) },
        };
        await using var simulator = await SimulatorHost.StartAsync([Province("sim-n1", "H71", 71), Province("sim-n2", "H72", 72)]);
        var pulled = new[] { simulator["sim-n1"], simulator["sim-n2"] };
        var pushed = new SimulatedProvince(Province("sim-n3", "H73", 73) with { WholeSecondTimes = true, Faults = new FaultOptions() });
        const string username = "h73_motcua", password = "three-node-portal-secret";

        var broker = await TestRabbitMq.CreateVirtualHostAsync("nodes");
        await using var db = await TestDatabase.CreateSchemaAsync("three_nodes");
        var connectors = Directory.CreateTempSubdirectory("hub-nodes-connectors-").FullName;
        var works = Enumerable.Range(0, 3).Select(i => Directory.CreateTempSubdirectory($"hub-node-{i}-").FullName).ToArray();
        var nodes = new HubProcess?[3];
        try
        {
            foreach (var sim in pulled)
            {
                // Registered by file on every node; a schedule every 2 seconds, small pages.
                await File.WriteAllTextAsync(Path.Combine(connectors, sim.Options.SourceSystem + ".json"), simulator.VendorRestConnectorJson(sim.Options.SourceSystem)
                    .Replace("\"*/1 * * * *\"", "\"*/2 * * * * *\"", StringComparison.Ordinal)
                    .Replace("\"pageSize\": 1000", "\"pageSize\": 25", StringComparison.Ordinal));
            }

            var template = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Connectors", "national-portal.connector.json"));
            await File.WriteAllTextAsync(Path.Combine(connectors, "portal.json"), template
                .Replace("{{sourceSystem}}", pushed.Options.SourceSystem, StringComparison.Ordinal)
                .Replace("{{username}}", username, StringComparison.Ordinal)
                .Replace("{{password}}", password, StringComparison.Ordinal));

            var settings = new Dictionary<string, string>(broker.HubSettings(db))
            {
                ["Hub__Connectors__Directory"] = connectors,
                ["Hub__Scheduler__SchemaName"] = "hf_nodes_" + Guid.NewGuid().ToString("N")[..8],
                ["Hub__Scheduler__ScheduleRefresh"] = "00:00:02",
                ["Hub__Bus__DispatchBatchSize"] = "50",
                // A killed node's subscriptions are taken over by another after 5 s.
                ["Hub__Subscriptions__Lease"] = "00:00:05",
                ["Hub__Subscriptions__BatchTimeout"] = "00:00:03",
                ["Hub__Subscriptions__DeliveryInterval"] = "00:00:00.200",
            };

            // The subscriber's queue is bound before any node publishes; the webhook subscription exists before any node routes.
            await using var subscriber = await BusSubscriber.StartAsync(broker);
            await using var webhook = await WebhookSubscriber.StartAsync();
            await webhook.SubscribeAsync(db, "three-nodes-copy");
            for (var i = 0; i < 3; i++)
            {
                nodes[i] = HubProcess.Start(works[i], settings);
            }

            await Task.WhenAll(nodes.Select(n => n!.WaitReadyAsync(TimeSpan.FromSeconds(120))));
            output.WriteLine($"Three nodes ready after {clock.Elapsed.TotalSeconds:0.0} s.");

            // The pushes go round-robin over the nodes, as through a load balancer that sends a failed request to the next
            // node, paced to last at least the period: the dossier posts (most are sent again as updates) and the step posts.
            var posts = pushed.RevisionCount / 10 * 1.8 + PortalTruth.Of(pushed).Steps.Count / 10.0;
            using var balancer = new RoundRobin([.. nodes.Select(n => n!.BaseAddress)], Period / posts);
            using var client = new PortalSyncClient(pushed, nodes[0]!.BaseAddress, username, password, new PortalSyncOptions
            {
                RowsPerPost = 10,
                StepsPerPost = 10,
                DuplicateRate = 0.02,
                ReorderWindow = 20,
                Seed = 73,
            }, balancer);
            var load = Stopwatch.StartNew();
            var pushing = client.RunAsync(CancellationToken.None);

            // Node B is killed at a third and at two thirds of the period, and restarted each time.
            var killed = new List<(long Stored, long Pending)>();
            var restarted = new List<(Uri Address, TimeSpan ReadyAt)>();
            for (var k = 1; k <= 2; k++)
            {
                var at = Period * k / 3;
                if (load.Elapsed < at)
                {
                    await Task.WhenAny(pushing, Task.Delay(at - load.Elapsed));
                }

                Assert.False(pushing.IsCompleted, $"The pushes ended ({pushing.Status}) before kill {k}: {pushing.Exception}");
                nodes[1]!.Kill();
                var stored = await CountAsync(db, "select count(*) from dossier_change");
                var pending = await CountAsync(db, "select count(*) from outbox where sent_at is null");
                killed.Add((stored, pending));
                output.WriteLine($"Kill {k} of node B at {load.Elapsed.TotalSeconds:0.0} s: {stored} changes stored, {pending} events pending, " +
                    $"{balancer.Retried} pushes retried on another node so far.");
                await nodes[1]!.DisposeAsync();
                nodes[1] = HubProcess.Start(works[1], settings);
                await nodes[1]!.WaitReadyAsync(TimeSpan.FromSeconds(90));
                balancer.Replace(1, nodes[1]!.BaseAddress);
                restarted.Add((nodes[1]!.BaseAddress, load.Elapsed));
                output.WriteLine($"Node B ready again at {load.Elapsed.TotalSeconds:0.0} s.");
            }

            await pushing.WaitAsync(TimeSpan.FromSeconds(120));
            var pushedIn = load.Elapsed;

            // The pulls catch up: every revision of both pulled provinces is stored.
            List<(string System, int Changes, int Steps)> expected = [.. pulled.Select(p => (p.Options.SourceSystem, p.Truth.Changes.Count, p.Truth.Steps.Count))];
            for (var wait = 0; wait < 240 && !await CaughtUpAsync(db, expected); wait++)
            {
                await Task.Delay(500);
            }

            Assert.True(await CaughtUpAsync(db, expected), "The pulls did not catch up: " + await StoredBySourceAsync(db) + "\n" + nodes[0]!.Output);
            var pulledIn = load.Elapsed;
            for (var wait = 0; wait < 60 && await CountAsync(db, "select count(*) from sync_run where outcome = 'running' and started_at > now() - interval '1 minute'") > 0; wait++)
            {
                await Task.Delay(250);
            }

            for (var wait = 0; wait < 600 && await CountAsync(db, "select count(*) from outbox where sent_at is null") > 0; wait++)
            {
                await Task.Delay(100);
            }

            Assert.Equal(0L, await CountAsync(db, "select count(*) from outbox where sent_at is null"));
            await subscriber.WaitForStoredAsync(db, TimeSpan.FromSeconds(30));

            // The kills hit work in progress, and work went on after each.
            var total = await CountAsync(db, "select count(*) from dossier_change");
            Assert.True(killed[0].Stored < killed[1].Stored && killed[1].Stored < total,
                $"Stored at the kills: {killed[0].Stored}, {killed[1].Stored}; at the end {total}");
            // (Whether a kill finds events waiting in the outbox depends on timing: the dispatchers poll every 100 ms and
            // publish a claim at once. Kills in the middle of a dispatch are DispatcherCrashTests' subject.)
            output.WriteLine($"Outbox pending at the kills: {string.Join(", ", killed.Select(k => k.Pending))}");

            // Node B took pushes again once restarted (when the pushes went on for a while after it was ready).
            var servedByRestarted = restarted.Sum(r => balancer.ServedBy(r.Address));
            Assert.True(servedByRestarted > 0 || pushedIn - restarted[^1].ReadyAt < TimeSpan.FromSeconds(3),
                $"The restarted node B served no push, though the pushes went on until {pushedIn.TotalSeconds:0.0} s.");

            // Each connector ran on one node at a time: the runs that ended did not overlap.
            var runs = await RunsAsync(db);
            foreach (var connector in runs.GroupBy(r => r.Connector))
            {
                var ran = connector.Where(r => r.Outcome is "succeeded" or "failed").OrderBy(r => r.Started).ToList();
                for (var i = 1; i < ran.Count; i++)
                {
                    Assert.True(ran[i].Started >= ran[i - 1].Ended, $"Runs {ran[i - 1].Id} and {ran[i].Id} of {connector.Key} overlap.");
                }
            }

            var view = subscriber.View;
            output.WriteLine($"Pushes done at {pushedIn.TotalSeconds:0.0} s ({client.Stats.Posts} posts, {balancer.Retried} retried on another node; " +
                $"by node: {balancer.Counts()}); pulls caught up at {pulledIn.TotalSeconds:0.0} s; " +
                $"runs: {string.Join(", ", runs.GroupBy(r => r.Outcome).Select(g => $"{g.Count()} {g.Key}"))} on {runs.Select(r => r.Host).Distinct().Count()} processes.");
            output.WriteLine($"Stored: {total} changes, {await CountAsync(db, "select count(*) from dossier_step")} steps " +
                $"({await StoredBySourceAsync(db)}); subscriber: {view.Received} deliveries, {view.Applied} events applied, " +
                $"{view.Redelivered} redelivered; {clock.Elapsed.TotalSeconds:0} s in all.");

            var truth = await RestSyncEndToEndTests.TruthSnapshotAsync("three_nodes_truth",
                (pulled[0].Truth, "sim-vendor/1"), (pulled[1].Truth, "sim-vendor/1"), (PortalTruth.Of(pushed), PortalTruth.MappingVersion));
            var actual = await StoreSnapshot.TakeAsync(db);
            Assert.True(truth == actual, FirstDifference(truth, actual));
            await subscriber.AssertViewEqualsStoreAsync(db);

            // The hub's own delivery to a signed-webhook subscription, under the same kills: its view is the store too.
            await webhook.View.WaitForStoredAsync(db, TimeSpan.FromSeconds(60));
            output.WriteLine($"Webhook subscriber: {webhook.View.Received} events received, {webhook.View.Applied} applied, {webhook.View.Redelivered} redelivered.");
            await webhook.View.AssertEqualsStoreAsync(db);
            Assert.Empty(webhook.BadSignatures);
        }
        finally
        {
            foreach (var node in nodes)
            {
                if (node is not null)
                {
                    await node.DisposeAsync();
                }
            }

            foreach (var folder in works.Append(connectors))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static async Task<bool> CaughtUpAsync(NpgsqlDataSource db, List<(string System, int Changes, int Steps)> expected)
    {
        foreach (var (system, changes, steps) in expected)
        {
            if (await CountAsync(db, "select count(*) from dossier_change where source_system = $1", system) != changes
                || await CountAsync(db, "select count(*) from dossier_step where source_system = $1", system) != steps)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<string> StoredBySourceAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand(
            "select source_system, count(*) from dossier_change group by 1 order by 1");
        await using var reader = await command.ExecuteReaderAsync();
        var parts = new List<string>();
        while (await reader.ReadAsync())
        {
            parts.Add($"{reader.GetString(0)}: {reader.GetInt64(1)}");
        }

        return string.Join(", ", parts);
    }

    private sealed record Run(long Id, string Connector, string Host, string Outcome, DateTime Started, DateTime? Ended);

    private static async Task<List<Run>> RunsAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand("select id, connector_id, host, outcome, started_at, ended_at from sync_run order by started_at, id");
        await using var reader = await command.ExecuteReaderAsync();
        var runs = new List<Run>();
        while (await reader.ReadAsync())
        {
            runs.Add(new Run(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetDateTime(4),
                reader.IsDBNull(5) ? null : reader.GetDateTime(5)));
        }

        return runs;
    }

    private static async Task<long> CountAsync(NpgsqlDataSource db, string sql, params object[] parameters)
    {
        await using var command = db.CreateCommand(sql);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (var i = 0; i < Math.Min(e.Length, a.Length); i++)
        {
            if (e[i] != a[i])
            {
                return $"The store differs from the truths at line {i}:\n expected {e[i]}\n actual   {a[i]}";
            }
        }

        return $"The store differs from the truths: {e.Length} lines expected, {a.Length} stored.";
    }

    /// <summary>
    /// A load balancer in front of the nodes: each request goes to the next node in turn, at most one request started
    /// per <paramref name="interval"/> (which spreads the pushes over the test's period); a request that fails to reach
    /// a node (down, or killed while it was answering) is sent again to the next one.
    /// </summary>
    private sealed class RoundRobin(Uri[] backends, TimeSpan interval) : DelegatingHandler(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) })
    {
        private readonly Lock _lock = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan _nextStart;
        private readonly Dictionary<Uri, int> _served = [];
        private int _next;
        private int _retried;

        public int Retried => Volatile.Read(ref _retried);

        /// <summary>A node restarted on another address.</summary>
        public void Replace(int index, Uri address)
        {
            lock (_lock)
            {
                backends[index] = address;
            }
        }

        public int ServedBy(Uri address)
        {
            lock (_lock)
            {
                return _served.GetValueOrDefault(address);
            }
        }

        public string Counts()
        {
            lock (_lock)
            {
                return string.Join(", ", _served.Select(s => $"{s.Key.Port}: {s.Value}"));
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            TimeSpan wait;
            lock (_lock)
            {
                var now = _clock.Elapsed;
                wait = _nextStart > now ? _nextStart - now : TimeSpan.Zero;
                _nextStart = (_nextStart > now ? _nextStart : now) + interval;
            }

            await Task.Delay(wait, cancellationToken);
            var body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
            for (var attempt = 1; ; attempt++)
            {
                Uri backend;
                lock (_lock)
                {
                    backend = backends[_next++ % backends.Length];
                }

                var copy = new HttpRequestMessage(request.Method, new Uri(backend, request.RequestUri!.PathAndQuery));
                foreach (var header in request.Headers)
                {
                    copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }

                if (body is not null)
                {
                    copy.Content = new ByteArrayContent(body);
                    foreach (var header in request.Content!.Headers)
                    {
                        copy.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
                    }
                }

                try
                {
                    var response = await base.SendAsync(copy, cancellationToken);

                    // Read the whole answer here, so that a node killed while it was answering counts as not reached.
                    await response.Content.LoadIntoBufferAsync(cancellationToken);
                    lock (_lock)
                    {
                        _served[backend] = _served.GetValueOrDefault(backend) + 1;
                    }

                    return response;
                }
                catch (HttpRequestException) when (attempt < 10)
                {
                    copy.Dispose();
                    Interlocked.Increment(ref _retried);
                }
            }
        }
    }
}
