using System.Security.Cryptography;
using System.Text;
using Hub.Contracts;
using Npgsql;

namespace Hub.Core.Store;

/// <summary>An event of the outbox, ready to publish: a <see cref="DossierStatusChanged"/> or a <see cref="DossierStepAdded"/>.</summary>
/// <param name="OutboxId">Its row in the outbox.</param>
/// <param name="Message">The event.</param>
public sealed record OutboxEvent(long OutboxId, object Message)
{
    /// <summary>The event's id, stable across publications.</summary>
    public Guid EventId => Message switch
    {
        DossierStatusChanged c => c.EventId,
        DossierStepAdded s => s.EventId,
        _ => throw new InvalidOperationException($"Not an outbox event: {Message.GetType().Name}"),
    };
}

/// <summary>What one dispatch did.</summary>
/// <param name="Published">Events handed to the publisher and marked sent.</param>
/// <param name="Superseded">Step rows whose step was changed again before they were published: marked sent without
/// publishing, since the newer content has its own row (the step's earlier content is no longer stored).</param>
public sealed record OutboxDispatch(int Published, int Superseded);

/// <summary>
/// The transactional outbox (<c>outbox</c>): the store's batch write adds a row for every change it accepts into the
/// history and every step it stores, in the batch's own transaction; <see cref="DispatchAsync"/> publishes them.
/// </summary>
/// <remarks>
/// A dispatch claims the oldest pending rows with <c>FOR UPDATE SKIP LOCKED</c> (so any number of dispatchers on any
/// number of nodes take different rows), reads the change or step each names, hands the events to the publisher, marks
/// them sent and commits, all in one transaction. A crash or a failed publish before the commit leaves the rows
/// pending: every event is published at least once, and possibly more than once; its <see cref="OutboxEvent.EventId"/>
/// is the same every time, so consumers ignore repeats. A step row waits until its dossier's header is stored, since
/// its event carries the dossier's national code.
/// </remarks>
public sealed class Outbox(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    /// <summary>The event kind of a change (column <c>outbox.kind</c>).</summary>
    public const string ChangeKind = "dossier-status-changed";

    /// <summary>The event kind of a step.</summary>
    public const string StepKind = "dossier-step-added";

    private static readonly string ClaimSql = $"""
        with claimed as (
            select o.id from outbox o
            where o.sent_at is null
              and (o.kind = '{ChangeKind}'
                   or exists (select 1 from dossier d where d.source_system = o.source_system and d.native_id = o.native_id))
            order by o.id
            limit $1
            for update of o skip locked)
        select o.id, o.kind, o.created_at, o.is_current, o.content_hash, d.dossier_code, s.content_hash,
               {Prefixed("c", StatusStore.ChangeColumns)}, {Prefixed("s", StatusStore.StepColumns)}
        from claimed k
        join outbox o on o.id = k.id
        left join dossier_change c on o.kind = '{ChangeKind}'
             and c.source_system = o.source_system and c.native_id = o.native_id and c.change_hash = o.record_key
        left join dossier_step s on o.kind = '{StepKind}'
             and s.source_system = o.source_system and s.native_id = o.native_id and s.step_key = o.record_key
        left join dossier d on o.kind = '{StepKind}' and d.source_system = o.source_system and d.native_id = o.native_id
        order by o.id
        """;

    private const int ChangeAt = 7;
    private static readonly int StepAt = ChangeAt + StatusStore.ChangeColumns.Split(',').Length;

    /// <summary>
    /// Claims up to <paramref name="max"/> pending events, hands them to <paramref name="publish"/> (oldest first) and
    /// marks them sent, in one transaction. When <paramref name="publish"/> throws, nothing is marked and the
    /// exception propagates.
    /// </summary>
    public async Task<OutboxDispatch> DispatchAsync(
        int max, Func<IReadOnlyList<OutboxEvent>, CancellationToken, Task> publish, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        ArgumentNullException.ThrowIfNull(publish);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var events = new List<OutboxEvent>();
        var done = new List<long>();
        var superseded = 0;
        await using (var command = new NpgsqlCommand(ClaimSql, connection) { Parameters = { new() { Value = max } } })
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetInt64(0);
                done.Add(id);
                var storedAt = reader.GetFieldValue<DateTimeOffset>(2);
                if (reader.GetString(1) == ChangeKind)
                {
                    var change = StatusStore.ReadChange(reader, ChangeAt);
                    events.Add(new OutboxEvent(id, new DossierStatusChanged
                    {
                        EventId = EventIdOf(ChangeKind, change.SourceSystem, change.NativeId, reader.GetFieldValue<byte[]>(ChangeAt + 2)),
                        Change = change,
                        Current = !reader.IsDBNull(3) && reader.GetBoolean(3),
                        StoredAt = storedAt,
                    }));
                }
                else if (!reader.IsDBNull(6) && reader.GetFieldValue<byte[]>(6).AsSpan().SequenceEqual(reader.GetFieldValue<byte[]>(4)))
                {
                    var step = StatusStore.ReadStep(reader, StepAt);
                    events.Add(new OutboxEvent(id, new DossierStepAdded
                    {
                        EventId = EventIdOf(StepKind, step.SourceSystem, step.NativeId, reader.GetFieldValue<byte[]>(4)),
                        DossierCode = reader.GetString(5),
                        Step = step,
                        StoredAt = storedAt,
                    }));
                }
                else
                {
                    superseded++;
                }
            }
        }

        if (done.Count == 0)
        {
            return new OutboxDispatch(0, 0);
        }

        if (events.Count > 0)
        {
            await publish(events, cancellationToken);
        }

        await using (var mark = new NpgsqlCommand("update outbox set sent_at = $2 where id = any($1)", connection))
        {
            mark.Parameters.Add(new() { Value = done.ToArray() });
            mark.Parameters.Add(new() { Value = timeProvider.GetUtcNow() });
            await mark.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new OutboxDispatch(events.Count, superseded);
    }

    /// <summary>Events not yet published.</summary>
    public async Task<long> PendingAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select count(*) from outbox where sent_at is null");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Deletes the rows of events sent before <paramref name="sentBefore"/>; never a pending one. Returns how many.</summary>
    public async Task<int> PurgeSentAsync(DateTimeOffset sentBefore, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("delete from outbox where sent_at < $1");
        command.Parameters.Add(new() { Value = sentBefore });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The id of the event announcing a stored record: a name-based UUID (RFC 9562 version 8, from SHA-256) of the kind,
    /// the dossier's key and the record's hash, so the same stored record always has the same event id.
    /// </summary>
    public static Guid EventIdOf(string kind, string sourceSystem, string nativeId, ReadOnlySpan<byte> recordHash)
    {
        var name = Encoding.UTF8.GetBytes($"{kind}\n{sourceSystem}\n{nativeId}\n{Convert.ToHexStringLower(recordHash)}");
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(name, hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    private static string Prefixed(string alias, string columns) =>
        string.Join(", ", columns.Split(',').Select(c => $"{alias}.{c.Trim()}"));
}
