using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Hub.Core.Audit;
using Hub.Core.Postgres;
using Hub.Core.Store;
using Hub.Core.Xml;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hub.Bench;

/// <summary>
/// Exchange-log throughput, all against one freshly created, durable PostgreSQL cluster in the same run:
/// (1) appends, each in its own transaction from concurrent writers, next to a plain one-row insert of the same bytes
/// into an unindexed table with the same concurrency; (2) sealing every entry into a signed checkpoint, next to just
/// reading the same entries and hashing their leaf data; (3) verifying the whole log from the database.
/// </summary>
internal static class ExchangeLogBenchmark
{
    /// <summary>Heading of this scenario's section in the results file.</summary>
    public const string Heading = "## Exchange log";

    private static readonly CancellationToken None = CancellationToken.None;

    public static async Task RunAsync(BenchOptions options)
    {
        var c = CultureInfo.InvariantCulture;
        var count = options.LogEntries;
        var writers = options.Writers * 2;
        Console.WriteLine(string.Create(c, $"generating {count:N0} exchange messages of about 2 KB"));
        var records = Enumerable.Range(0, count).Select(Record).ToArray();

        var directory = Path.Combine("/var/tmp", $"hub-bench-{Guid.NewGuid():N}");
        var pgOptions = new LocalPostgresOptions { Directory = directory, Durable = true };
        pgOptions.Settings["shared_buffers"] = "1GB";
        pgOptions.Settings["max_wal_size"] = "8GB";
        var server = await LocalPostgres.StartAsync(pgOptions, NullLogger.Instance, None);
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
            await SchemaMigrator.MigrateAsync(dataSource, None);
            await using var versionCommand = dataSource.CreateCommand("show server_version");
            var serverVersion = (string)(await versionCommand.ExecuteScalarAsync())!;
            await using (var create = dataSource.CreateCommand(
                "create table plain_insert (id bigint generated always as identity, recorded_at timestamptz, connector_id text, payload bytea, dossiers text[], detail text)"))
            {
                await create.ExecuteNonQueryAsync();
            }

            // (1) Appends against plain inserts, same rows and concurrency; the baseline first, then the log.
            var plainTime = await ConcurrentlyAsync(count, writers, async i =>
            {
                await using var command = dataSource.CreateCommand("insert into plain_insert (recorded_at, connector_id, payload, dossiers, detail) values ($1, $2, $3, $4, $5)");
                command.Parameters.Add(new() { Value = DateTimeOffset.UtcNow });
                command.Parameters.Add(new() { Value = records[i].ConnectorId });
                command.Parameters.Add(new() { Value = records[i].Payload!.Value.ToArray() });
                command.Parameters.Add(new() { Value = records[i].Dossiers.ToArray() });
                command.Parameters.Add(new() { Value = records[i].Detail });
                await command.ExecuteNonQueryAsync();
            });
            var log = new ExchangeLog(dataSource, TimeProvider.System);
            var appendTime = await ConcurrentlyAsync(count, writers, async i => await log.AppendAsync(records[i], None));
            var appendRate = count / appendTime.TotalSeconds;
            var plainRate = count / plainTime.TotalSeconds;
            Console.WriteLine(string.Create(c, $"log appends: {appendRate:F0}/s ({appendTime.TotalSeconds:F1} s); plain inserts: {plainRate:F0}/s ({plainTime.TotalSeconds:F1} s)"));

            // (2) Sealing everything against reading and hashing the same entries.
            var hashClock = Stopwatch.StartNew();
            await using (var command = dataSource.CreateCommand($"select {ExchangeLog.Columns} from exchange_entry e order by e.id"))
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    _ = ExchangeLog.Read(reader, 0).LeafHash();
                }
            }

            hashClock.Stop();
            using var certificate = XmlDsigSigner.CreateSelfSigned("CN=bench seal", DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            var sealer = new ExchangeSealer(dataSource, new Signing(certificate), TimeProvider.System, NullLogger<ExchangeSealer>.Instance);
            var sealClock = Stopwatch.StartNew();
            var checkpoint = await sealer.SealAsync(evenIfEmpty: false, None);
            sealClock.Stop();
            if (checkpoint?.TreeSize != count)
            {
                throw new InvalidOperationException($"Sealed {checkpoint?.TreeSize} entries, expected {count}.");
            }

            var sealRate = count / sealClock.Elapsed.TotalSeconds;
            var hashRate = count / hashClock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(c, $"seal: {sealRate:F0} entries/s ({sealClock.Elapsed.TotalSeconds:F2} s); read + leaf hash only: {hashRate:F0} entries/s"));

            // (3) Verification of the whole log.
            var verifyClock = Stopwatch.StartNew();
            var verification = await new ExchangeVerifier(dataSource).VerifyAsync([certificate], null, null, None);
            verifyClock.Stop();
            if (!verification.Valid || verification.EntriesVerified != count)
            {
                throw new InvalidOperationException($"The log did not verify: {verification.FirstProblem?.Problem}");
            }

            var verifyRate = count / verifyClock.Elapsed.TotalSeconds;
            string[] figures =
            [
                string.Create(c, $"log appends/s: {appendRate:F0}"),
                string.Create(c, $"plain inserts/s: {plainRate:F0}"),
                string.Create(c, $"log/insert ratio: {appendRate / plainRate:F2}"),
                string.Create(c, $"seal entries/s: {sealRate:F0}"),
                string.Create(c, $"seal/hash ratio: {sealRate / hashRate:F2}"),
                string.Create(c, $"log verify entries/s: {verifyRate:F0}"),
            ];
            foreach (var line in figures)
            {
                Console.WriteLine(line);
            }

            if (options.ResultsFile is { } file)
            {
                List<string> section =
                [
                    Heading,
                    "",
                    "Exchange-log throughput against one freshly created, durable PostgreSQL cluster (fsync and synchronous commit on),",
                    "each figure next to a baseline measured in the same run.",
                    "",
                    "Command:",
                    "",
                    "```",
                    "dotnet run -c Release --project bench/Hub.Bench -- --scenario exchange --results bench/RESULTS.md",
                    "```",
                    "",
                    string.Create(c, $"Workload: {count:N0} inbound messages of about 2 KB (distinct payloads, 3 dossier codes and a detail document each), appended by {writers} concurrent writers, each append its own transaction (entry, payload, seal queue). Baseline for appends: the same rows inserted one per transaction into an unindexed table with no queue, same concurrency. Sealing: every entry made a leaf of the Merkle tree and one checkpoint signed with RSA-3072 (XML-DSig); baseline: reading the same entries and computing their leaf hashes only. Verification: the whole log recomputed from the database (payload hashes, leaf hashes, checkpoint signature and root). Run at {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, PostgreSQL {serverVersion}, .NET {Environment.Version}."),
                    "",
                    "| measurement | rate | time |",
                    "|---|---|---|",
                    string.Create(c, $"| log append (own transaction) | {appendRate:F0} entries/s | {appendTime.TotalSeconds:F1} s |"),
                    string.Create(c, $"| plain one-row insert (own transaction) | {plainRate:F0} rows/s | {plainTime.TotalSeconds:F1} s |"),
                    string.Create(c, $"| seal (leaves + signed checkpoint) | {sealRate:F0} entries/s | {sealClock.Elapsed.TotalSeconds:F2} s |"),
                    string.Create(c, $"| read + leaf hash only | {hashRate:F0} entries/s | {hashClock.Elapsed.TotalSeconds:F2} s |"),
                    string.Create(c, $"| verify the whole log | {verifyRate:F0} entries/s | {verifyClock.Elapsed.TotalSeconds:F2} s |"),
                    "",
                    .. figures.SelectMany(f => new[] { f, "" }),
                ];
                Results.WriteSection(file, Heading, section);
            }
        }
        finally
        {
            await server.StopAsync();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<TimeSpan> ConcurrentlyAsync(int count, int writers, Func<int, Task> action)
    {
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await action(i);
            }
        })));
        return clock.Elapsed;
    }

    private static ExchangeRecord Record(int i)
    {
        var body = new StringBuilder("{\"records\":[");
        for (var r = 0; r < 8; r++)
        {
            body.Append(CultureInfo.InvariantCulture, $"{{\"code\":\"H56.10-260601-{(i * 8) + r:D7}\",\"status\":\"{r % 10}\",\"appliedDate\":\"2026-06-01 08:00:00\",\"note\":\"{new string('x', 180)}\"}},");
        }

        body.Length--;
        body.Append("]}");
        return new ExchangeRecord
        {
            Kind = ExchangeRecord.MessageKind,
            ConnectorId = "bench-" + (i % 8),
            Direction = "inbound",
            Transport = "rest-pull",
            ReceivedAt = DateTimeOffset.UtcNow,
            ContentType = "application/json",
            Payload = Encoding.UTF8.GetBytes(body.ToString()),
            Outcome = "stored",
            Dossiers = [.. Enumerable.Range(0, 3).Select(r => $"H56.10-260601-{(i * 8) + r:D7}")],
            MappingVersion = "bench/1",
            RunId = i / 100,
            Detail = "{\"records\":8,\"changesStored\":8,\"quarantined\":0}",
        };
    }

    private sealed class Signing(X509Certificate2 certificate) : IHubSigningCertificate
    {
        public X509Certificate2 Certificate { get; } = certificate;
    }
}
