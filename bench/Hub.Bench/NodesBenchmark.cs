using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors.Mapping;
using Hub.Contracts;
using Hub.Core.Postgres;
using Hub.Core.Store;
using Hub.Core.Sync;
using Hub.Simulator.Broker;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hub.Bench;

/// <summary>
/// Several real hub processes sharing one PostgreSQL cluster and one RabbitMQ node, fed by signed json-webhook pushes
/// (round-robin over the nodes) and watched by a MassTransit subscriber in this process: the latency from a pushed
/// change to the subscriber's receipt of its <see cref="DossierStatusChanged"/> at a fixed, moderate load, and the
/// throughput of the same workload with one node and with three, with each side's CPU cost per change.
/// </summary>
internal static class NodesBenchmark
{
    public const string Heading = "## Nodes: push-to-subscriber latency and scale-out";

    private const string BootstrapKey = "hub-bench-bootstrap-admin-key-0123456789abcdef";

    private const string MappingVersion = "bench-nodes/1";

    /// <summary>Changes per dossier in the throughput workload (statuses 1 to 4, an hour apart).</summary>
    private const int ChangesPerDossier = 4;

    /// <summary>Seconds of latency load before the measured ones, on each configuration's fresh nodes.</summary>
    private const int WarmUpSeconds = 5;

    /// <summary>Seconds the nodes are watched doing nothing, for their idle CPU.</summary>
    private const int IdleSeconds = 10;

    /// <summary>
    /// Changes per dossier of a back-fill: the sync benchmark's simulated provinces (4 × 25,000 dossiers over 30 days)
    /// have 456,765 changes for 100,000 dossiers.
    /// </summary>
    private const double BackfillChangesPerDossier = 4.57;

    /// <summary>Linux's clock ticks per second for /proc/*/stat times (USER_HZ, 100 on every common architecture).</summary>
    private const double ClockTicks = 100;

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>The run before the dispatcher published a claim's events at once, for comparison.</summary>
    private const string BeforeConcurrentPublish =
        "Before the outbox dispatcher published a claim's events at once (it awaited each broker confirmation in turn), the same command " +
        "measured (2026-11-24 00:05 UTC, load average 16 at start and up to 41 during the run): 529 changes/s end to end with 1 node and 861 with 3 " +
        "(ratio 1.63: three dispatchers waiting side by side), hub CPU 0.56 ms and RabbitMQ CPU 0.41 ms per change, latency p50/p99 749/2314 ms " +
        "(3 nodes, default interval) and 12151/21977 ms with a 100 ms interval (measured while the load average was above 40).";

    private static readonly DateTimeOffset T0 = new(2026, 9, 1, 0, 0, 0, TimeSpan.Zero);

