using Hub.Connectors;
using Hub.Core.Sync;

namespace Hub.Tests.Sync;

/// <summary>The pure rules of back-fills, retries and the activity chart, at fixed times.</summary>
public class BackfillRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 21, 40, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("2026-10-01", "2026-10-03", "2026-10-01T00:00:00+07:00", "2026-10-03T00:00:00+07:00")]
    [InlineData("2026-10-01T08:30", "2026-10-01T09:00:00", "2026-10-01T08:30:00+07:00", "2026-10-01T09:00:00+07:00")]
    [InlineData("2026-10-01T08:30:00Z", "2026-10-01T09:00:00+00:00", "2026-10-01T08:30:00+00:00", "2026-10-01T09:00:00+00:00")]
    [InlineData("2025-11-23", "2026-11-23", "2025-11-23T00:00:00+07:00", "2026-11-23T00:00:00+07:00")]
    public void Dates_are_midnights_and_date_times_without_offset_are_in_the_connectors_time_zone(string from, string to, string expectedFrom, string expectedTo)
    {
        var (range, problem) = BackfillRules.Parse(from, to, "Asia/Ho_Chi_Minh", Now);

        Assert.Null(problem);
        Assert.Equal(DateTimeOffset.Parse(expectedFrom, System.Globalization.CultureInfo.InvariantCulture), range!.From);
        Assert.Equal(DateTimeOffset.Parse(expectedTo, System.Globalization.CultureInfo.InvariantCulture), range.To);
    }

    [Theory]
    [InlineData("2026-10-03", "2026-10-01", "'from' (2026-10-03T00:00:00+07:00) must be before 'to' (2026-10-01T00:00:00+07:00)")]
    [InlineData("2026-10-01", "2026-10-01", "must be before 'to'")]
    [InlineData("2026-11-20", "2026-11-25", "'to' (2026-11-25T00:00:00+07:00) is in the future")]
    [InlineData("2025-11-01", "2026-11-03", "more than 366 days: back-fill it in parts")]
    [InlineData("01/10/2026", "2026-10-03", "'from' ('01/10/2026') is not a date")]
    [InlineData("2026-10-01", "yesterday", "'to' ('yesterday') is not a date")]
    [InlineData("", "2026-10-03", "'from' is missing")]
    [InlineData("2026-10-01", null, "'to' is missing")]
    public void Bad_ranges_say_what_is_wrong(string? from, string? to, string says)
    {
        var (range, problem) = BackfillRules.Parse(from, to, "Asia/Ho_Chi_Minh", Now);

        Assert.Null(range);
        Assert.Contains(says, problem, StringComparison.Ordinal);
    }

    private static SyncRunRecord Run(long id, SyncTrigger trigger, RunOutcome outcome, DateTimeOffset? ended = null, int stored = 0, DateTimeOffset? newest = null) =>
        new(id, "c", trigger, "host", (ended ?? Now) - TimeSpan.FromSeconds(5), ended, outcome, 1, PageCounts.Zero with { ChangesStored = stored }, "m/1", null, null,
            outcome == RunOutcome.Failed ? new RunFailure(FailureSide.SourceUnreachable, true, "down") : null)
        {
            NewestEventAt = newest,
        };

    [Fact]
    public void Only_unfinished_runs_that_no_later_success_covers_are_retried()
    {
        Assert.Null(BackfillRules.RetryRefusal(Run(1, SyncTrigger.Schedule, RunOutcome.Failed), laterSuccess: null));
        Assert.Null(BackfillRules.RetryRefusal(Run(1, SyncTrigger.Backfill, RunOutcome.Abandoned), laterSuccess: null));
        Assert.Null(BackfillRules.RetryRefusal(Run(1, SyncTrigger.Backfill, RunOutcome.Skipped), laterSuccess: null));
        Assert.Equal("Run 1 is succeeded: only a failed, abandoned or skipped run is retried.",
            BackfillRules.RetryRefusal(Run(1, SyncTrigger.Manual, RunOutcome.Succeeded), laterSuccess: null));
        Assert.Contains("running", BackfillRules.RetryRefusal(Run(1, SyncTrigger.Manual, RunOutcome.Running), laterSuccess: null), StringComparison.Ordinal);
        Assert.Contains("pushed message", BackfillRules.RetryRefusal(Run(1, SyncTrigger.Push, RunOutcome.Failed), laterSuccess: null), StringComparison.Ordinal);
        Assert.StartsWith("Run 7, a later sync, succeeded", BackfillRules.RetryRefusal(Run(1, SyncTrigger.Schedule, RunOutcome.Failed), laterSuccess: 7), StringComparison.Ordinal);
        Assert.StartsWith("Run 7, a later back-fill of the same range, succeeded",
            BackfillRules.RetryRefusal(Run(1, SyncTrigger.Backfill, RunOutcome.Failed), laterSuccess: 7), StringComparison.Ordinal);
        Assert.Equal([SyncTrigger.Schedule, SyncTrigger.Manual], BackfillRules.SameWork(SyncTrigger.Manual));
        Assert.Equal([SyncTrigger.Backfill], BackfillRules.SameWork(SyncTrigger.Backfill));
    }

    [Fact]
    public void The_chart_has_24_hourly_buckets_ending_with_this_hour_each_run_in_the_bucket_of_its_end()
    {
        var thisHour = new DateTimeOffset(2026, 11, 23, 21, 0, 0, TimeSpan.Zero);
        var runs = new[]
        {
            Run(1, SyncTrigger.Schedule, RunOutcome.Succeeded, thisHour.AddMinutes(5), stored: 10, newest: thisHour.AddMinutes(4)),
            Run(2, SyncTrigger.Schedule, RunOutcome.Failed, thisHour.AddMinutes(20), stored: 3),
            Run(3, SyncTrigger.Backfill, RunOutcome.Succeeded, thisHour.AddMinutes(-30), stored: 100, newest: thisHour.AddHours(-2)),
            Run(4, SyncTrigger.Schedule, RunOutcome.Succeeded, thisHour.AddMinutes(-35), stored: 7, newest: thisHour.AddMinutes(-36)),
            Run(5, SyncTrigger.Schedule, RunOutcome.Succeeded, thisHour.AddHours(-23).AddMinutes(-1), stored: 1000),
            Run(6, SyncTrigger.Schedule, RunOutcome.Running, null, stored: 50),
        };

        var buckets = ConnectorActivity.Buckets(runs, Now);

        Assert.Equal(24, buckets.Count);
        Assert.Equal((thisHour.AddHours(-23), thisHour.AddHours(1)), (buckets[0].Start, buckets[^1].End));
        Assert.Equal(thisHour.AddHours(-23), ConnectorActivity.Since(Now));
        // This hour: runs 1 and 2 (13 changes); the lag is run 1's, the last run that knew the newest event (one minute).
        Assert.Equal(new ActivityBucket(thisHour, thisHour.AddHours(1), 2, 13, 60), buckets[^1]);
        // The hour before: runs 4 then 3 by end; the lag is run 3's (ended last): 1 h 30 min.
        Assert.Equal(new ActivityBucket(thisHour.AddHours(-1), thisHour, 2, 107, 5400), buckets[^2]);
        // Run 5 ended before the chart, run 6 has not ended: neither counts.
        Assert.Equal(120, buckets.Sum(b => b.ChangesStored));
        Assert.All(buckets.Take(22), b => Assert.Equal((0, 0L, (long?)null), (b.Runs, b.ChangesStored, b.LagSeconds)));
    }
}
