using System.Globalization;
using Cronos;

namespace Hub.Core.Sync;

/// <summary>How fresh a connector's data is, judged against its own schedule.</summary>
public enum FreshnessState
{
    /// <summary>Its last successful run is as recent as its schedule asks.</summary>
    OnTime,

    /// <summary>The run due after its last success is more than one schedule interval overdue.</summary>
    Late,

    /// <summary>The run due after its last success is more than two schedule intervals overdue.</summary>
    Failing,

    /// <summary>Active and scheduled, no successful run yet, and its first run is not yet overdue.</summary>
    Never,

    /// <summary>Active without a schedule (push kinds, manual-only pulls): nothing to judge against.</summary>
    Unscheduled,

    /// <summary>Paused by its owners or an operator.</summary>
    Paused,

    /// <summary>Not running: a draft, submitted, approved or retired connector.</summary>
    Disabled,
}

/// <summary>What the ledger knows of a connector's runs, for <see cref="ConnectorFreshness.Judge"/>.</summary>
/// <param name="CreatedAt">When the connector was registered.</param>
/// <param name="LastSuccessAt">When its last successful run ended; <c>null</c> when none has.</param>
/// <param name="LastFailure">When its latest run failed after the last success, and why; <c>null</c> otherwise.</param>
public sealed record FreshnessFacts(DateTimeOffset CreatedAt, DateTimeOffset? LastSuccessAt, (DateTimeOffset At, string Reason)? LastFailure = null);

/// <summary>A connector's freshness and why.</summary>
/// <param name="ConnectorId">The connector.</param>
/// <param name="State">Its state.</param>
/// <param name="Interval">Its schedule's interval at <paramref name="DueAt"/> (from that occurrence to the next).</param>
/// <param name="LastSuccessAt">When its last successful run ended.</param>
/// <param name="DueAt">The first scheduled run after its last success (or after it became active).</param>
/// <param name="LateAt">When it is (or was) late: <paramref name="DueAt"/> plus one interval.</param>
/// <param name="FailingAt">When it is (or was) failing: <paramref name="DueAt"/> plus two intervals.</param>
/// <param name="Since">When the current state began, where the rule knows it.</param>
/// <param name="Why">The reason in words.</param>
public sealed record FreshnessVerdict(
    string ConnectorId,
    FreshnessState State,
    TimeSpan? Interval,
    DateTimeOffset? LastSuccessAt,
    DateTimeOffset? DueAt,
    DateTimeOffset? LateAt,
    DateTimeOffset? FailingAt,
    DateTimeOffset? Since,
    string Why);

