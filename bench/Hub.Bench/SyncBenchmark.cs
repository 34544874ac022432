using System.Diagnostics;
using System.Globalization;
using Hub.Connectors.BuiltIn;
using Hub.Contracts;
using Hub.Core.Audit;
using Hub.Core.Postgres;
using Hub.Core.Store;
using Hub.Core.Sync;
using Hub.Simulator;
using Hub.Worker.Sync;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hub.Bench;

/// <summary>
/// End-to-end sync throughput: simulated provinces served over HTTP on loopback, one REST-pull connector per
/// province (the simulator's ready-made registration file) run concurrently by the sync runner into the store; next
/// to it, in the same run and cluster, the same provinces' truth written straight through the store's batch write
/// with the same batch size and concurrency. The ratio is what the sync path (HTTP, JSON, mapping, quarantine and
/// cursor bookkeeping) costs on top of the store.
/// </summary>
internal static class SyncBenchmark
{
    /// <summary>The page size of the registration file, and so the baseline's batch size.</summary>
    private const int PageSize = 1000;

    /// <summary>A fixed window in the past: the same options give the same truth on every run.</summary>
    private static readonly DateTimeOffset WindowStart = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly CancellationToken None = CancellationToken.None;

    public static async Task RunAsync(BenchOptions options)
    {
        var culture = CultureInfo.InvariantCulture;
        var load = LoadAverage();
        var provinces = Enumerable.Range(0, options.Provinces).Select(i => new ProvinceOptions
        {
            SourceSystem = $"sim-bench-{i:00}",
            AgencyPrefix = $"H{10 + i:00}",
            Dossiers = options.ProvinceDossiers,
            Seed = 7000 + i,
            Start = WindowStart,
            End = WindowStart.AddDays(30),
        }).ToList();
        Console.WriteLine(string.Create(culture, $"generating {options.Provinces} simulated provinces of {options.ProvinceDossiers:N0} dossiers each"));
        await using var simulator = await SimulatorHost.StartAsync(provinces);

        // The truth is built before either clock starts; it is both the check and the baseline's input.
        var truths = simulator.Provinces.Select(p => p.Truth).ToList();
        var expectedChanges = truths.Sum(t => t.Changes.Count);
        var expectedSteps = truths.Sum(t => t.Steps.Count);
        Console.WriteLine(string.Create(culture, $"truth: {expectedChanges:N0} changes and {expectedSteps:N0} steps; feed on {simulator.BaseUri}"));

        var directory = Path.Combine("/var/tmp", $"hub-bench-{Guid.NewGuid():N}");
        var pgOptions = new LocalPostgresOptions { Directory = directory, Durable = true };
        pgOptions.Settings["shared_buffers"] = "1GB";
        pgOptions.Settings["max_wal_size"] = "8GB";
        pgOptions.Settings["checkpoint_timeout"] = "30min";
        var server = await LocalPostgres.StartAsync(pgOptions, NullLogger.Instance, None);
        try
        {
            await using var admin = NpgsqlDataSource.Create(server.ConnectionString);
            await using var versionCommand = admin.CreateCommand("show server_version");
            var serverVersion = (string)(await versionCommand.ExecuteScalarAsync())!;
            await using var syncSource = await SchemaAsync(admin, server.ConnectionString, "sync");
            await using var storeSource = await SchemaAsync(admin, server.ConnectionString, "direct");

            // (1) End to end: every province's connector run at once, from an empty cursor to the end of the feed.
            using var http = new ConnectorHttpClients(NullLogger<ConnectorHttpClients>.Instance);
            var kinds = new ConnectorKinds([new RestPullConnectorKind()]);
            var catalog = new ConnectorCatalog(syncSource, new ConnectorSecrets(Hub.Core.Secrets.HubDataProtection.CreateProvider(syncSource), kinds.All));
            var ledger = new SyncLedger(syncSource, TimeProvider.System);
            var ingest = new RecordIngest(new StatusStore(syncSource, TimeProvider.System, NullLogger<StatusStore>.Instance), TimeProvider.System);
            var runner = new SyncRunner(
                catalog, ledger, ingest, kinds, http, new ExchangeLog(syncSource, TimeProvider.System), TimeProvider.System, NullLoggerFactory.Instance, NullLogger<SyncRunner>.Instance);
            var registrations = simulator.Provinces.Select(p => Registration(simulator, p.SourceSystem)).ToList();
            foreach (var registration in registrations)
            {
                await catalog.SaveAsync(registration, None);
            }

            await ExecuteAsync(admin, "checkpoint");
            var syncClock = Stopwatch.StartNew();
            var runs = await Task.WhenAll(registrations.Select(r => runner.RunAsync(r.Id, SyncTrigger.Manual, None)));
            syncClock.Stop();
            var failed = runs.Where(r => r.Outcome != RunOutcome.Succeeded).ToList();
            if (failed.Count > 0)
            {
                throw new InvalidOperationException(
                    $"{failed.Count} of {runs.Length} sync runs did not succeed: " + string.Join("; ", failed.Select(r => $"{r.ConnectorId}: {r.Outcome} {r.Failure}")));
            }

            var (syncHistory, syncSteps) = await CountAsync(syncSource);
            Check("sync", syncHistory, syncSteps, expectedChanges, expectedSteps);
            var pages = runs.Sum(r => r.Counts.Pages);
            var syncRate = syncHistory / syncClock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(culture,
                $"sync: {syncHistory:N0} history rows in {syncClock.Elapsed.TotalSeconds:F1} s over {pages:N0} pages from {runs.Length} connectors"));

            // (2) The store alone: the same changes and steps, batches of the page size, one writer per province.
            var store = new StatusStore(storeSource, TimeProvider.System, NullLogger<StatusStore>.Instance);
            var mappingVersion = registrations[0].Mapping.Version;
            var batches = truths.Select(t => Batches(t, mappingVersion)).ToList(); // built before the clock: the baseline is the write alone
            await ExecuteAsync(admin, "checkpoint");
            var storeClock = Stopwatch.StartNew();
            await Task.WhenAll(batches.Select(province => Task.Run(async () =>
            {
                foreach (var batch in province)
                {
                    var result = await store.WriteAsync(batch, None);
                    if (result.Rejected.Count > 0)
                    {
                        throw new InvalidOperationException($"The store rejected {result.Rejected.Count} records of the truth: {result.Rejected[0].Reason}");
                    }
                }
            })));
            storeClock.Stop();
            var (storeHistory, storeSteps) = await CountAsync(storeSource);
            Check("store", storeHistory, storeSteps, expectedChanges, expectedSteps);
            var storeRate = storeHistory / storeClock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(culture,
                $"store: {storeHistory:N0} history rows in {storeClock.Elapsed.TotalSeconds:F1} s over {batches.Sum(b => b.Count):N0} batches from {batches.Count} writers"));

