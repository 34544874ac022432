using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Hub.Core.Sync;

/// <summary>
/// The hub's own record of sync runs, connector cursors and quarantined records, and the lock that keeps one run
/// per connector at a time across every hub process sharing the database.
/// </summary>
/// <remarks>
/// The in-transaction methods take the connection of the status store's batch transaction
/// (<see cref="Store.StatusStore.WriteAsync(Contracts.ChangeBatch, Func{NpgsqlConnection, Store.WriteResult, CancellationToken, Task}?, CancellationToken)"/>),
/// so a page's dossiers, its quarantined records, the run's counters and the connector's cursor are committed together.
/// </remarks>
public sealed partial class SyncLedger(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    /// <summary>
    /// Takes the connector's run lock, a PostgreSQL session advisory lock held on a connection of its own for as long as
    /// the lease lives. The lock dies with the connection, so a killed hub process never leaves it behind.
    /// </summary>
    /// <returns>The lease, or <c>null</c> when another run (in any hub process) holds the lock.</returns>
    public async Task<ConnectorLease?> TryAcquireAsync(string connectorId, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand("select pg_try_advisory_lock($1)", connection)
            {
                Parameters = { new() { Value = LockKey(connectorId) } },
            };
            if ((bool)(await command.ExecuteScalarAsync(cancellationToken))!)
            {
                return new ConnectorLease(connectorId, connection, LockKey(connectorId));
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }

    /// <summary>Records the start of a run. Runs of the connector still marked running are marked abandoned: the caller holds the lock, so they are dead.</summary>
    /// <param name="lease">The connector's run lock.</param>
    /// <param name="trigger">What started the run.</param>
    /// <param name="cursorBefore">Where the run starts reading.</param>
    /// <param name="mappingVersion">The mapping version it maps with.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="range">The range of a back-fill (required for <see cref="SyncTrigger.Backfill"/>, <c>null</c> otherwise).</param>
    /// <param name="retryOf">The run this one retries or resumes, if any.</param>
    public async Task<long> StartRunAsync(
        ConnectorLease lease, SyncTrigger trigger, string? cursorBefore, string mappingVersion, CancellationToken cancellationToken,
        BackfillRange? range = null, long? retryOf = null)
    {
        var now = timeProvider.GetUtcNow();
        await using (var abandon = new NpgsqlCommand("""
            update sync_run set outcome = 'abandoned', ended_at = $2, failure_side = 'hub', failure_retryable = true,
                failure_reason = 'The run stopped without finishing (its hub process ended); the next run resumed from its last stored cursor.'
            where connector_id = $1 and outcome = 'running'
            """, lease.Connection))
        {
            abandon.Parameters.Add(new() { Value = lease.ConnectorId });
            abandon.Parameters.Add(new() { Value = now });
            await abandon.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var insert = new NpgsqlCommand("""
            insert into sync_run (connector_id, trigger, host, started_at, mapping_version, cursor_before, cursor_after, range_from, range_to, retry_of)
            values ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9) returning id
            """, lease.Connection)
        {
            Parameters =
            {
                new() { Value = lease.ConnectorId },
                new() { Value = TriggerName(trigger) },
                new() { Value = Environment.MachineName + ":" + Environment.ProcessId },
                new() { Value = now },
                new() { Value = mappingVersion },
                new() { Value = (object?)cursorBefore ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
                new() { Value = (object?)range?.From.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                new() { Value = (object?)range?.To.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                new() { Value = (object?)retryOf ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint },
            },
        };
        return (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Records a run that did not happen because another run of the connector held its lock.</summary>
    public async Task<long> RecordSkippedAsync(
        string connectorId, SyncTrigger trigger, CancellationToken cancellationToken, BackfillRange? range = null, long? retryOf = null)
    {
        var now = timeProvider.GetUtcNow();
        await using var command = dataSource.CreateCommand("""
            insert into sync_run (connector_id, trigger, host, started_at, ended_at, outcome, failure_reason, range_from, range_to, retry_of)
            values ($1, $2, $3, $4, $4, 'skipped', 'Another run of the connector was in progress (in this or another hub process).', $5, $6, $7)
            returning id
            """);
        command.Parameters.Add(new() { Value = connectorId });
        command.Parameters.Add(new() { Value = TriggerName(trigger) });
        command.Parameters.Add(new() { Value = Environment.MachineName + ":" + Environment.ProcessId });
        command.Parameters.Add(new() { Value = now });
        command.Parameters.Add(new() { Value = (object?)range?.From.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = (object?)range?.To.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = (object?)retryOf ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Moves the connector's cursor from <paramref name="expected"/> to <paramref name="next"/>, in the caller's
    /// transaction. A cursor moved by someone else in between fails the transaction: a page is never stored twice
    /// over a cursor another run already moved.
    /// </summary>
    /// <exception cref="CursorConflictException">The stored cursor is not <paramref name="expected"/>.</exception>
    public static async Task MoveCursorAsync(
        NpgsqlConnection connection, string connectorId, string? expected, string? next, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "update connector set cursor = $2, cursor_moved_at = $4 where id = $1 and cursor is not distinct from $3", connection)
        {
            Parameters =
            {
                new() { Value = connectorId },
                new() { Value = (object?)next ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
                new() { Value = (object?)expected ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
                new() { Value = now },
            },
        };
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            throw new CursorConflictException(connectorId);
        }
    }

    /// <summary>Moves the connector's newest stored source event time forward (never back), in the caller's transaction.</summary>
    public static async Task NoteNewestEventAsync(NpgsqlConnection connection, string connectorId, DateTimeOffset eventTime, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "update connector set newest_event_at = $2 where id = $1 and (newest_event_at is null or newest_event_at < $2)", connection)
        {
            // Npgsql writes timestamptz from UTC offsets only; sources give their own (+07:00).
            Parameters = { new() { Value = connectorId }, new() { Value = eventTime.ToUniversalTime() } },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Adds a page's counts to its run, in the caller's transaction.</summary>
    public static async Task AddPageAsync(NpgsqlConnection connection, long runId, PageCounts counts, string? cursorAfter, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            update sync_run set pages = pages + $2, records_read = records_read + $3, changes_stored = changes_stored + $4,
                unchanged = unchanged + $5, steps_stored = steps_stored + $6, irregular = irregular + $7,
                quarantined = quarantined + $8, cursor_after = $9
            where id = $1
            """, connection)
        {
            Parameters =
            {
                new() { Value = runId },
                new() { Value = counts.Pages },
                new() { Value = (long)counts.RecordsRead },
                new() { Value = (long)counts.ChangesStored },
                new() { Value = (long)counts.Unchanged },
                new() { Value = (long)counts.StepsStored },
                new() { Value = (long)counts.Irregular },
                new() { Value = (long)counts.Quarantined },
                new() { Value = (object?)cursorAfter ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
            },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Keeps bad records with their reasons, in the caller's transaction; a record already kept is updated, not added again.</summary>
    public static async Task QuarantineAsync(
        NpgsqlConnection connection, string connectorId, long? runId, IReadOnlyList<QuarantineEntry> entries, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
        {
            return;
        }

        // Sorted and distinct, so that concurrent writers lock rows in one order and one statement never touches a row twice.
        var distinct = entries
            .GroupBy(e => Convert.ToHexString(PayloadHash(e)))
            .Select(g => g.Last())
            .OrderBy(e => Convert.ToHexString(PayloadHash(e)), StringComparer.Ordinal)
            .ToList();
        await using var command = new NpgsqlCommand("""
            insert into quarantined_record (connector_id, payload_hash, record_kind, payload, reason, mapping_version,
                                            first_run_id, last_run_id, first_seen_at, last_seen_at)
            select $1, h, k, p, r, v, $2, $2, $3, $3 from unnest($4::bytea[], $5::text[], $6::text[], $7::text[], $8::text[]) as t(h, k, p, r, v)
            on conflict (connector_id, payload_hash) do update set
                reason = excluded.reason, mapping_version = excluded.mapping_version, last_run_id = coalesce(excluded.last_run_id, quarantined_record.last_run_id),
                last_seen_at = excluded.last_seen_at, times_seen = quarantined_record.times_seen + 1,
                resolved_at = null, resolved_run_id = null
            """, connection)
        {
            Parameters =
            {
                new() { Value = connectorId },
                new() { Value = (object?)runId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint },
                new() { Value = now },
                new() { Value = distinct.Select(PayloadHash).ToArray() },
                new() { Value = distinct.Select(e => e.Kind).ToArray() },
                new() { Value = distinct.Select(e => e.Payload).ToArray() },
                new() { Value = distinct.Select(e => e.Reason).ToArray() },
                new() { Value = distinct.Select(e => e.MappingVersion).ToArray() },
            },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Marks quarantined records as stored by a re-processing run, in the caller's transaction.</summary>
    public static async Task ResolveQuarantinedAsync(
        NpgsqlConnection connection, IReadOnlyList<long> ids, long runId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return;
        }

        await using var command = new NpgsqlCommand(
            "update quarantined_record set resolved_at = $2, resolved_run_id = $3 where id = any($1)", connection)
        {
            Parameters = { new() { Value = ids.Order().ToArray() }, new() { Value = now }, new() { Value = runId } },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Records the end of a run, with the connector's newest stored source event time at that moment (for its lag).</summary>
    public async Task FinishRunAsync(long runId, RunOutcome outcome, int attempts, RunFailure? failure, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            update sync_run set outcome = $2, ended_at = $3, attempts = $4, failure_side = $5, failure_retryable = $6, failure_reason = $7,
                newest_event_at = (select newest_event_at from connector c where c.id = sync_run.connector_id)
            where id = $1
            """);
        command.Parameters.Add(new() { Value = runId });
        command.Parameters.Add(new() { Value = outcome.ToString().ToLowerInvariant() });
        command.Parameters.Add(new() { Value = timeProvider.GetUtcNow() });
        command.Parameters.Add(new() { Value = attempts });
        command.Parameters.Add(new() { Value = failure is null ? DBNull.Value : SideName(failure.Side), NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = failure is null ? DBNull.Value : failure.Retryable, NpgsqlDbType = NpgsqlDbType.Boolean });
        command.Parameters.Add(new() { Value = (object?)failure?.Reason ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A run by id; <c>null</c> when unknown.</summary>
    public async Task<SyncRunRecord?> GetRunAsync(long runId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"{RunSelectSql} where id = $1");
        command.Parameters.Add(new() { Value = runId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRun(reader) : null;
    }

    /// <summary>
    /// For every connector, what <see cref="ConnectorFreshness.Judge"/> needs: when it was registered, when its last
    /// successful run ended, and its latest failed run when that came after the last success.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, FreshnessFacts>> FreshnessFactsAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select c.id, c.created_at, s.ended_at, f.ended_at, f.failure_reason
            from connector c
            left join lateral (select ended_at from sync_run r where r.connector_id = c.id and r.outcome = 'succeeded'
                               order by started_at desc limit 1) s on true
            left join lateral (select ended_at, failure_reason from sync_run r where r.connector_id = c.id and r.outcome = 'failed'
                               order by started_at desc limit 1) f on true
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var facts = new Dictionary<string, FreshnessFacts>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            DateTimeOffset? success = reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2);
            (DateTimeOffset, string)? failure = reader.IsDBNull(3) ? null : (reader.GetFieldValue<DateTimeOffset>(3), reader.IsDBNull(4) ? "" : reader.GetString(4));
            facts[reader.GetString(0)] = new FreshnessFacts(
                reader.GetFieldValue<DateTimeOffset>(1), success, failure is { } f && (success is null || f.Item1 > success) ? failure : null);
        }

        return facts;
    }

    /// <summary>
    /// For every connector with runs since <paramref name="since"/>: the records its runs read since then and its open
    /// quarantined records last seen since then.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, (long RecordsRead, long OpenQuarantined)>> QuarantineRatesAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select r.connector_id, sum(r.records_read)::bigint,
                   (select count(*) from quarantined_record q where q.connector_id = r.connector_id and q.resolved_at is null and q.last_seen_at >= $1)
            from sync_run r
            where r.started_at >= $1
            group by r.connector_id
            """);
        command.Parameters.Add(new() { Value = since });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rates = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            rates[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        }

        return rates;
    }

    /// <summary>A connector's runs, newest first.</summary>
    public async Task<IReadOnlyList<SyncRunRecord>> ListRunsAsync(string connectorId, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"{RunSelectSql} where connector_id = $1 order by id desc limit $2");
        command.Parameters.Add(new() { Value = connectorId });
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<SyncRunRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(ReadRun(reader));
        }

        return list;
    }

    /// <summary>
    /// The newest back-fill of the connector over exactly this range that did not end (its process died: still marked
    /// running, or already marked abandoned by a later run), to resume from its progress; <c>null</c> when there is none
    /// or a later back-fill of the range finished.
    /// </summary>
    public async Task<SyncRunRecord?> FindUnfinishedBackfillAsync(string connectorId, BackfillRange range, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            {RunSelectSql}
            where connector_id = $1 and trigger = 'backfill' and range_from = $2 and range_to = $3 and outcome <> 'skipped'
            order by id desc limit 1
            """);
        command.Parameters.Add(new() { Value = connectorId });
        command.Parameters.Add(new() { Value = range.From.ToUniversalTime() });
        command.Parameters.Add(new() { Value = range.To.ToUniversalTime() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) && ReadRun(reader) is { Outcome: RunOutcome.Running or RunOutcome.Abandoned } run ? run : null;
    }

    /// <summary>
    /// The id of the newest run after <paramref name="run"/> that did the same work (<see cref="BackfillRules.SameWork"/>;
    /// for a back-fill, over the same range) and succeeded; <c>null</c> when there is none.
    /// </summary>
    public async Task<long?> LaterSuccessAsync(SyncRunRecord run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        await using var command = dataSource.CreateCommand("""
            select max(id) from sync_run
            where connector_id = $1 and id > $2 and outcome = 'succeeded' and trigger = any($3)
              and range_from is not distinct from $4 and range_to is not distinct from $5
            """);
        command.Parameters.Add(new() { Value = run.ConnectorId });
        command.Parameters.Add(new() { Value = run.Id });
        command.Parameters.Add(new() { Value = BackfillRules.SameWork(run.Trigger).Select(TriggerName).ToArray() });
        command.Parameters.Add(new() { Value = (object?)run.Range?.From.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = (object?)run.Range?.To.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await command.ExecuteScalarAsync(cancellationToken) is long id ? id : null;
    }

    /// <summary>The connector's runs that ended at or after <paramref name="since"/>, oldest first (for its activity chart).</summary>
    public async Task<IReadOnlyList<SyncRunRecord>> RunsEndedSinceAsync(string connectorId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"{RunSelectSql} where connector_id = $1 and ended_at >= $2 order by ended_at, id");
        command.Parameters.Add(new() { Value = connectorId });
        command.Parameters.Add(new() { Value = since.ToUniversalTime() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<SyncRunRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(ReadRun(reader));
        }

        return list;
    }

    /// <summary>A connector's quarantined records after <paramref name="afterId"/>, oldest first.</summary>
    public async Task<IReadOnlyList<QuarantinedRecord>> ListQuarantineAsync(
        string connectorId, bool openOnly, long afterId, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            select id, connector_id, record_kind, payload, reason, mapping_version, first_seen_at, last_seen_at, times_seen,
                   resolved_at, resolved_run_id
            from quarantined_record
            where connector_id = $1 and id > $2 {(openOnly ? "and resolved_at is null" : "")}
            order by id limit $3
            """);
        command.Parameters.Add(new() { Value = connectorId });
        command.Parameters.Add(new() { Value = afterId });
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<QuarantinedRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new QuarantinedRecord(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.GetString(5),
                reader.GetFieldValue<DateTimeOffset>(6),
                reader.GetFieldValue<DateTimeOffset>(7),
                reader.GetInt32(8),
                reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9),
                reader.IsDBNull(10) ? null : reader.GetInt64(10)));
        }

        return list;
    }

    private const string RunSelectSql = """
        select id, connector_id, trigger, host, started_at, ended_at, outcome, attempts, pages, records_read, changes_stored,
               unchanged, steps_stored, irregular, quarantined, mapping_version, cursor_before, cursor_after,
               failure_side, failure_retryable, failure_reason, range_from, range_to, retry_of, newest_event_at
        from sync_run
        """;

    private static SyncRunRecord ReadRun(NpgsqlDataReader r) => new(
        r.GetInt64(0),
        r.GetString(1),
        Enum.Parse<SyncTrigger>(r.GetString(2), ignoreCase: true),
        r.GetString(3),
        r.GetFieldValue<DateTimeOffset>(4),
        r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5),
        Enum.Parse<RunOutcome>(r.GetString(6), ignoreCase: true),
        r.GetInt32(7),
        new PageCounts(r.GetInt32(8), (int)r.GetInt64(9), (int)r.GetInt64(10), (int)r.GetInt64(11), (int)r.GetInt64(12), (int)r.GetInt64(13), (int)r.GetInt64(14)),
        r.IsDBNull(15) ? null : r.GetString(15),
        r.IsDBNull(16) ? null : r.GetString(16),
        r.IsDBNull(17) ? null : r.GetString(17),
        r.IsDBNull(18) ? null : new RunFailure(ParseSide(r.GetString(18)), !r.IsDBNull(19) && r.GetBoolean(19), r.IsDBNull(20) ? "" : r.GetString(20)))
    {
        Range = r.IsDBNull(21) || r.IsDBNull(22) ? null : new BackfillRange(r.GetFieldValue<DateTimeOffset>(21), r.GetFieldValue<DateTimeOffset>(22)),
        RetryOf = r.IsDBNull(23) ? null : r.GetInt64(23),
        NewestEventAt = r.IsDBNull(24) ? null : r.GetFieldValue<DateTimeOffset>(24),
    };

    private static long LockKey(string connectorId) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("hub.connector-run:" + connectorId)), 0);

    private static byte[] PayloadHash(QuarantineEntry entry) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(entry.Kind + "\n" + entry.Payload));

    private static string TriggerName(SyncTrigger trigger) => trigger.ToString().ToLowerInvariant();

    private static string SideName(Connectors.FailureSide side) => side switch
    {
        Connectors.FailureSide.SourceUnreachable => "source_unreachable",
        Connectors.FailureSide.SourceAuth => "source_auth",
        Connectors.FailureSide.SourceData => "source_data",
        Connectors.FailureSide.Configuration => "configuration",
        _ => "hub",
    };

    private static Connectors.FailureSide ParseSide(string name) => name switch
    {
        "source_unreachable" => Connectors.FailureSide.SourceUnreachable,
        "source_auth" => Connectors.FailureSide.SourceAuth,
        "source_data" => Connectors.FailureSide.SourceData,
        "configuration" => Connectors.FailureSide.Configuration,
        _ => Connectors.FailureSide.Hub,
    };
}

/// <summary>The run lock of one connector, held until disposed (or until the process dies).</summary>
public sealed class ConnectorLease : IAsyncDisposable
{
    private readonly long _key;

    internal ConnectorLease(string connectorId, NpgsqlConnection connection, long key)
    {
        ConnectorId = connectorId;
        Connection = connection;
        _key = key;
    }

    /// <summary>The connector whose run lock this is.</summary>
    public string ConnectorId { get; }

    internal NpgsqlConnection Connection { get; }

    /// <summary>Releases the lock.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var command = new NpgsqlCommand("select pg_advisory_unlock($1)", Connection) { Parameters = { new() { Value = _key } } };
            await command.ExecuteNonQueryAsync();
        }
        finally
        {
            // Closing the connection releases the lock too, if the unlock failed.
            await Connection.DisposeAsync();
        }
    }
}

/// <summary>What started a run.</summary>
public enum SyncTrigger
{
    /// <summary>The connector's schedule.</summary>
    Schedule,

    /// <summary>An operator's "sync now".</summary>
    Manual,

    /// <summary>Re-processing of quarantined records.</summary>
    Reprocess,

    /// <summary>A pushed message.</summary>
    Push,

    /// <summary>An operator's back-fill of a past range; the connector's cursor does not move.</summary>
    Backfill,
}

/// <summary>How a run ended.</summary>
public enum RunOutcome
{
    /// <summary>Still running (or its process died; the next run marks it abandoned).</summary>
    Running,

    /// <summary>Read everything there was.</summary>
    Succeeded,

    /// <summary>Stopped by a failure; what it stored before is kept and the next run resumes from its cursor.</summary>
    Failed,

    /// <summary>Not run: another run of the connector was in progress.</summary>
    Skipped,

    /// <summary>Its hub process ended while it ran.</summary>
    Abandoned,
}

/// <summary>Counts of a page or of a whole run.</summary>
/// <param name="Pages">Pages read.</param>
/// <param name="RecordsRead">Raw records read.</param>
/// <param name="ChangesStored">Dossier changes new to the history.</param>
/// <param name="Unchanged">Dossier changes the history already had.</param>
/// <param name="StepsStored">Processing steps stored or replaced.</param>
/// <param name="Irregular">Stored changes whose status move the national lifecycle does not expect.</param>
/// <param name="Quarantined">Raw records kept in quarantine.</param>
public sealed record PageCounts(int Pages, int RecordsRead, int ChangesStored, int Unchanged, int StepsStored, int Irregular, int Quarantined)
{
    /// <summary>No counts.</summary>
    public static readonly PageCounts Zero = new(0, 0, 0, 0, 0, 0, 0);

    /// <summary>The sum of two counts.</summary>
    public PageCounts Add(PageCounts other) => new(
        Pages + other.Pages,
        RecordsRead + other.RecordsRead,
        ChangesStored + other.ChangesStored,
        Unchanged + other.Unchanged,
        StepsStored + other.StepsStored,
        Irregular + other.Irregular,
        Quarantined + other.Quarantined);
}

/// <summary>Why a run failed: whose side, whether retrying can help, and what happened.</summary>
public sealed record RunFailure(Connectors.FailureSide Side, bool Retryable, string Reason);

/// <summary>A record to keep in quarantine.</summary>
/// <param name="Kind"><c>dossier</c> or <c>step</c>.</param>
/// <param name="Payload">The record's exact JSON text.</param>
/// <param name="Reason">Why it was not stored.</param>
/// <param name="MappingVersion">The mapping version that failed on it.</param>
public sealed record QuarantineEntry(string Kind, string Payload, string Reason, string MappingVersion);

/// <summary>A quarantined record as kept.</summary>
public sealed record QuarantinedRecord(
    long Id,
    string ConnectorId,
    string Kind,
    string Payload,
    string Reason,
    string MappingVersion,
    DateTimeOffset FirstSeenAt,
    DateTimeOffset LastSeenAt,
    int TimesSeen,
    DateTimeOffset? ResolvedAt,
    long? ResolvedRunId);

/// <summary>A run as recorded.</summary>
public sealed record SyncRunRecord(
    long Id,
    string ConnectorId,
    SyncTrigger Trigger,
    string Host,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    RunOutcome Outcome,
    int Attempts,
    PageCounts Counts,
    string? MappingVersion,
    string? CursorBefore,
    string? CursorAfter,
    RunFailure? Failure)
{
    /// <summary>The range of a back-fill; <c>null</c> for other runs.</summary>
    public BackfillRange? Range { get; init; }

    /// <summary>The run this one retried or resumed, if any.</summary>
    public long? RetryOf { get; init; }

    /// <summary>The connector's newest stored source event time when the run ended (its lag then is the difference).</summary>
    public DateTimeOffset? NewestEventAt { get; init; }
}

/// <summary>The records changed in [<paramref name="From"/>, <paramref name="To"/>) at the source: what a back-fill reads again.</summary>
public sealed record BackfillRange(DateTimeOffset From, DateTimeOffset To)
{
    /// <summary>Whether the time is in the range.</summary>
    public bool Contains(DateTimeOffset time) => time >= From && time < To;
}

/// <summary>The connector's cursor was moved by another run: this run's transaction is rolled back.</summary>
public sealed class CursorConflictException : Exception
{
    /// <summary>Creates the exception for a connector.</summary>
    public CursorConflictException(string connectorId)
        : base($"The cursor of connector '{connectorId}' was moved by another run; this run's last page was not stored.")
    {
        ConnectorId = connectorId;
    }

    /// <summary>Creates the exception.</summary>
    public CursorConflictException()
        : this("?")
    {
    }

    /// <summary>Creates the exception.</summary>
    public CursorConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
        ConnectorId = "?";
    }

    /// <summary>The connector.</summary>
    public string ConnectorId { get; } = "?";
}
