using System.Diagnostics;
using System.Globalization;
using Hub.Bench;
using Hub.Contracts;
using Hub.Core.Postgres;
using Hub.Core.Store;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

// Pushes a realistic stream of status changes through the store's batch write path and, in the same run and the
// same PostgreSQL cluster, measures raw binary COPY of the same rows (the machine's physical limit) and a naive
// one-row-at-a-time upsert (what an ad-hoc integration does), then prints the ratios and records them.
var options = BenchOptions.Parse(args);
if (options.Scenario == "sync")
{
    await SyncBenchmark.RunAsync(options);
    return;
}

if (options.Scenario == "xmlverify")
{
    XmlVerifyBenchmark.Run(options);
    return;
}

if (options.Scenario == "nodes")
{
    await NodesBenchmark.RunAsync(options);
    return;
}

if (options.Scenario == "exchange")
{
    await ExchangeLogBenchmark.RunAsync(options);
    return;
}

var culture = CultureInfo.InvariantCulture;
Console.WriteLine(string.Create(culture,
    $"generating {options.Changes:N0} changes over {options.Dossiers:N0} dossiers from {options.Systems} source systems ({options.OutOfOrder:P0} out of order, {options.Duplicated:P0} duplicated)"));
var stream = Workload.Generate(options);

var directory = Path.Combine("/var/tmp", $"hub-bench-{Guid.NewGuid():N}");
var pgOptions = new LocalPostgresOptions { Directory = directory, Durable = true };
pgOptions.Settings["shared_buffers"] = "1GB";
pgOptions.Settings["max_wal_size"] = "8GB";
pgOptions.Settings["checkpoint_timeout"] = "30min";
var server = await LocalPostgres.StartAsync(pgOptions, NullLogger.Instance, CancellationToken.None);
try
{
    await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
    await SchemaMigrator.MigrateAsync(dataSource, CancellationToken.None);
    await using var versionCommand = dataSource.CreateCommand("show server_version");
    var serverVersion = (string)(await versionCommand.ExecuteScalarAsync())!;

    // (1) The hub's batch write path.
    var store = new StatusStore(dataSource, TimeProvider.System, NullLogger<StatusStore>.Instance);
    var batches = stream.Chunk(options.BatchSize).ToArray();
    var next = -1;
    var hubClock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, options.Writers).Select(_ => Task.Run(async () =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < batches.Length)
        {
            var result = await store.WriteAsync(new ChangeBatch { Dossiers = batches[i] }, CancellationToken.None);
            if (result.Rejected.Count > 0)
            {
                throw new InvalidOperationException($"The store rejected {result.Rejected.Count} generated changes: {result.Rejected[0].Reason}");
            }
        }
    })));
    hubClock.Stop();
    var hubRate = stream.Count / hubClock.Elapsed.TotalSeconds;
    var (current, history) = await CountAsync(dataSource);
    Console.WriteLine(string.Create(culture, $"hub batch path: {hubRate:F0} changes/s ({stream.Count:N0} changes in {hubClock.Elapsed.TotalSeconds:F1} s; stored {current:N0} dossiers, {history:N0} history rows)"));
    var distinct = stream.Distinct().Count();
    if (current != options.Dossiers || history != distinct)
    {
        throw new InvalidOperationException($"Stored state is wrong: expected {options.Dossiers} dossiers and {distinct} history rows.");
    }

    // (2) Raw binary COPY of the same rows into an unindexed table.
    await ExecuteAsync(dataSource, """
        create table copy_baseline as select * from dossier_change with no data;
        alter table copy_baseline drop column recorded_at;
        """);
    var hashes = stream.Select(c => ChangeHashing.Hash(c)).ToArray(); // computed before the clock: the baseline is the copy alone
    var copyClock = Stopwatch.StartNew();
    await using (var connection = await dataSource.OpenConnectionAsync())
    await using (var importer = await connection.BeginBinaryImportAsync(
        $"copy copy_baseline ({StatusStore.ChangeColumns}) from stdin (format binary)"))
    {
        for (var i = 0; i < stream.Count; i++)
        {
            await Workload.WriteRowAsync(importer, stream[i], hashes[i]);
        }

        await importer.CompleteAsync();
    }

    copyClock.Stop();
    var copyRate = stream.Count / copyClock.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(culture, $"raw binary COPY: {copyRate:F0} rows/s ({stream.Count:N0} rows in {copyClock.Elapsed.TotalSeconds:F1} s)"));

    // (3) Naive one-row-at-a-time upsert (history insert + current upsert, one transaction per row) on a sample.
    await ExecuteAsync(dataSource, "create schema naive");
    var naiveBuilder = new NpgsqlConnectionStringBuilder(server.ConnectionString) { SearchPath = "naive" };
    await using var naiveSource = NpgsqlDataSource.Create(naiveBuilder.ConnectionString);
    await SchemaMigrator.MigrateAsync(naiveSource, CancellationToken.None);
    var sample = stream.Take(options.NaiveSample).ToList();
    var naiveClock = Stopwatch.StartNew();
    await Workload.NaiveUpsertAsync(naiveSource, sample);
    naiveClock.Stop();
    var naiveRate = sample.Count / naiveClock.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(culture, $"naive row-at-a-time upsert: {naiveRate:F0} rows/s ({sample.Count:N0} rows in {naiveClock.Elapsed.TotalSeconds:F1} s; extrapolated to {stream.Count:N0}: {stream.Count / naiveRate / 60:F1} min)"));

    var copyRatio = hubRate / copyRate;
    var naiveRatio = hubRate / naiveRate;
    Console.WriteLine(string.Create(culture, $"store/copy ratio: {copyRatio:F2}"));
    Console.WriteLine(string.Create(culture, $"store/naive ratio: {naiveRatio:F0}"));

    if (options.ResultsFile is { } file)
    {
        Results.Write(file, options, serverVersion, stream.Count, hubRate, hubClock.Elapsed, copyRate, copyClock.Elapsed, naiveRate, sample.Count, copyRatio, naiveRatio);
        Console.WriteLine($"results written to {file}");
    }
}
finally
{
    await server.DestroyAsync();
}

static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
{
    await using var command = dataSource.CreateCommand(sql);
    await command.ExecuteNonQueryAsync();
}

static async Task<(long Current, long History)> CountAsync(NpgsqlDataSource dataSource)
{
    await using var command = dataSource.CreateCommand("select (select count(*) from dossier), (select count(*) from dossier_change)");
    await using var reader = await command.ExecuteReaderAsync();
    await reader.ReadAsync();
    return (reader.GetInt64(0), reader.GetInt64(1));
}
