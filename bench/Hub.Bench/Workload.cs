using Hub.Contracts;
using Hub.Core.Store;
using Npgsql;
using NpgsqlTypes;

namespace Hub.Bench;

/// <summary>The generated change stream and the two baselines' row writers.</summary>
internal static class Workload
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 8, 0, 0, TimeSpan.FromHours(7));

    private static readonly NationalStatus[][] Paths =
    [
        [NationalStatus.Submitted, NationalStatus.Received, NationalStatus.Processing, NationalStatus.Resolved, NationalStatus.ResultReturned, NationalStatus.Processing, NationalStatus.Resolved],
        [NationalStatus.Received, NationalStatus.Processing, NationalStatus.SupplementRequested, NationalStatus.Processing, NationalStatus.Resolved, NationalStatus.ResultReturned, NationalStatus.ResultReturned],
        [NationalStatus.Received, NationalStatus.Processing, NationalStatus.FinancialObligationRequired, NationalStatus.Processing, NationalStatus.ProcessingStopped, NationalStatus.Processing, NationalStatus.Resolved],
    ];

    /// <summary>
    /// Distinct changes per dossier in source order, then delivered roughly in event-time order as sources send them,
    /// with a share moved later (out of order) and a share sent again later (duplicates).
    /// </summary>
    public static List<DossierChange> Generate(BenchOptions options)
    {
        var random = new Random(20260609);
        var duplicates = (int)(options.Changes * options.Duplicated);
        var distinct = options.Changes - duplicates;
        var perDossier = distinct / options.Dossiers;
        var extra = distinct % options.Dossiers;

        var changes = new List<DossierChange>(distinct);
        for (var d = 0; d < options.Dossiers; d++)
        {
            var system = $"SYS{d % options.Systems:00}";
            var agency = $"000.00.{d % 90:00}.H{10 + (d % options.Systems):00}";
            var path = Paths[d % Paths.Length];
            var count = perDossier + (d < extra ? 1 : 0);
            var time = Start.AddMinutes(random.Next(0, 60 * 24 * 300));
            var received = time;
            var due = received.AddDays(random.Next(3, 15));
            for (var k = 0; k < count; k++)
            {
                var status = path[Math.Min(k, path.Length - 1)];
                if (k == 3 && d % 4 == 0)
                {
                    due = due.AddDays(2); // some due dates move
                }

                changes.Add(new DossierChange
                {
                    SourceSystem = system,
                    NativeId = $"{d:D7}",
                    DossierCode = $"{agency}-{received:yyMMdd}-{d:D7}",
                    EventTime = time,
                    SourceVersion = k + 1,
                    Status = status,
                    SourceStatus = $"ST{(int)status:00}",
                    MappingVersion = "v3",
                    ProcedureCode = $"1.00{1000 + (d % 3000)}.000.00.00.H{10 + (d % options.Systems):00}",
                    ProcedureBaseCode = $"1.00{1000 + (d % 3000)}",
                    ProcedureName = "Đăng ký thành lập hộ kinh doanh",
                    SectorCode = "G15-KH01",
                    AgencyCode = agency,
                    HandlingUnit = "Phòng Tài chính - Kế hoạch",
                    ApplicantType = ApplicantType.Citizen,
                    Channel = d % 3 == 0 ? Channel.InPerson : Channel.Online,
                    PaidOnline = d % 2 == 0,
                    SubmittedAt = received.AddMinutes(-45),
                    ReceivedAt = received,
                    DueAt = due,
                    ProcessingFinishedAt = status is NationalStatus.Resolved or NationalStatus.ResultReturned ? time : null,
                    ResultReturnedAt = status == NationalStatus.ResultReturned ? time : null,
                });
                time = time.AddMinutes(random.Next(30, 60 * 24 * 3));
            }
        }

        // Delivery order: by event time, as sources send; then a share arrives late, and a share is sent again later.
        changes.Sort((a, b) => a.EventTime.CompareTo(b.EventTime));
        var order = new List<(double Position, DossierChange Change)>(options.Changes);
        for (var i = 0; i < changes.Count; i++)
        {
            var late = random.NextDouble() < options.OutOfOrder ? random.Next(1, 50_000) + 0.25 : 0;
            order.Add((i + late, changes[i]));
        }

        for (var j = 0; j < duplicates; j++)
        {
            var i = random.Next(changes.Count);
            order.Add((i + random.Next(1, 50_000) + 0.5, changes[i]));
        }

        order.Sort((a, b) => a.Position.CompareTo(b.Position));
        return [.. order.Select(o => o.Change)];
    }

    public static async Task WriteRowAsync(NpgsqlBinaryImporter importer, DossierChange c, byte[] hash)
    {
        await importer.StartRowAsync();
        await importer.WriteAsync(c.SourceSystem, NpgsqlDbType.Text);
        await importer.WriteAsync(c.NativeId, NpgsqlDbType.Text);
        await importer.WriteAsync(hash, NpgsqlDbType.Bytea);
        await importer.WriteAsync(c.DossierCode, NpgsqlDbType.Text);
        await importer.WriteAsync(c.EventTime.ToUniversalTime(), NpgsqlDbType.TimestampTz);
        await Nullable(importer, c.SourceVersion, NpgsqlDbType.Bigint);
        await importer.WriteAsync((short)c.Status, NpgsqlDbType.Smallint);
        foreach (var text in new[] { c.SourceStatus, c.MappingVersion, c.ProcedureCode, c.ProcedureBaseCode, c.ProcedureName, c.SectorCode, c.AgencyCode, c.HandlingUnit })
        {
            await (text is null ? importer.WriteNullAsync() : importer.WriteAsync(text, NpgsqlDbType.Text));
        }

        await Nullable(importer, (short?)c.ApplicantType, NpgsqlDbType.Smallint);
        await Nullable(importer, (short?)c.Channel, NpgsqlDbType.Smallint);
        await Nullable(importer, c.PaidOnline, NpgsqlDbType.Boolean);
        foreach (var time in new[] { c.SubmittedAt, c.ReceivedAt, c.DueAt, c.ProcessingFinishedAt, c.ResultReturnedAt, c.RefusedAt })
        {
            await Nullable(importer, time?.ToUniversalTime(), NpgsqlDbType.TimestampTz);
        }
    }

    /// <summary>
    /// One change at a time, each in its own transaction: insert into the history (ignore if present) and upsert the
    /// current state if newer. The same semantics as the store, the way an ad-hoc integration writes it.
    /// </summary>
    public static async Task NaiveUpsertAsync(NpgsqlDataSource dataSource, IReadOnlyList<DossierChange> changes)
    {
        const string columns = StatusStore.ChangeColumns;
        const string values = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24";
        await using var connection = await dataSource.OpenConnectionAsync();
        foreach (var c in changes)
        {
            await using var batch = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand($"insert into dossier_change ({columns}) values ({values}) on conflict do nothing"),
                    new NpgsqlBatchCommand($"""
                        insert into dossier ({columns}) values ({values})
                        on conflict (source_system, native_id) do update set
                            change_hash = excluded.change_hash, dossier_code = excluded.dossier_code, event_time = excluded.event_time,
                            source_version = excluded.source_version, status = excluded.status, source_status = excluded.source_status,
                            due_at = excluded.due_at, processing_finished_at = excluded.processing_finished_at,
                            result_returned_at = excluded.result_returned_at, updated_at = now()
                        where (excluded.event_time, coalesce(excluded.source_version, -9223372036854775808), excluded.change_hash)
                            > (dossier.event_time, coalesce(dossier.source_version, -9223372036854775808), dossier.change_hash)
                        """),
                },
            };
            var hash = ChangeHashing.Hash(c);
            foreach (var command in batch.BatchCommands)
            {
                object?[] parameters =
                [
                    c.SourceSystem, c.NativeId, hash, c.DossierCode, c.EventTime.ToUniversalTime(), c.SourceVersion, (short)c.Status,
                    c.SourceStatus, c.MappingVersion, c.ProcedureCode, c.ProcedureBaseCode, c.ProcedureName, c.SectorCode, c.AgencyCode,
                    c.HandlingUnit, (short?)c.ApplicantType, (short?)c.Channel, c.PaidOnline, c.SubmittedAt?.ToUniversalTime(),
                    c.ReceivedAt?.ToUniversalTime(), c.DueAt?.ToUniversalTime(), c.ProcessingFinishedAt?.ToUniversalTime(),
                    c.ResultReturnedAt?.ToUniversalTime(), c.RefusedAt?.ToUniversalTime(),
                ];
                NpgsqlDbType[] types =
                [
                    NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Bytea, NpgsqlDbType.Text, NpgsqlDbType.TimestampTz, NpgsqlDbType.Bigint,
                    NpgsqlDbType.Smallint, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text,
                    NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Smallint, NpgsqlDbType.Smallint, NpgsqlDbType.Boolean,
                    NpgsqlDbType.TimestampTz, NpgsqlDbType.TimestampTz, NpgsqlDbType.TimestampTz, NpgsqlDbType.TimestampTz,
                    NpgsqlDbType.TimestampTz, NpgsqlDbType.TimestampTz,
                ];
                for (var i = 0; i < parameters.Length; i++)
                {
                    command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = types[i], Value = parameters[i] ?? DBNull.Value });
                }
            }

            await batch.ExecuteNonQueryAsync();
        }
    }

    private static Task Nullable<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type)
        where T : struct =>
        value is { } v ? importer.WriteAsync(v, type) : importer.WriteNullAsync();
}
