namespace Hub.Core.Sync;

/// <summary>What a connector did lately, for the operations overview.</summary>
/// <param name="ChangesLastHour">Changes its runs stored in the last hour (runs started in it).</param>
/// <param name="RunsLastDay">Its runs that ended in the last 24 hours, skipped ones left out.</param>
/// <param name="FailedRunsLastDay">Those of them that failed.</param>
/// <param name="RecordsReadLastDay">Records its runs of the last 24 hours read.</param>
/// <param name="QuarantinedLastDay">Records its runs of the last 24 hours quarantined.</param>
/// <param name="NewestEventAt">The newest source event time stored for it (the source's own clock).</param>
public sealed record RecentActivity(
    long ChangesLastHour, int RunsLastDay, int FailedRunsLastDay, long RecordsReadLastDay, long QuarantinedLastDay, DateTimeOffset? NewestEventAt)
{
    /// <summary>No activity at all.</summary>
    public static readonly RecentActivity None = new(0, 0, 0, 0, 0, null);

    /// <summary>The share of the last day's runs that failed; <c>null</c> without runs.</summary>
    public double? ErrorRate => RunsLastDay == 0 ? null : (double)FailedRunsLastDay / RunsLastDay;

    /// <summary>The share of the last day's records that were quarantined; <c>null</c> without records.</summary>
    public double? QuarantineRate => RecordsReadLastDay == 0 ? null : (double)QuarantinedLastDay / RecordsReadLastDay;
}

public sealed partial class SyncLedger
{
    /// <summary>
    /// Every connector's recent activity as of <paramref name="now"/>, in one query over the run index
    /// (<c>sync_run_by_connector</c>) and one row per connector.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, RecentActivity>> ActivityAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select c.id, c.newest_event_at,
                   coalesce(sum(r.changes_stored) filter (where r.started_at >= $1), 0)::bigint,
                   count(*) filter (where r.ended_at >= $2 and r.outcome in ('succeeded', 'failed', 'abandoned'))::int,
                   count(*) filter (where r.ended_at >= $2 and r.outcome in ('failed', 'abandoned'))::int,
                   coalesce(sum(r.records_read) filter (where r.started_at >= $2), 0)::bigint,
                   coalesce(sum(r.quarantined) filter (where r.started_at >= $2), 0)::bigint
            from connector c
            left join sync_run r on r.connector_id = c.id and r.started_at >= $2 - interval '1 day'
            group by c.id, c.newest_event_at
            """);
        command.Parameters.Add(new() { Value = now.AddHours(-1) });
        command.Parameters.Add(new() { Value = now.AddDays(-1) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var activity = new Dictionary<string, RecentActivity>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            activity[reader.GetString(0)] = new RecentActivity(
                reader.GetInt64(2), reader.GetInt32(3), reader.GetInt32(4), reader.GetInt64(5), reader.GetInt64(6),
                reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1));
        }

        return activity;
    }
}
