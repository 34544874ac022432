namespace Hub.Core.Sync;

/// <summary>One time bucket of a connector's activity chart.</summary>
/// <param name="Start">Start of the bucket (inclusive).</param>
/// <param name="End">End of the bucket (exclusive).</param>
/// <param name="Runs">Runs that ended in the bucket.</param>
/// <param name="ChangesStored">Dossier changes those runs stored (the throughput).</param>
/// <param name="LagSeconds">
/// The lag at the end of the last run of the bucket that knew it: the run's end minus the newest source event time the
/// connector had stored by then, in whole seconds; <c>null</c> when no run of the bucket knew one.
/// </param>
public sealed record ActivityBucket(DateTimeOffset Start, DateTimeOffset End, int Runs, long ChangesStored, long? LagSeconds);

/// <summary>A connector's throughput and lag over the last hours, from its run ledger: a pure function of the runs.</summary>
public static class ConnectorActivity
{
    /// <summary>The span the connector page charts.</summary>
    public static readonly TimeSpan Span = TimeSpan.FromHours(24);

    /// <summary>The width of a bucket.</summary>
    public static readonly TimeSpan Bucket = TimeSpan.FromHours(1);

    /// <summary>Where the chart starts: <see cref="Span"/> before the end of the bucket holding <paramref name="now"/>.</summary>
    public static DateTimeOffset Since(DateTimeOffset now) => End(now) - Span;

    /// <summary>
    /// The buckets of the <see cref="Span"/> that ends with the (whole-hour, UTC) bucket holding <paramref name="now"/>,
    /// oldest first: each run counts in the bucket its end falls in; runs still going, or outside the span, do not count.
    /// </summary>
    public static IReadOnlyList<ActivityBucket> Buckets(IEnumerable<SyncRunRecord> runs, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var end = End(now);
        var start = end - Span;
        var count = (int)(Span / Bucket);
        var ended = runs.Where(r => r.EndedAt is { } at && at >= start && at < end).OrderBy(r => r.EndedAt).ThenBy(r => r.Id).ToList();
        var buckets = new List<ActivityBucket>(count);
        for (var i = 0; i < count; i++)
        {
            var from = start + (Bucket * i);
            var to = from + Bucket;
            var inBucket = ended.Where(r => r.EndedAt >= from && r.EndedAt < to).ToList();
            var lagged = inBucket.LastOrDefault(r => r.NewestEventAt is not null);
            buckets.Add(new ActivityBucket(
                from,
                to,
                inBucket.Count,
                inBucket.Sum(r => (long)r.Counts.ChangesStored),
                lagged is null ? null : (long)Math.Floor((lagged.EndedAt!.Value - lagged.NewestEventAt!.Value).TotalSeconds)));
        }

        return buckets;
    }

    private static DateTimeOffset End(DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero) + Bucket;
    }
}
