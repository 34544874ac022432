using Hub.Core.Sync;
using Hub.Tests.Sync;

namespace Hub.Tests.Alerts;

/// <summary>The freshness rule of docs/decisions/0014 as a table of cases at fixed times (no clock is read).</summary>
public sealed class ConnectorFreshnessTests
{
    // 10:00 in Vietnam (UTC+7), a Monday.
    private static readonly DateTimeOffset Ten = new(2026, 11, 23, 10, 0, 0, TimeSpan.FromHours(7));

    private static ConnectorState Connector(string? schedule = "*/1 * * * *", ConnectorLifecycle lifecycle = ConnectorLifecycle.Active, DateTimeOffset? activeSince = null) =>
        new(SyncHarness.Scripted("fresh-test", "feed") with { Schedule = schedule, TimeZone = "Asia/Ho_Chi_Minh" }, null, null)
        {
            Lifecycle = lifecycle,
            LifecycleChangedAt = activeSince ?? Ten.AddDays(-1),
            LifecycleChangedBy = "op@central",
            LifecycleReason = "maintenance of the source",
        };

    private static FreshnessVerdict Judge(ConnectorState connector, DateTimeOffset? lastSuccess, DateTimeOffset now) =>
        ConnectorFreshness.Judge(connector, new FreshnessFacts(Ten.AddDays(-2), lastSuccess), now);

    [Theory]
    // Every minute, last success ended 10:00:05: due 10:01, late after 10:02, failing after 10:03.
    [InlineData("*/1 * * * *", 5, 61, FreshnessState.OnTime)]
    [InlineData("*/1 * * * *", 5, 120, FreshnessState.OnTime)]
    [InlineData("*/1 * * * *", 5, 121, FreshnessState.Late)]
    [InlineData("*/1 * * * *", 5, 180, FreshnessState.Late)]
    [InlineData("*/1 * * * *", 5, 181, FreshnessState.Failing)]
    // Every 15 minutes, last success 10:00:05: due 10:15, late after 10:30, failing after 10:45.
    [InlineData("*/15 * * * *", 5, 1799, FreshnessState.OnTime)]
    [InlineData("*/15 * * * *", 5, 1801, FreshnessState.Late)]
    [InlineData("*/15 * * * *", 5, 2701, FreshnessState.Failing)]
    // Six fields, seconds first: every 10 s, last success 10:00:05: due 10:00:10, late after :20, failing after :30.
    [InlineData("*/10 * * * * *", 5, 20, FreshnessState.OnTime)]
    [InlineData("*/10 * * * * *", 5, 21, FreshnessState.Late)]
    [InlineData("*/10 * * * * *", 5, 31, FreshnessState.Failing)]
    public void A_connector_is_late_one_interval_after_its_due_run_and_failing_after_two(string schedule, int lastSuccessSecond, int nowSecond, FreshnessState expected)
    {
        var verdict = Judge(Connector(schedule), Ten.AddSeconds(lastSuccessSecond), Ten.AddSeconds(nowSecond));

        Assert.Equal(expected, verdict.State);
        Assert.Equal(Ten.AddSeconds(lastSuccessSecond), verdict.LastSuccessAt);
    }

    [Fact]
    public void The_interval_is_the_schedules_own_at_the_due_time_in_the_connectors_time_zone()
    {
        // 08:00 and 17:00 Vietnam time: after a success at 17:10 the run is due at 08:00 the next day, with 9 h to 17:00.
        var connector = Connector("0 8,17 * * *");
        var lastSuccessVn = new DateTimeOffset(Ten.Year, Ten.Month, Ten.Day, 17, 10, 0, TimeSpan.FromHours(7));

        var nextMorning = Judge(connector, lastSuccessVn, lastSuccessVn.AddHours(16));
        var nextEvening = Judge(connector, lastSuccessVn, lastSuccessVn.AddHours(24));

        Assert.Equal(new DateTimeOffset(Ten.Year, Ten.Month, Ten.Day + 1, 8, 0, 0, TimeSpan.FromHours(7)), nextMorning.DueAt);
        Assert.Equal(TimeSpan.FromHours(9), nextMorning.Interval);
        Assert.Equal(FreshnessState.OnTime, nextMorning.State);
        Assert.Equal(FreshnessState.Late, nextEvening.State); // past 17:00, before 02:00 the day after
        Assert.Equal(new DateTimeOffset(Ten.Year, Ten.Month, Ten.Day + 1, 17, 0, 0, TimeSpan.FromHours(7)), nextEvening.Since);
    }

    [Fact]
    public void A_connector_that_never_succeeded_is_never_until_its_first_run_is_overdue_then_late_and_failing()
    {
        var connector = Connector(activeSince: Ten.AddSeconds(30));

        var waiting = Judge(connector, null, Ten.AddSeconds(90));
        var late = Judge(connector, null, Ten.AddSeconds(121));
        var failing = Judge(connector, null, Ten.AddSeconds(181));

        Assert.Equal(FreshnessState.Never, waiting.State);
        Assert.Equal(Ten.AddMinutes(1), waiting.DueAt);
        Assert.Equal(FreshnessState.Late, late.State);
        Assert.Equal(Ten.AddMinutes(2), late.Since);
        Assert.Contains("no successful run since it became active", late.Why, StringComparison.Ordinal);
        Assert.Equal(FreshnessState.Failing, failing.State);
        Assert.Equal(Ten.AddMinutes(3), failing.Since);
    }

    [Fact]
    public void A_resumed_connector_is_judged_from_when_it_became_active_again_not_from_its_old_success()
    {
        var resumed = Connector(activeSince: Ten);

        var verdict = Judge(resumed, Ten.AddDays(-3), Ten.AddSeconds(90));

        Assert.Equal(FreshnessState.OnTime, verdict.State);
        Assert.Equal(Ten.AddMinutes(1), verdict.DueAt);
    }

    [Fact]
    public void The_last_failure_after_the_last_success_is_part_of_why()
    {
        var verdict = ConnectorFreshness.Judge(
            Connector(), new FreshnessFacts(Ten.AddDays(-2), Ten.AddSeconds(5), (Ten.AddSeconds(150), "source unreachable: connection refused")), Ten.AddSeconds(200));

        Assert.Equal(FreshnessState.Failing, verdict.State);
        Assert.Contains("connection refused", verdict.Why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ConnectorLifecycle.Paused, FreshnessState.Paused)]
    [InlineData(ConnectorLifecycle.Draft, FreshnessState.Disabled)]
    [InlineData(ConnectorLifecycle.Submitted, FreshnessState.Disabled)]
    [InlineData(ConnectorLifecycle.Approved, FreshnessState.Disabled)]
    [InlineData(ConnectorLifecycle.Retired, FreshnessState.Disabled)]
    public void Connectors_that_do_not_run_are_paused_or_disabled_however_old_their_data(ConnectorLifecycle lifecycle, FreshnessState expected)
    {
        var verdict = Judge(Connector(lifecycle: lifecycle), Ten.AddDays(-30), Ten);

        Assert.Equal(expected, verdict.State);
        Assert.Null(verdict.DueAt);
        Assert.Contains("op@central", verdict.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void An_active_connector_without_a_schedule_is_unscheduled()
    {
        Assert.Equal(FreshnessState.Unscheduled, Judge(Connector(schedule: null), null, Ten).State);
    }
}
