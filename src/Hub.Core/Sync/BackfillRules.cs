using System.Globalization;

namespace Hub.Core.Sync;

/// <summary>
/// What an operator may ask of a back-fill or a retry, as pure rules (docs/decisions/0017-backfill.md): the range a
/// back-fill may cover, and which runs may be retried.
/// </summary>
public static class BackfillRules
{
    /// <summary>
    /// The longest range one back-fill covers: a year, enough to redo a province after an outage or a vendor change,
    /// short enough that a mistyped year does not re-read a decade of a provincial system. Longer ones are split by the operator.
    /// </summary>
    public static readonly TimeSpan MaxSpan = TimeSpan.FromDays(366);

    /// <summary>Pages a dry run reads at most before it answers with what it counted so far (someone waits for it).</summary>
    public const int MaxCountPages = 200;

    /// <summary>
    /// Reads a range from its two ends, each a date (<c>2026-10-01</c>: midnight in <paramref name="timeZone"/>, the
    /// connector's) or a date-time (with an offset, or else in <paramref name="timeZone"/>).
    /// </summary>
    /// <returns>The range, or what is wrong with it: an end missing or unreadable, <c>from</c> not before <c>to</c>, <c>to</c>
    /// after <paramref name="now"/> (a back-fill reads the past; the schedule reads what comes), or longer than <see cref="MaxSpan"/>.</returns>
    public static (BackfillRange? Range, string? Problem) Parse(string? from, string? to, string timeZone, DateTimeOffset now)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(timeZone);
        if (ReadEnd("from", from, zone) is var (start, startProblem) && startProblem is not null)
        {
            return (null, startProblem);
        }

        if (ReadEnd("to", to, zone) is var (end, endProblem) && endProblem is not null)
        {
            return (null, endProblem);
        }

        if (start >= end)
        {
            return (null, $"'from' ({Show(start)}) must be before 'to' ({Show(end)}): the range is [from, to).");
        }

        if (end > now)
        {
            return (null, $"'to' ({Show(end)}) is in the future (now is {Show(now)}): a back-fill reads the past, the schedule reads what comes.");
        }

        if (end - start > MaxSpan)
        {
            return (null, string.Create(CultureInfo.InvariantCulture,
                $"The range is {(end - start).TotalDays:0.#} days long, more than {MaxSpan.TotalDays:0} days: back-fill it in parts."));
        }

        return (new BackfillRange(start, end), null);
    }

    /// <summary>
    /// Why <paramref name="run"/> cannot be retried, or <c>null</c> when it can: only a run that did not finish (failed,
    /// abandoned or skipped), of a trigger that can be queued again (not a push), and not made pointless by a later run
    /// of the same work that succeeded (<paramref name="laterSuccess"/>: a sync since, a back-fill of the same range, a
    /// re-processing).
    /// </summary>
    public static string? RetryRefusal(SyncRunRecord run, long? laterSuccess)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.Outcome is not (RunOutcome.Failed or RunOutcome.Abandoned or RunOutcome.Skipped))
        {
            return $"Run {run.Id} is {run.Outcome.ToString().ToLowerInvariant()}: only a failed, abandoned or skipped run is retried.";
        }

        if (run.Trigger == SyncTrigger.Push)
        {
            return $"Run {run.Id} stored a pushed message: the sender sends it again, the hub cannot.";
        }

        if (laterSuccess is { } later)
        {
            return run.Trigger switch
            {
                SyncTrigger.Backfill => $"Run {later}, a later back-fill of the same range, succeeded: nothing of run {run.Id} is left to retry.",
                SyncTrigger.Reprocess => $"Run {later}, a later re-processing, succeeded: nothing of run {run.Id} is left to retry.",
                _ => $"Run {later}, a later sync, succeeded: it read what run {run.Id} missed; nothing is left to retry.",
            };
        }

        return null;
    }

    /// <summary>The triggers whose runs do the same work as a run of <paramref name="trigger"/> (a sync is a sync, scheduled or not).</summary>
    public static IReadOnlyList<SyncTrigger> SameWork(SyncTrigger trigger) => trigger is SyncTrigger.Schedule or SyncTrigger.Manual
        ? [SyncTrigger.Schedule, SyncTrigger.Manual]
        : [trigger];

    /// <summary>ISO 8601 date-times only: a day-month order is never guessed.</summary>
    private static readonly string[] WithoutOffset = ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF"];

    private static readonly string[] WithOffset = [.. WithoutOffset.Select(f => f + "zzz")];

    private static (DateTimeOffset Time, string? Problem) ReadEnd(string name, string? text, TimeZoneInfo zone)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (default, $"'{name}' is missing: give a date (2026-10-01) or a date-time (2026-10-01T08:00:00+07:00).");
        }

        var trimmed = text.Trim();
        trimmed = trimmed.EndsWith('Z') ? trimmed[..^1] + "+00:00" : trimmed;
        if (DateOnly.TryParseExact(trimmed, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return (InZone(date.ToDateTime(TimeOnly.MinValue), zone), null);
        }

        if (DateTimeOffset.TryParseExact(trimmed, WithOffset, CultureInfo.InvariantCulture, DateTimeStyles.None, out var withOffset))
        {
            return (withOffset, null);
        }

        if (DateTime.TryParseExact(trimmed, WithoutOffset, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            return (InZone(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), zone), null);
        }

        return (default, $"'{name}' ('{text}') is not a date (2026-10-01) nor a date-time (2026-10-01T08:00:00+07:00).");
    }

    private static DateTimeOffset InZone(DateTime local, TimeZoneInfo zone) => new(local, zone.GetUtcOffset(local));

    private static string Show(DateTimeOffset time) => time.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
}
