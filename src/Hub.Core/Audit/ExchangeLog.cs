using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Npgsql;
using NpgsqlTypes;

namespace Hub.Core.Audit;

/// <summary>
/// The exchange log's entries: appended in the transaction of what they record, read back for auditors. Sealing and
/// verification are in <see cref="ExchangeSealer"/> and <see cref="ExchangeVerifier"/>.
/// </summary>
public sealed class ExchangeLog(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    /// <summary>Appends an entry in its own transaction (a rejected message, an action with nothing else to write).</summary>
    /// <returns>The entry's id.</returns>
    public async Task<long> AppendAsync(ExchangeRecord record, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await AppendAsync(connection, record, timeProvider.GetUtcNow(), cancellationToken);
    }

    /// <summary>
    /// Appends an entry on <paramref name="connection"/>, inside the transaction the caller has begun on it, so that the
    /// entry is committed exactly when what it records is.
    /// </summary>
    /// <returns>The entry's id.</returns>
    public static async Task<long> AppendAsync(NpgsqlConnection connection, ExchangeRecord record, DateTimeOffset recordedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        byte[]? sha = null;
        long? size = null;
        await using var batch = new NpgsqlBatch(connection);
        if (record.Payload is { } payload)
        {
            sha = SHA256.HashData(payload.Span);
            size = payload.Length;
            if (record.PayloadWithheld is null)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("insert into exchange_payload (sha256, content) values ($1, $2) on conflict do nothing")
                {
                    Parameters = { new() { Value = sha }, new() { Value = payload.ToArray() } },
                });
            }
        }

        var insert = new NpgsqlBatchCommand("""
            with e as (
                insert into exchange_entry (recorded_at, kind, connector_id, direction, transport, received_at, content_type,
                                            payload_sha256, payload_size, payload_withheld, outcome, reason, dossiers,
                                            mapping_version, run_id, actor, action, detail)
                values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
                returning id)
            insert into exchange_pending (entry_id) select id from e returning entry_id
            """);
        insert.Parameters.Add(new() { Value = ExchangeEntry.ToMicroseconds(recordedAt) });
        insert.Parameters.Add(new() { Value = record.Kind });
        insert.Parameters.Add(Text(record.ConnectorId));
        insert.Parameters.Add(Text(record.Direction));
        insert.Parameters.Add(Text(record.Transport));
        insert.Parameters.Add(new() { Value = record.ReceivedAt is { } r ? ExchangeEntry.ToMicroseconds(r) : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        insert.Parameters.Add(Text(record.ContentType));
        insert.Parameters.Add(new() { Value = (object?)sha ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bytea });
        insert.Parameters.Add(new() { Value = (object?)size ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        insert.Parameters.Add(Text(record.PayloadWithheld));
        insert.Parameters.Add(new() { Value = record.Outcome });
        insert.Parameters.Add(Text(record.Reason));
        insert.Parameters.Add(new() { Value = record.Dossiers.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        insert.Parameters.Add(Text(record.MappingVersion));
        insert.Parameters.Add(new() { Value = (object?)record.RunId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        insert.Parameters.Add(Text(record.Actor));
        insert.Parameters.Add(Text(record.Action));
        insert.Parameters.Add(Text(record.Detail));
        batch.BatchCommands.Add(insert);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        long id = 0;
        do
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                id = reader.GetInt64(0);
            }
        }
        while (await reader.NextResultAsync(cancellationToken));
        return id;
    }

    /// <summary>One entry, or <c>null</c>.</summary>
    public async Task<ExchangeEntry?> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"{SelectSql} where e.id = $1");
        command.Parameters.Add(new() { Value = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>The payload of an entry: <c>null</c> when it has none or it was withheld.</summary>
    public async Task<byte[]?> PayloadAsync(ExchangeEntry entry, CancellationToken cancellationToken)
    {
        if (entry.PayloadSha256 is null || entry.PayloadWithheld is not null)
        {
            return null;
        }

        await using var command = dataSource.CreateCommand("select content from exchange_payload where sha256 = $1");
        command.Parameters.Add(new() { Value = entry.PayloadSha256 });
        return await command.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    /// <summary>Entries matching a search, newest first.</summary>
    public async Task<IReadOnlyList<ExchangeEntry>> SearchAsync(ExchangeSearch search, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(search);
        var conditions = new List<string>();
        await using var command = dataSource.CreateCommand();
        void Add(string condition, object value, NpgsqlDbType type)
        {
            command.Parameters.Add(new() { Value = value, NpgsqlDbType = type });
            conditions.Add(condition.Replace("$?", "$" + command.Parameters.Count, StringComparison.Ordinal));
        }

        if (search.Dossier is { } dossier)
        {
            Add("e.dossiers @> array[$?]::text[]", dossier, NpgsqlDbType.Text);
        }

        if (search.ConnectorId is { } connector)
        {
            Add("e.connector_id = $?", connector, NpgsqlDbType.Text);
        }

        if (search.From is { } from)
        {
            Add("e.recorded_at >= $?", from, NpgsqlDbType.TimestampTz);
        }

        if (search.To is { } to)
        {
            Add("e.recorded_at < $?", to, NpgsqlDbType.TimestampTz);
        }

        if (search.Outcome is { } outcome)
        {
            Add("e.outcome = $?", outcome, NpgsqlDbType.Text);
        }

        if (search.Kind is { } kind)
        {
            Add("e.kind = $?", kind, NpgsqlDbType.Text);
        }

        if (search.RunId is { } run)
        {
            Add("e.run_id = $?", run, NpgsqlDbType.Bigint);
        }

        if (search.BeforeId is { } before)
        {
            Add("e.id < $?", before, NpgsqlDbType.Bigint);
        }

        command.Parameters.Add(new() { Value = Math.Clamp(search.Limit, 1, 10_000) });
        command.CommandText = $"{SelectSql} {(conditions.Count > 0 ? "where " + string.Join(" and ", conditions) : "")} order by e.id desc limit ${command.Parameters.Count}";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<ExchangeEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(Read(reader));
        }

        return list;
    }

    /// <summary>Entries by leaf index, from <paramref name="fromLeaf"/> (inclusive) to <paramref name="toLeaf"/> (exclusive).</summary>
    /// <remarks>Reads from the leaf table, so an entry row that is missing shows as a leaf with no entry (<see cref="LeafRow.Entry"/> <c>null</c>).</remarks>
    public static async IAsyncEnumerable<LeafRow> ReadLeavesAsync(
        NpgsqlConnection connection, long fromLeaf, long toLeaf, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            select l.leaf_index, l.entry_id, e.id is not null, {Columns}, p.content
            from exchange_leaf l
            left join exchange_entry e on e.id = l.entry_id
            left join exchange_payload p on p.sha256 = e.payload_sha256 and e.payload_withheld is null
            where l.leaf_index >= $1 and l.leaf_index < $2
            order by l.leaf_index
            """, connection);
        command.Parameters.Add(new() { Value = fromLeaf });
        command.Parameters.Add(new() { Value = toLeaf });
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var leafIndex = reader.GetInt64(0);
            var entryId = reader.GetInt64(1);
            if (!reader.GetBoolean(2))
            {
                yield return new LeafRow(leafIndex, entryId, null, null, false);
                continue;
            }

            var entry = Read(reader, 3) with { LeafIndex = leafIndex };
            var payload = reader.IsDBNull(3 + ColumnCount) ? null : reader.GetFieldValue<byte[]>(3 + ColumnCount);
            yield return new LeafRow(leafIndex, entryId, entry, payload, payload is not null);
        }
    }

    internal const string Columns = """
        e.id, e.recorded_at, e.kind, e.connector_id, e.direction, e.transport, e.received_at, e.content_type,
        e.payload_sha256, e.payload_size, e.payload_withheld, e.outcome, e.reason, e.dossiers, e.mapping_version,
        e.run_id, e.actor, e.action, e.detail
        """;

    private const int ColumnCount = 19;

    private const string SelectSql = $"""
        select {Columns}, l.leaf_index
        from exchange_entry e left join exchange_leaf l on l.entry_id = e.id
        """;

    private static ExchangeEntry Read(NpgsqlDataReader reader) =>
        Read(reader, 0) with { LeafIndex = reader.IsDBNull(ColumnCount) ? null : reader.GetInt64(ColumnCount) };

    internal static ExchangeEntry Read(NpgsqlDataReader reader, int o) => new()
    {
        Id = reader.GetInt64(o),
        RecordedAt = reader.GetFieldValue<DateTimeOffset>(o + 1),
        Kind = reader.GetString(o + 2),
        ConnectorId = reader.IsDBNull(o + 3) ? null : reader.GetString(o + 3),
        Direction = reader.IsDBNull(o + 4) ? null : reader.GetString(o + 4),
        Transport = reader.IsDBNull(o + 5) ? null : reader.GetString(o + 5),
        ReceivedAt = reader.IsDBNull(o + 6) ? null : reader.GetFieldValue<DateTimeOffset>(o + 6),
        ContentType = reader.IsDBNull(o + 7) ? null : reader.GetString(o + 7),
        PayloadSha256 = reader.IsDBNull(o + 8) ? null : reader.GetFieldValue<byte[]>(o + 8),
        PayloadSize = reader.IsDBNull(o + 9) ? null : reader.GetInt64(o + 9),
        PayloadWithheld = reader.IsDBNull(o + 10) ? null : reader.GetString(o + 10),
        Outcome = reader.GetString(o + 11),
        Reason = reader.IsDBNull(o + 12) ? null : reader.GetString(o + 12),
        Dossiers = reader.GetFieldValue<string[]>(o + 13),
        MappingVersion = reader.IsDBNull(o + 14) ? null : reader.GetString(o + 14),
        RunId = reader.IsDBNull(o + 15) ? null : reader.GetInt64(o + 15),
        Actor = reader.IsDBNull(o + 16) ? null : reader.GetString(o + 16),
        Action = reader.IsDBNull(o + 17) ? null : reader.GetString(o + 17),
        Detail = reader.IsDBNull(o + 18) ? null : reader.GetString(o + 18),
    };

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };
}

/// <summary>A search of the exchange log; every given criterion must match.</summary>
public sealed record ExchangeSearch
{
    public string? Dossier { get; init; }

    public string? ConnectorId { get; init; }

    public DateTimeOffset? From { get; init; }

    public DateTimeOffset? To { get; init; }

    public string? Outcome { get; init; }

    public string? Kind { get; init; }

    public long? RunId { get; init; }

    /// <summary>Paging: only entries with a smaller id.</summary>
    public long? BeforeId { get; init; }

    public int Limit { get; init; } = 100;
}

/// <summary>A leaf of the tree as stored: its entry (missing when the row is gone) and payload.</summary>
public sealed record LeafRow(long LeafIndex, long EntryId, ExchangeEntry? Entry, byte[]? Payload, bool HasPayload);