            var ratio = syncRate / storeRate;
            string[] figures =
            [
                string.Create(culture, $"sync changes/s: {syncRate:F0}"),
                string.Create(culture, $"store changes/s: {storeRate:F0}"),
                string.Create(culture, $"sync/store ratio: {ratio:F2}"),
            ];
            foreach (var line in figures)
            {
                Console.WriteLine(line);
            }

            if (options.ResultsFile is { } file)
            {
                var args = options.Provinces == 4 && options.ProvinceDossiers == 25_000
                    ? ""
                    : string.Create(culture, $" --provinces {options.Provinces} --province-dossiers {options.ProvinceDossiers}");
                var loadNote = load is { } l
                    ? string.Create(culture, $", 1-minute load average {l:F2} at start{(l >= Environment.ProcessorCount / 2.0 ? " (other processes were busy on the machine)" : "")}")
                    : "";
                List<string> section =
                [
                    Results.SyncHeading,
                    "",
                    "End-to-end sync from simulated vendor REST provinces (HTTP on loopback, in-process) into the store, next to the",
                    "store's own batch write of the same provinces' truth, both in the same run against the same freshly created,",
                    "durable PostgreSQL cluster (one schema each).",
                    "",
                    "Command:",
                    "",
                    "```",
                    $"dotnet run -c Release --project bench/Hub.Bench -- --scenario sync{args} --results {file}",
                    "```",
                    "",
                    string.Create(culture,
                        $"Workload: {options.Provinces} provinces × {options.ProvinceDossiers:N0} dossiers (fixed seeds and 30-day window, no faults): {expectedChanges:N0} changes and {expectedSteps:N0} steps. "
                        + $"Sync: one `rest-pull` connector per province from `src/Hub.Simulator/Connectors/vendor-rest.connector.json` (pages of {PageSize:N0}, rate limit raised out of the way; each page and the requests that fetched it appended to the exchange log in the page's transaction), all runs concurrent, timed from start until every run succeeded: "
                        + $"{syncClock.Elapsed.TotalSeconds:F1} s, {pages:N0} pages. Store: the truth through `StatusStore.WriteAsync` in batches of {PageSize:N0} changes (with the province's steps spread over them), one writer per province: "
                        + $"{storeClock.Elapsed.TotalSeconds:F1} s. Run at {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, PostgreSQL {serverVersion}, .NET {Environment.Version}, {Environment.ProcessorCount} cores{loadNote}."),
                    "",
                    string.Join(Environment.NewLine + Environment.NewLine, figures),
                ];
                Results.WriteSync(file, section);
                Console.WriteLine($"results written to {file}");
            }
        }
        finally
        {
            await server.DestroyAsync();
        }
    }

    /// <summary>The 1-minute load average, where the system tells it: other processes' work skews the figures.</summary>
    internal static double? LoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The simulator's registration file for one province, with the rate limit raised out of the way.</summary>
    private static ConnectorRegistration Registration(SimulatorHost simulator, string sourceSystem)
    {
        var file = Path.Combine(Path.GetTempPath(), $"hub-bench-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, simulator.VendorRestConnectorJson(sourceSystem));
        try
        {
            var registration = ConnectorFiles.Read(file);
            if (registration.Configuration.GetProperty("pageSize").GetInt32() != PageSize)
            {
                throw new InvalidOperationException($"The registration file's page size is not {PageSize}: the baseline's batches would not match the sync's pages.");
            }

            return registration with { Resilience = registration.Resilience with { RequestsPerSecond = 100_000 } };
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>A province's truth in batches of the page size, its steps spread over them in order.</summary>
    private static List<ChangeBatch> Batches(SimulatedTruth truth, string mappingVersion)
    {
        var count = (truth.Changes.Count + PageSize - 1) / PageSize;
        var batches = new List<ChangeBatch>(count);
        for (var i = 0; i < count; i++)
        {
            var changes = truth.Changes.Skip(i * PageSize).Take(PageSize).Select(c => c with { MappingVersion = mappingVersion }).ToList();
            var from = (int)((long)truth.Steps.Count * i / count);
            var to = (int)((long)truth.Steps.Count * (i + 1) / count);
            batches.Add(new ChangeBatch { Dossiers = changes, Steps = truth.Steps.Skip(from).Take(to - from).ToList() });
        }

        return batches;
    }

    private static void Check(string what, long history, long steps, long expectedChanges, long expectedSteps)
    {
        if (history != expectedChanges || steps != expectedSteps)
        {
            throw new InvalidOperationException(
                $"The {what} path stored {history} history rows and {steps} steps; the truth has {expectedChanges} changes and {expectedSteps} steps.");
        }
    }

    private static async Task<NpgsqlDataSource> SchemaAsync(NpgsqlDataSource admin, string connectionString, string schema)
    {
        await ExecuteAsync(admin, $"create schema {schema}");
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = schema };
        var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        await SchemaMigrator.MigrateAsync(dataSource, None);
        return dataSource;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<(long History, long Steps)> CountAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("select (select count(*) from dossier_change), (select count(*) from dossier_step)");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