/// <summary>
/// The freshness rule (docs/decisions/0014), a pure function of a connector, what its runs say and the time.
/// </summary>
/// <remarks>
/// For an active connector with a schedule:
/// <list type="bullet">
/// <item><c>anchor</c> is the later of the end of its last successful run and the time it became active (its last
/// lifecycle change, or its registration): a connector just activated or resumed is not blamed for the time it was
/// not running.</item>
/// <item><c>due</c> is the first occurrence of its cron schedule strictly after <c>anchor</c>, in the connector's time
/// zone; <c>interval</c> is the time from <c>due</c> to the occurrence after it (so <c>0 8,17 * * *</c> has 9 h or 15 h
/// depending on the time of day).</item>
/// <item><see cref="FreshnessState.Failing"/> when <c>now &gt; due + 2 × interval</c>; <see cref="FreshnessState.Late"/>
/// when <c>now &gt; due + 1 × interval</c>; otherwise <see cref="FreshnessState.OnTime"/>, or
/// <see cref="FreshnessState.Never"/> when it has had no successful run yet.</item>
/// </list>
/// A connector every minute whose last success ended at 10:00:05 is due at 10:01, late after 10:02 and failing after
/// 10:03. Paused connectors are <see cref="FreshnessState.Paused"/>; drafts, submitted, approved and retired ones
/// <see cref="FreshnessState.Disabled"/>; active ones without a schedule (or whose schedule never fires)
/// <see cref="FreshnessState.Unscheduled"/>.
/// </remarks>
public static class ConnectorFreshness
{
    /// <summary>Judges one connector at <paramref name="now"/>.</summary>
    public static FreshnessVerdict Judge(ConnectorState connector, FreshnessFacts facts, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(facts);
        var registration = connector.Registration;
        var id = registration.Id;
        var last = facts.LastSuccessAt;
        switch (connector.Lifecycle)
        {
            case ConnectorLifecycle.Paused:
                return new(id, FreshnessState.Paused, null, last, null, null, null, connector.LifecycleChangedAt,
                    "paused" + By(connector));
            case not ConnectorLifecycle.Active:
                return new(id, FreshnessState.Disabled, null, last, null, null, null, connector.LifecycleChangedAt,
                    Name(connector.Lifecycle) + By(connector));
        }

        if (string.IsNullOrWhiteSpace(registration.Schedule))
        {
            return new(id, FreshnessState.Unscheduled, null, last, null, null, null, null, "no schedule: pushed or pulled on request only");
        }

        CronExpression cron;
        TimeZoneInfo zone;
        try
        {
            cron = Parse(registration.Schedule);
            zone = TimeZoneInfo.FindSystemTimeZoneById(registration.TimeZone);
        }
        catch (Exception e) when (e is CronFormatException or TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return new(id, FreshnessState.Unscheduled, null, last, null, null, null, null,
                $"schedule '{registration.Schedule}' in time zone '{registration.TimeZone}' cannot be read: {e.Message}");
        }

        var activeSince = connector.LifecycleChangedAt ?? facts.CreatedAt;
        var anchor = last is { } l && l > activeSince ? l : activeSince;
        if (cron.GetNextOccurrence(anchor, zone) is not { } due || cron.GetNextOccurrence(due, zone) is not { } after)
        {
            return new(id, FreshnessState.Unscheduled, null, last, null, null, null, null,
                $"schedule '{registration.Schedule}' has no occurrence after {Time(anchor)}");
        }

        // Cronos answers in the connector's offset; the hub keeps instants in UTC (PostgreSQL timestamptz takes only UTC).
        due = due.ToUniversalTime();
        var interval = after - due;
        var lateAt = due + interval;
        var failingAt = due + (2 * interval);
        var since = last is null ? $"no successful run since it became active at {Time(activeSince)}" : $"last successful run ended at {Time(last.Value)}";
        var failure = facts.LastFailure is { } f ? $"; last run failed at {Time(f.At)}: {f.Reason}" : "";
        var every = $"every {Describe(interval)}";
        return now > failingAt
            ? new(id, FreshnessState.Failing, interval, last, due, lateAt, failingAt, failingAt,
                $"{since}; the run due at {Time(due)} ({every}) is more than two intervals overdue{failure}")
            : now > lateAt
            ? new(id, FreshnessState.Late, interval, last, due, lateAt, failingAt, lateAt,
                $"{since}; the run due at {Time(due)} ({every}) is more than one interval overdue{failure}")
            : new(id, last is null ? FreshnessState.Never : FreshnessState.OnTime, interval, last, due, lateAt, failingAt, null,
                $"{since}; next run due at {Time(due)} ({every}){failure}");
    }

    /// <summary>A cron expression as Hangfire reads it: five fields, or six with seconds first.</summary>
    /// <exception cref="CronFormatException">The expression is not valid.</exception>
    public static CronExpression Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var text = expression.Trim();
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        return CronExpression.Parse(text, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
    }

    private static string By(ConnectorState connector) =>
        (connector.LifecycleChangedBy is { } who ? $" by {who}" : "")
        + (connector.LifecycleChangedAt is { } at ? $" at {Time(at)}" : "")
        + (connector.LifecycleReason is { } why ? $": {why}" : "");

    private static string Name(ConnectorLifecycle lifecycle) => lifecycle.ToString().ToLowerInvariant();

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Describe(TimeSpan interval) =>
        interval.TotalDays >= 1 && interval.TotalDays % 1 == 0 ? $"{interval.TotalDays:0} d"
        : interval.TotalHours >= 1 && interval.TotalHours % 1 == 0 ? $"{interval.TotalHours:0} h"
        : interval.TotalMinutes >= 1 && interval.TotalMinutes % 1 == 0 ? $"{interval.TotalMinutes:0} min"
        : $"{interval.TotalSeconds:0.###} s";
}