    public static async Task RunAsync(BenchOptions o)
    {
        var load = SyncBenchmark.LoadAverage();
        Console.WriteLine(string.Create(C, $"1-minute load average at start: {load:F2} ({Environment.ProcessorCount} cores)"));
        var work = Directory.CreateTempSubdirectory("hub-bench-nodes-").FullName;
        var pgOptions = new LocalPostgresOptions { Directory = Path.Combine("/var/tmp", $"hub-bench-{Guid.NewGuid():N}"), Durable = true };
        pgOptions.Settings["shared_buffers"] = "1GB";
        pgOptions.Settings["max_wal_size"] = "8GB";
        pgOptions.Settings["checkpoint_timeout"] = "30min";
        var server = await LocalPostgres.StartAsync(pgOptions, NullLogger.Instance, CancellationToken.None);
        try
        {
            await using var admin = NpgsqlDataSource.Create(server.ConnectionString);
            var serverVersion = (string)(await ScalarAsync(admin, "show server_version"))!;
            var rabbit = await LocalRabbitMq.StartAsync("hub-bench-rabbitmq-", TimeSpan.FromSeconds(120));
            Console.WriteLine(string.Create(C, $"PostgreSQL {serverVersion} and a RabbitMQ node (up in {rabbit.StartedIn.TotalSeconds:F1} s) started"));
            var broker = await rabbit.CreateVirtualHostAsync("bench");
            var book = new ReceiptBook();
            await using var subscriber = await StartSubscriberAsync(broker, book);

            var throughputBatches = ThroughputBatches(o);
            var expected = throughputBatches.Sum(b => b.Count);
            // Rounds alternate the order (1 then 3, 3 then 1) so that outside load drifting over the run weighs on both alike.
            var ones = new List<Outcome>();
            var threes = new List<Outcome>();
            var shorts = new List<Outcome>();
            for (var round = 0; round < o.Rounds; round++)
            {
                foreach (var nodes in round % 2 == 0 ? new[] { 1, 3 } : [3, 1])
                {
                    var outcome = await RunConfigurationAsync(o, server, admin, rabbit, broker, book, work, nodes, $"n{nodes}r{round + 1}", o.DispatchInterval, throughputBatches);
                    (nodes == 1 ? ones : threes).Add(outcome);
                }

                if (o.ShortInterval is { } interval)
                {
                    shorts.Add(await RunConfigurationAsync(o, server, admin, rabbit, broker, book, work, nodes: 3, $"n3s{round + 1}", interval, throughput: null));
                }
            }

            // Outside load only ever slows a run down: each configuration's figure is its best round.
            var one = ones.MaxBy(r => r.DeliveredRate)!;
            var three = threes.MaxBy(r => r.DeliveredRate)!;
            var oneLatency = ones.Select(r => r.Latency!).MinBy(l => l.P99)!;
            var latency = threes.Select(r => r.Latency!).MinBy(l => l.P99)!;
            var shortInterval = shorts.Count == 0 ? null : shorts.MinBy(r => r.Latency!.P99);

            // PostgreSQL's write ceiling on this machine in the same run: raw binary COPY of the throughput workload's rows.
            var copyRate = await CopyBaselineAsync(server, admin, three.Database, throughputBatches);

            var ratio = three.DeliveredRate / one.DeliveredRate;
            var peak = o.BackfillDossiers * BackfillChangesPerDossier / (o.BackfillMinutes * 60.0);
            var nodeCpuMs = three.NodeCpuSeconds / three.Changes * 1000;
            var nodesExact = peak * nodeCpuMs / 1000 / o.NodeCores;
            var pgCpuMs = three.PostgresCpuSeconds / three.Changes * 1000;
            var pgCores = peak * pgCpuMs / 1000;
            var figures = new List<string>
            {
                string.Create(C, $"push-to-subscriber p50 ms: {latency.P50:F0}"),
                string.Create(C, $"push-to-subscriber p99 ms: {latency.P99:F0}"),
                string.Create(C, $"1-node push-to-subscriber p50 ms: {oneLatency.P50:F0}"),
                string.Create(C, $"1-node push-to-subscriber p99 ms: {oneLatency.P99:F0}"),
            };
            if (shortInterval is not null)
            {
                figures.Add(string.Create(C, $"push-to-subscriber p50 ms with DispatchInterval {o.ShortInterval}: {shortInterval.Latency!.P50:F0}"));
                figures.Add(string.Create(C, $"push-to-subscriber p99 ms with DispatchInterval {o.ShortInterval}: {shortInterval.Latency.P99:F0}"));
            }

            figures.AddRange(
            [
                string.Create(C, $"1node end-to-end changes/s: {one.DeliveredRate:F0}"),
                string.Create(C, $"3node end-to-end changes/s: {three.DeliveredRate:F0}"),
                string.Create(C, $"1node stored changes/s: {one.StoredRate:F0}"),
                string.Create(C, $"3node stored changes/s: {three.StoredRate:F0}"),
                string.Create(C, $"3node/1node ratio: {ratio:F2}"),
                string.Create(C, $"3node/1node stored ratio: {three.StoredRate / one.StoredRate:F2}"),
                string.Create(C, $"node CPU ms per change: {nodeCpuMs:F2}"),
                string.Create(C, $"1node CPU ms per change: {one.NodeCpuSeconds / one.Changes * 1000:F2}"),
                string.Create(C, $"idle CPU per node (cores): {threes.Average(r => r.IdleCoresPerNode):F3}"),
                string.Create(C, $"PostgreSQL CPU ms per change: {pgCpuMs:F2}"),
                string.Create(C, $"RabbitMQ CPU ms per change: {three.RabbitCpuSeconds / three.Changes * 1000:F2}"),
                string.Create(C, $"PostgreSQL COPY ceiling rows/s: {copyRate:F0}"),
                string.Create(C, $"national back-fill peak changes/s: {peak:F0}"),
                string.Create(C, $"nodes for national back-fill peak: {Math.Max(1, Math.Ceiling(nodesExact)):F0}"),
                string.Create(C, $"PostgreSQL cores at national back-fill peak: {pgCores:F1}"),
            ]);
            Console.WriteLine();
            foreach (var line in figures)
            {
                Console.WriteLine(line);
            }

            if (o.ResultsFile is { } file)
            {
                var args = o.CommandArguments();
                var loadNote = load is { } l ? string.Create(C, $", 1-minute load average {l:F2} at start{(l >= Environment.ProcessorCount / 2.0 ? " (other processes were busy on the machine)" : "")}") : "";
                var limit = peak < copyRate && pgCores <= o.NodeCores
                    ? "PostgreSQL is not the limit at that peak"
                    : "PostgreSQL is the limit at that peak";
                List<string> section =
                [
                    Heading,
                    "",
                    "Real hub processes (`Hub.Worker.dll`, `Hub__Bus__Transport=RabbitMq`, every other setting at its default) sharing one freshly",
                    "created, durable PostgreSQL cluster and one throwaway RabbitMQ node, all on this machine's cores; signed json-webhook",
                    "pushes sent round-robin over the nodes; a MassTransit subscriber in the benchmark process consuming",
                    "`DossierStatusChanged` from a durable queue of its own, bound before the first push.",
                    "",
                    "Command:",
                    "",
                    "```",
                    $"dotnet run -c Release --project bench/Hub.Bench -- --scenario nodes{args} --results {file}",
                    "```",
                    "",
                    string.Concat(
                        I($"Each configuration ran in {o.Rounds} rounds, alternating the order (1 then 3 nodes, then 3 then 1), and each run of a configuration gets a new database (the hubs migrate it), {o.Connectors} json-webhook connectors registered, submitted, approved and activated through the API (two operator principals made with the bootstrap admin key), then: ")
                        + I($"(1) latency: {o.LatencyRate} changes/s for {o.LatencySeconds} s in pushes of {o.LatencyBatch} (new dossiers), open loop, each change timed from just before its push request is sent to the subscriber's first receipt of its event (matched by source system, native id and status); ")
                        + I($"(2) throughput: {expected:N0} changes ({expected / ChangesPerDossier:N0} dossiers × {ChangesPerDossier} statuses) in signed pushes of {o.NodeBatch} sent by {o.Pushers} concurrent pushers, as fast as the nodes take them; end to end = until the subscriber has received every event (the `3node/1node ratio`), stored = until the last push was answered 200 (every change committed with its outbox row; the dispatchers publish meanwhile). ")
                        + I($"Outside load only ever slows a run down, so each printed figure is the configuration's best round (throughput and CPU from its fastest end-to-end round, latency from its lowest p99); the table shows every round. ")
                        + I($"The headline latency is with 3 nodes and the default `Hub:Bus:DispatchInterval` (00:00:00.100): the outbox is polled, so an event waits for the next poll of some node's dispatcher.")
                        + (shortInterval is null ? "" : I($" The same latency run with `Hub__Bus__DispatchInterval={o.ShortInterval}` is shown next to it (3 nodes, after each round)."))
                        + I($" Run at {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, PostgreSQL {serverVersion}, RabbitMQ (Debian's rabbitmq-server), .NET {Environment.Version}, {Environment.ProcessorCount} cores{loadNote}.")),
                    "",
                    "| configuration | latency p50 / p99 | end to end (subscriber has all) | stored (all pushes answered) | hub CPU per change | PostgreSQL CPU per change | RabbitMQ CPU per change |",
                    "|---|---|---|---|---|---|---|",
                    .. ones.Select((r, i) => Row($"1 node, round {i + 1}", r)),
                    .. threes.Select((r, i) => Row($"3 nodes, round {i + 1}", r)),
                ];
                section.AddRange(shorts.Select((r, i) => string.Create(C,
                    $"| 3 nodes, DispatchInterval {o.ShortInterval}, round {i + 1} | {r.Latency!.P50:F0} / {r.Latency.P99:F0} ms ({r.Latency.Count:N0} changes) | | | | | |")));

                section.AddRange(
                [
                    "",
                    string.Concat(
                        I($"The 2 cores are shared by the nodes, PostgreSQL, RabbitMQ and the benchmark (pushers and subscriber), so three nodes add no capacity here (a ratio above 1 comes from three dispatchers overlapping their waits, and from outside load): the ratio measures what running three nodes costs in coordination (outbox claims with `FOR UPDATE SKIP LOCKED` by three dispatchers, three Hangfire servers, more connections). ")
                        + I($"Doing nothing, a node used {threes.Average(r => r.IdleCoresPerNode):F3} cores on average (10 s watched before each 3-node run's latency load), so two extra idle nodes take {2 * threes.Average(r => r.IdleCoresPerNode):F3} of the 2 cores; under load the hubs' CPU per change went from {one.NodeCpuSeconds / one.Changes * 1000:F3} ms with 1 node to {nodeCpuMs:F3} ms with 3 (each process's own background work, thread pool and garbage collector, spread over the same changes). ")
                        + I($"Node estimate: CPU time of the hub processes (utime + stime from /proc) over the 3-node throughput run, divided by the changes: {nodeCpuMs:F2} ms per change, which covers receiving, verifying, mapping, storing (with the exchange-log entry of each delivery) and publishing. ")
                        + I($"The national back-fill peak follows DOMAIN.md's heavy case, a province back-filling millions of dossiers \"in minutes, not days\": taken as {o.BackfillDossiers:N0} dossiers × {BackfillChangesPerDossier} changes per dossier (the simulated provinces' ratio) in {o.BackfillMinutes} minutes = {peak:F0} changes/s (the national steady state, tens per second with morning peaks several times higher, is small next to it). ")
                        + I($"Nodes needed = {peak:F0} changes/s × {nodeCpuMs:F3} CPU-ms per change / {o.NodeCores} cores per node = {nodesExact:F2} nodes, so {Math.Max(1, Math.Ceiling(nodesExact)):F0} (no headroom added; with a second node so that a node failure does not stop the back-fill, 2). ")
                        + I($"PostgreSQL: {pgCpuMs:F2} CPU-ms per change on the hub's path (its processes' CPU over the same run) means {pgCores:F1} cores at that peak; its write ceiling measured in the same run, raw binary COPY of the same {expected:N0} rows into an unindexed copy of the history table, is {copyRate:F0} rows/s on this machine. {limit}.")),
                    "",
                    I($"The estimate counts CPU only. On this machine one node took {one.DeliveredRate:F0} changes/s end to end while its process used {one.NodeCpuSeconds / one.DeliveredSeconds:F2} cores on average, so what held it back was the machine's shared cores and the waits between the steps (a claim of `Hub:Bus:DispatchBatchSize` events is published and confirmed before the next is taken), not the node's own CPU; the single RabbitMQ queue and the one subscriber were not driven beyond that rate here. ")
                        + "Throughput at the peak is therefore shown only as far as measured; a second node also gives availability.",
                    "",
                    BeforeConcurrentPublish,
                    "",
                    string.Join(Environment.NewLine + Environment.NewLine, figures),
                ]);
                Results.WriteSection(file, Heading, section);
                Console.WriteLine($"results written to {file}");
            }
        }
        finally
        {
            await server.DestroyAsync();
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // A hub's file still open; the folder is in the temporary folder.
            }
        }
    }

    private static string I(FormattableString text) => FormattableString.Invariant(text);

    private static string Row(string name, Outcome r) => string.Create(C,
        $"| {name} | {r.Latency!.P50:F0} / {r.Latency.P99:F0} ms ({r.Latency.Count:N0} changes) | {r.DeliveredRate:F0} changes/s ({r.DeliveredSeconds:F1} s) | {r.StoredRate:F0} changes/s ({r.StoredSeconds:F1} s) | {r.NodeCpuSeconds / r.Changes * 1000:F2} ms | {r.PostgresCpuSeconds / r.Changes * 1000:F2} ms | {r.RabbitCpuSeconds / r.Changes * 1000:F2} ms |");

    private sealed record Latency(double P50, double P99, int Count);

    private sealed record Outcome(
        string Database, Latency? Latency, int Changes, double StoredSeconds, double DeliveredSeconds, double NodeCpuSeconds, double PostgresCpuSeconds, double RabbitCpuSeconds, double IdleCoresPerNode)
    {
        public double StoredRate => Changes / StoredSeconds;

        public double DeliveredRate => Changes / DeliveredSeconds;
    }

    /// <summary>A pushed batch: its connector, its changes' receipt keys, its body.</summary>
    private sealed record Push(int Connector, string[] Keys, byte[] Body)
    {
        public int Count => Keys.Length;
    }

    private sealed record Connector(string Id, string SourceSystem, byte[] Key);

    private static async Task<Outcome> RunConfigurationAsync(
        BenchOptions o, LocalPostgres server, NpgsqlDataSource admin, LocalRabbitMq rabbit, BrokerAccount broker, ReceiptBook book, string work,
        int nodes, string tag, string? dispatchInterval, List<Push>? throughput)
    {
        Console.WriteLine();
        Console.WriteLine($"== {nodes} node(s), database {tag}, DispatchInterval {dispatchInterval ?? "default"} ==");
        var database = $"bench_{tag}";
        await ExecuteAsync(admin, $"create database {database}");
        var connectionString = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = database }.ConnectionString;
        await using var db = NpgsqlDataSource.Create(connectionString);
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = connectionString,
            ["Hub__Identity__BootstrapAdminKey"] = BootstrapKey,
            ["Hub__Bus__Transport"] = "RabbitMq",
            ["Hub__Bus__RabbitMq__Host"] = broker.Host,
            ["Hub__Bus__RabbitMq__Port"] = broker.Port.ToString(C),
            ["Hub__Bus__RabbitMq__VirtualHost"] = broker.VirtualHost,
            ["Hub__Bus__RabbitMq__Username"] = broker.Username,
            ["Hub__Bus__RabbitMq__Password"] = broker.Password,
        };
        if (dispatchInterval is not null)
        {
            settings["Hub__Bus__DispatchInterval"] = dispatchInterval;
        }

        var hubs = new List<HubNode>();
        try
        {
            // The first node migrates the new database and makes the bootstrap admin; the others start next to it.
            var started = Stopwatch.StartNew();
            hubs.Add(HubNode.Start(Directory.CreateDirectory(Path.Combine(work, $"{tag}-0")).FullName, settings));
            await hubs[0].WaitReadyAsync(TimeSpan.FromMinutes(3));
            for (var i = 1; i < nodes; i++)
            {
                hubs.Add(HubNode.Start(Directory.CreateDirectory(Path.Combine(work, $"{tag}-{i}")).FullName, settings));
            }

            await Task.WhenAll(hubs.Skip(1).Select(h => h.WaitReadyAsync(TimeSpan.FromMinutes(3))));
            Console.WriteLine(string.Create(C, $"{nodes} hub(s) ready in {started.Elapsed.TotalSeconds:F1} s"));
            var connectors = await RegisterAsync(hubs[0], o.Connectors, tag);
            await Task.Delay(TimeSpan.FromSeconds(3)); // the nodes settle (first Hangfire heartbeats, schedule reads)

            // What the nodes cost doing nothing: Hangfire's servers, the dispatchers' polls, sealing, alerts, gauges.
            var hubPids = hubs.Select(h => h.ProcessId).ToList();
            var idleFrom = Cpu(hubPids);
            var idleClock = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(IdleSeconds));
            var idleCores = (Cpu(hubPids) - idleFrom) / idleClock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(C, $"idle: the hubs used {idleCores:F3} cores ({idleCores / nodes:F3} per node)"));

            // (1) Latency at a fixed, moderate load.
            book.Clear();
            await LatencyAsync(o, hubs, connectors, book, $"{tag}w", WarmUpSeconds); // not measured: JIT, pools, first channels
            book.Clear();
            var latency = await LatencyAsync(o, hubs, connectors, book, tag, o.LatencySeconds);
            Console.WriteLine(string.Create(C, $"latency over {latency.Count:N0} changes at {o.LatencyRate} changes/s: p50 {latency.P50:F0} ms, p99 {latency.P99:F0} ms"));
            if (throughput is null)
            {
                return new Outcome(database, latency, 0, 0, 0, 0, 0, 0, idleCores / nodes);
            }

            // (2) Throughput: the same workload for every configuration, with the CPU of each side around it.
            book.Clear();
            var signed = throughput;
            await ExecuteAsync(admin, "checkpoint");
            var before = (Cpu(hubPids), PostgresCpu(server), Cpu(rabbit.ProcessIds()));
            var clock = Stopwatch.StartNew();
            var stored = await PushAllAsync(hubs, connectors, signed, o.Pushers);
            var storedSeconds = clock.Elapsed.TotalSeconds;
            var total = signed.Sum(p => p.Count);
            Console.WriteLine(string.Create(C, $"stored {stored:N0} of {total:N0} changes in {storedSeconds:F1} s: {total / storedSeconds:F0} changes/s"));
            if (stored != total)
            {
                throw new InvalidOperationException($"The hubs stored {stored} of {total} pushed changes.");
            }

            // Where the events are while the subscriber catches up: still in the outbox, or published and on their way.
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    var pending = (long)(await ScalarAsync(db, "select count(*) from outbox where sent_at is null"))!;
                    Console.WriteLine(string.Create(C, $"  {clock.Elapsed.TotalSeconds,6:F1} s: outbox pending {pending:N0}, received {book.Count:N0}"));
                    await Task.Delay(TimeSpan.FromSeconds(5), sampling.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                }
            });
            var received = await WaitForAsync(book, total, TimeSpan.FromSeconds(60));
            var deliveredSeconds = clock.Elapsed.TotalSeconds;
            await sampling.CancelAsync();
            await sampler;
            var after = (Cpu(hubPids), PostgresCpu(server), Cpu(rabbit.ProcessIds()));
            if (received < total)
            {
                throw new InvalidOperationException($"The subscriber received {received} of {total} events (no progress for 60 s).");
            }

            Console.WriteLine(string.Create(C, $"delivered all {total:N0} events in {deliveredSeconds:F1} s: {total / deliveredSeconds:F0} changes/s ({book.Deliveries:N0} deliveries)"));
            var outcome = new Outcome(database, latency, total, storedSeconds, deliveredSeconds, after.Item1 - before.Item1, after.Item2 - before.Item2, after.Item3 - before.Item3, idleCores / nodes);
            Console.WriteLine(string.Create(C,
                $"CPU per change: hubs {outcome.NodeCpuSeconds / total * 1000:F2} ms, PostgreSQL {outcome.PostgresCpuSeconds / total * 1000:F2} ms, RabbitMQ {outcome.RabbitCpuSeconds / total * 1000:F2} ms"));
            return outcome;
        }
        finally
        {
            await Task.WhenAll(hubs.Select(h => h.DisposeAsync().AsTask()));
        }
    }

    /// <summary>Connectors registered as a provincial team does: created, submitted, approved by another operator, activated.</summary>
    private static async Task<List<Connector>> RegisterAsync(HubNode hub, int count, string tag)
    {
        using var registrar = await hub.PrincipalAsync(BootstrapKey, $"bench-registrar-{tag}", "operator");
        using var approver = await hub.PrincipalAsync(BootstrapKey, $"bench-approver-{tag}", "operator");
        var mapping = JsonSerializer.SerializeToNode(new MappingDefinition
        {
            Version = MappingVersion,
            StatusCodes = Enumerable.Range(1, 10).ToDictionary(i => i.ToString(C), i => i),
            Dossier = new Dictionary<string, FieldMapping>
            {
                ["NativeId"] = "id",
                ["DossierCode"] = "code",
                ["EventTime"] = "t",
                ["Status"] = "s",
            },
        }, ConnectorCatalog.Json);
        var connectors = new List<Connector>();
        for (var i = 0; i < count; i++)
        {
            var key = RandomNumberGenerator.GetBytes(32);
            var connector = new Connector($"bench-push-{i}", $"bench-province-{i}", key);
            var registration = new JsonObject
            {
                ["id"] = connector.Id,
                ["kind"] = "json-webhook",
                ["sourceSystem"] = connector.SourceSystem,
                ["agency"] = "H56",
                ["displayName"] = $"Benchmark province {i} (pushes)",
                ["configuration"] = new JsonObject { ["secret"] = Convert.ToBase64String(key) },
                ["mapping"] = mapping!.DeepClone(),
            };
            await hub.ExpectAsync(await registrar.PostAsync("/api/connectors", new StringContent(registration.ToJsonString(), Encoding.UTF8, "application/json")), HttpStatusCode.Created);
            await hub.ExpectAsync(await registrar.PostAsync($"/api/connectors/{connector.Id}/lifecycle/submit?reason=benchmark", null));
            await hub.ExpectAsync(await approver.PostAsync($"/api/connectors/{connector.Id}/lifecycle/approve?reason=benchmark", null));
            await hub.ExpectAsync(await registrar.PostAsync($"/api/connectors/{connector.Id}/lifecycle/activate?reason=benchmark", null));
            connectors.Add(connector);
        }

        return connectors;
    }

    /// <summary>
    /// Open loop: push k starts at k × batch / rate seconds whether or not earlier pushes have been answered; each
    /// change's clock starts just before its push request is sent, and stops at the subscriber's first receipt.
    /// </summary>
    private static async Task<Latency> LatencyAsync(BenchOptions o, List<HubNode> hubs, List<Connector> connectors, ReceiptBook book, string tag, int seconds)
    {
        var pushes = (int)((long)o.LatencyRate * seconds / o.LatencyBatch);
        var sent = new long[pushes * o.LatencyBatch];
        var keys = new string[sent.Length];
        var bodies = new List<Push>(pushes);
        for (var k = 0; k < pushes; k++)
        {
            var connector = k % connectors.Count;
            var items = Enumerable.Range(k * o.LatencyBatch, o.LatencyBatch)
                .Select(j => (Id: $"{tag}-L{j}", Code: $"BENCH-{tag}-L{j}", Time: T0.AddSeconds(j), Status: 1))
                .ToList();
            foreach (var (item, j) in items.Select((item, j) => (item, j)))
            {
                keys[k * o.LatencyBatch + j] = $"{connectors[connector].SourceSystem}|{item.Id}|{item.Status}";
            }

            bodies.Add(new Push(connector, [], Body(items)));
        }

        var interval = TimeSpan.FromSeconds((double)o.LatencyBatch / o.LatencyRate);
        var clock = Stopwatch.StartNew();
        var tasks = new List<Task>(pushes);
        for (var k = 0; k < pushes; k++)
        {
            var due = interval * k;
            if (clock.Elapsed < due)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            var push = bodies[k];
            var hub = hubs[k % hubs.Count];
            var first = k * o.LatencyBatch;
            tasks.Add(Task.Run(async () =>
            {
                var at = Stopwatch.GetTimestamp();
                for (var j = 0; j < o.LatencyBatch; j++)
                {
                    sent[first + j] = at;
                }

                await SendAsync(hub, connectors[push.Connector], push.Body, o.LatencyBatch);
            }));
        }

        await Task.WhenAll(tasks);
        Console.WriteLine(string.Create(C, $"latency pushes sent in {clock.Elapsed.TotalSeconds:F1} s (planned {interval.TotalSeconds * pushes:F1} s)"));
        var received = await WaitForAsync(book, keys.Length, TimeSpan.FromSeconds(60));
        if (received < keys.Length)
        {
            throw new InvalidOperationException($"The subscriber received {received} of {keys.Length} latency events (no progress for 60 s).");
        }

        var millis = keys.Select((key, i) => Stopwatch.GetElapsedTime(sent[i], book.ReceivedAt(key)).TotalMilliseconds).Order().ToArray();
        return new Latency(Percentile(millis, 0.50), Percentile(millis, 0.99), millis.Length);
    }

    /// <summary>Pushers take the next batch until none is left; batch i goes to node i mod nodes. Returns the changes stored.</summary>
    private static async Task<long> PushAllAsync(List<HubNode> hubs, List<Connector> connectors, List<Push> pushes, int pushers)
    {
        var next = -1;
        long stored = 0;
        await Task.WhenAll(Enumerable.Range(0, pushers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < pushes.Count)
            {
                var push = pushes[i];
                Interlocked.Add(ref stored, await SendAsync(hubs[i % hubs.Count], connectors[push.Connector], push.Body, push.Count));
            }
        })));
        return stored;
    }

    /// <summary>Signs and posts one batch as a source does; returns the changes stored. Anything but 200 is an error.</summary>
    private static async Task<int> SendAsync(HubNode hub, Connector connector, byte[] body, int count)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(C);
        var prefix = Encoding.ASCII.GetBytes(timestamp + ".");
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, connector.Key);
        hmac.AppendData(prefix);
        hmac.AppendData(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/connectors/{connector.Id}/webhook")
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } },
        };
        request.Headers.Add("X-Hub-Timestamp", timestamp);
        request.Headers.Add("X-Hub-Signature", "sha256=" + Convert.ToHexStringLower(hmac.GetHashAndReset()));
        var reply = await hub.ExpectAsync(await hub.Client.SendAsync(request));
        var stored = reply.GetProperty("stored").GetInt32();
        if (stored + reply.GetProperty("unchanged").GetInt32() != count || reply.GetProperty("quarantined").GetArrayLength() > 0)
        {
            throw new InvalidOperationException($"A push of {count} changes was answered {reply}.");
        }

        return stored;
    }

    /// <summary>
    /// The throughput workload: per connector, dossiers with statuses 1 to 4 an hour apart, ordered by status then
    /// dossier (a batch holds distinct dossiers, as a back-fill's pages do), in batches; the connectors' batches interleaved.
    /// </summary>
    private static List<Push> ThroughputBatches(BenchOptions o)
    {
        var dossiers = o.NodeChanges / ChangesPerDossier / o.Connectors;
        var perConnector = new List<List<Push>>();
        for (var c = 0; c < o.Connectors; c++)
        {
            var items = new List<(string Id, string Code, DateTimeOffset Time, int Status)>(dossiers * ChangesPerDossier);
            for (var s = 1; s <= ChangesPerDossier; s++)
            {
                for (var d = 0; d < dossiers; d++)
                {
                    items.Add(($"T{d}", $"BENCH-{c}-T{d}", T0.AddMinutes(d % 10_000).AddHours(s), s));
                }
            }

            perConnector.Add([.. items.Chunk(o.NodeBatch).Select(chunk =>
                new Push(c, [.. chunk.Select(i => $"bench-province-{c}|{i.Id}|{i.Status}")], Body(chunk)))]);
        }

        var pushes = new List<Push>();
        for (var i = 0; pushes.Count < perConnector.Sum(p => p.Count); i++)
        {
            pushes.AddRange(perConnector.Where(p => i < p.Count).Select(p => p[i]));
        }

        return pushes;
    }

    private static byte[] Body(IEnumerable<(string Id, string Code, DateTimeOffset Time, int Status)> items)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("dossiers");
            foreach (var (id, code, time, status) in items)
            {
                json.WriteStartObject();
                json.WriteString("id", id);
                json.WriteString("code", code);
                json.WriteString("t", time.ToString("O", C));
                json.WriteString("s", status.ToString(C));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The throughput workload's rows (as the hub stores them) by binary COPY into an unindexed copy of the history table: rows/s.</summary>
    private static async Task<double> CopyBaselineAsync(LocalPostgres server, NpgsqlDataSource admin, string database, List<Push> pushes)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = database }.ConnectionString;
        await using var db = NpgsqlDataSource.Create(connectionString);
        await ExecuteAsync(db, """
            create table copy_baseline as select * from dossier_change with no data;
            alter table copy_baseline drop column recorded_at;
            """);
        var rows = new List<DossierChange>();
        await using (var command = db.CreateCommand($"select {StatusStore.ChangeColumns} from dossier_change where native_id like 'T%'"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add(StatusStore.ReadChange(reader, 0));
            }
        }

        var expected = pushes.Sum(p => p.Count);
        if (rows.Count != expected)
        {
            throw new InvalidOperationException($"The database {database} holds {rows.Count} throughput changes; {expected} were pushed.");
        }

        var hashes = rows.Select(ChangeHashing.Hash).ToArray();
        await ExecuteAsync(admin, "checkpoint");
        var clock = Stopwatch.StartNew();
        await using (var connection = await db.OpenConnectionAsync())
        await using (var importer = await connection.BeginBinaryImportAsync($"copy copy_baseline ({StatusStore.ChangeColumns}) from stdin (format binary)"))
        {
            for (var i = 0; i < rows.Count; i++)
            {
                await Workload.WriteRowAsync(importer, rows[i], hashes[i]);
            }

            await importer.CompleteAsync();
        }

        clock.Stop();
        var rate = rows.Count / clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(C, $"raw binary COPY of the same {rows.Count:N0} rows: {rate:F0} rows/s ({clock.Elapsed.TotalSeconds:F2} s)"));
        return rate;
    }

    /// <summary>Until the book has <paramref name="count"/> keys, or no new key arrived for <paramref name="stall"/>; returns how many it has.</summary>
    private static async Task<int> WaitForAsync(ReceiptBook book, int count, TimeSpan stall)
    {
        var last = book.Count;
        var since = Stopwatch.StartNew();
        while (book.Count < count && since.Elapsed < stall)
        {
            await Task.Delay(20);
            if (book.Count != last)
            {
                last = book.Count;
                since.Restart();
            }
        }

        return book.Count;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)];

    /// <summary>CPU seconds (user + system) the processes have used so far.</summary>
    private static double Cpu(IEnumerable<int> pids) => pids.Sum(pid => Stat(pid) is { } s ? s.Own : 0) / ClockTicks;

    /// <summary>
    /// CPU seconds of the cluster: the postmaster's own and its ended children's (cutime, cstime), plus its live
    /// children's (backends, checkpointer, WAL writer...).
    /// </summary>
    private static double PostgresCpu(LocalPostgres server)
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(server.Directory, "data", "postmaster.pid")).First(), C);
        var ticks = Stat(postmaster) is { } p ? p.Own + p.Children : 0;
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(proc), NumberStyles.None, C, out var pid) && Stat(pid) is { } s && s.Parent == postmaster)
            {
                ticks += s.Own;
            }
        }

        return ticks / ClockTicks;
    }

    /// <summary>/proc/pid/stat: parent, utime + stime, cutime + cstime (in clock ticks); null when the process is gone.</summary>
    private static (int Parent, long Own, long Children)? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            // After "pid (comm) ": state is field 3, ppid 4, utime 14, stime 15, cutime 16, cstime 17.
            return (int.Parse(fields[1], C), long.Parse(fields[11], C) + long.Parse(fields[12], C), long.Parse(fields[13], C) + long.Parse(fields[14], C));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static async Task<object?> ScalarAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        return await command.ExecuteScalarAsync();
    }

    private static async Task ExecuteAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<ServiceProvider> StartSubscriberAsync(BrokerAccount broker, ReceiptBook book)
    {
        var provider = new ServiceCollection()
            .AddSingleton(book)
            .AddMassTransit(x =>
            {
                x.DisableUsageTelemetry();
                x.AddConsumer<ReceiptRecorder>().Endpoint(e => e.Name = "hub-bench-subscriber");
                x.UsingRabbitMq((context, cfg) =>
                {
                    cfg.Host(broker.Host, (ushort)broker.Port, broker.VirtualHost, h =>
                    {
                        h.Username(broker.Username);
                        h.Password(broker.Password);
                    });
                    cfg.PrefetchCount = 256;
                    cfg.ConfigureEndpoints(context);
                });
            })
            .BuildServiceProvider(true);
        var bus = provider.GetRequiredService<IBusControl>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var handle = await bus.StartAsync(cts.Token);
        await handle.Ready.WaitAsync(cts.Token);
        return provider;
    }
}

/// <summary>The subscriber's first receipt time (a <see cref="Stopwatch"/> timestamp) of each event, by source system, native id and status.</summary>
public sealed class ReceiptBook
{
    private ConcurrentDictionary<string, long> _first = new();
    private long _deliveries;

    public int Count => _first.Count;

    public long Deliveries => Interlocked.Read(ref _deliveries);

    public void Record(DossierStatusChanged message)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _deliveries);
        _first.TryAdd($"{message.Change.SourceSystem}|{message.Change.NativeId}|{(int)message.Change.Status}", now);
    }

    public long ReceivedAt(string key) => _first[key];

    public void Clear()
    {
        _first = new();
        Interlocked.Exchange(ref _deliveries, 0);
    }
}

/// <summary>Records each <see cref="DossierStatusChanged"/> the subscriber consumes.</summary>
public sealed class ReceiptRecorder(ReceiptBook book) : IConsumer<DossierStatusChanged>
{
    public Task Consume(ConsumeContext<DossierStatusChanged> context)
    {
        book.Record(context.Message);
        return Task.CompletedTask;
    }
}
