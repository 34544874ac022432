using System.Globalization;
using Hub.Contracts;

namespace Hub.Core.Model;

/// <summary>The on-time verdict of a dossier.</summary>
public enum OnTimeOutcome
{
    /// <summary>Finished no later than the due date, paused time subtracted.</summary>
    OnTime,

    /// <summary>Finished after the due date, or with more than one supplement request.</summary>
    Overdue,

    /// <summary>Not finished and not yet past the due date.</summary>
    InProgress,

    /// <summary>Not finished and already past the due date (or already overdue by supplement requests).</summary>
    OverdueInProgress,

    /// <summary>Withdrawn by the applicant: the KPI does not apply.</summary>
    NotApplicable,

    /// <summary>No due date and no legal maximum to judge by.</summary>
    Undetermined,
}

/// <summary>A status the dossier entered at a time (a history row; rows may repeat a status).</summary>
public sealed record StatusAt(DateTimeOffset At, NationalStatus Status);

/// <summary>A due date value (<c>NgayHenTra</c>) and when the source set it.</summary>
public sealed record DueDateAt(DateTimeOffset At, DateTimeOffset DueAt);

/// <summary>What the on-time rule reads about one dossier.</summary>
public sealed record OnTimeInput
{
    /// <summary>Received, <c>NgayTiepNhan</c>: where the legal maximum is measured from.</summary>
    public DateTimeOffset? ReceivedAt { get; init; }

    /// <summary>The dossier's status history, in any order.</summary>
    public IReadOnlyList<StatusAt> StatusHistory { get; init; } = [];

    /// <summary>Every due date value the source sent, with when it was set, in any order.</summary>
    public IReadOnlyList<DueDateAt> DueDateHistory { get; init; } = [];

    /// <summary><c>NgayKetThucXuLy</c>: the end time when the status history has none.</summary>
    public DateTimeOffset? ProcessingFinishedAt { get; init; }

    /// <summary>The procedure's legal maximum processing time, when known: used when there is no due date.</summary>
    public TimeSpan? LegalMaximum { get; init; }

    /// <summary>The evaluation time, for dossiers still in progress.</summary>
    public required DateTimeOffset Now { get; init; }
}

/// <summary>The outcome of the on-time rule and the figures it was computed from.</summary>
/// <param name="Outcome">The verdict.</param>
/// <param name="Reason">A sentence saying why, for operators and auditors.</param>
/// <param name="End">When processing ended; null when not finished.</param>
/// <param name="EffectiveDue">The due date judged against (the first one issued, or receipt plus the legal maximum).</param>
/// <param name="Paused">Time spent in statuses 5 and 6 before the end (or before now), subtracted from the end.</param>
/// <param name="SupplementRequests">Number of entries into status 5.</param>
public sealed record OnTimeVerdict(
    OnTimeOutcome Outcome,
    string Reason,
    DateTimeOffset? End,
    DateTimeOffset? EffectiveDue,
    TimeSpan Paused,
    int SupplementRequests);

/// <summary>
/// The national on-time rule (Decision 766/2022): on time ⇔ end − paused time ≤ due date. The choices made
/// where the decision is silent are in docs/decisions/0002-on-time-rule.md.
/// </summary>
public static class OnTimeRule
{
    /// <summary>Evaluates the rule for one dossier.</summary>
    public static OnTimeVerdict Evaluate(OnTimeInput input)
    {
        ArgumentNullException.ThrowIfNull(input);

        var runs = Runs(input.StatusHistory);
        var supplements = runs.Count(r => r.Status == NationalStatus.SupplementRequested);
        var current = runs.Count > 0 ? runs[^1].Status : (NationalStatus?)null;

        if (current == NationalStatus.WithdrawnByApplicant)
        {
            var withdrawnPause = PausedBefore(runs, runs[^1].Start);
            return new OnTimeVerdict(OnTimeOutcome.NotApplicable, "withdrawn by the applicant", null, null, withdrawnPause, supplements);
        }

        var end = EndOf(runs, input.ProcessingFinishedAt);
        var paused = PausedBefore(runs, end ?? input.Now);
        var (due, dueLabel, noDueReason) = DueOf(input);

        if (end is { } finishedAt)
        {
            if (supplements > 1)
            {
                return new OnTimeVerdict(OnTimeOutcome.Overdue, SupplementReason(supplements), finishedAt, due, paused, supplements);
            }

            if (due is not { } dueAt)
            {
                return new OnTimeVerdict(OnTimeOutcome.Undetermined, $"finished, but {noDueReason}", finishedAt, null, paused, supplements);
            }

            var late = finishedAt - paused - dueAt;
            var reason = late < TimeSpan.Zero ? $"finished {Describe(-late)} before {dueLabel}{PausedNote(paused)}"
                : late == TimeSpan.Zero ? $"finished exactly at {dueLabel}{PausedNote(paused)}"
                : $"finished {Describe(late)} after {dueLabel}{PausedNote(paused)}";
            return new OnTimeVerdict(late <= TimeSpan.Zero ? OnTimeOutcome.OnTime : OnTimeOutcome.Overdue, reason, finishedAt, dueAt, paused, supplements);
        }

        if (supplements > 1)
        {
            return new OnTimeVerdict(OnTimeOutcome.OverdueInProgress, $"not finished; {SupplementReason(supplements)}", null, due, paused, supplements);
        }

        if (due is not { } dueOpen)
        {
            return new OnTimeVerdict(OnTimeOutcome.Undetermined, $"not finished, and {noDueReason}", null, null, paused, supplements);
        }

        var overdueBy = input.Now - paused - dueOpen;
        return overdueBy <= TimeSpan.Zero
            ? new OnTimeVerdict(OnTimeOutcome.InProgress, $"not finished; {Describe(-overdueBy)} left before {dueLabel}{PausedNote(paused)}", null, dueOpen, paused, supplements)
            : new OnTimeVerdict(OnTimeOutcome.OverdueInProgress, $"not finished and {Describe(overdueBy)} past {dueLabel}{PausedNote(paused)}", null, dueOpen, paused, supplements);
    }

    private sealed record Run(NationalStatus Status, DateTimeOffset Start);

    private static bool IsFinished(NationalStatus status) => status is NationalStatus.Resolved or NationalStatus.ResultReturned
        or NationalStatus.ProcessingStopped or NationalStatus.RefusedAtIntake;

    // Consecutive rows with the same status are one stay in that status, starting at its first row.
    private static List<Run> Runs(IReadOnlyList<StatusAt> history)
    {
        var runs = new List<Run>();
        foreach (var row in history.OrderBy(r => r.At))
        {
            if (runs.Count == 0 || runs[^1].Status != row.Status)
            {
                runs.Add(new Run(row.Status, row.At));
            }
        }

        return runs;
    }

    // The end is read from the trailing stay in finished statuses only: after a rollback (10→4) the dossier is
    // unfinished again, and a 9 from before the rollback no longer tells when processing ended.
    private static DateTimeOffset? EndOf(List<Run> runs, DateTimeOffset? processingFinishedAt)
    {
        if (runs.Count == 0)
        {
            return processingFinishedAt;
        }

        var first = runs.Count;
        while (first > 0 && IsFinished(runs[first - 1].Status))
        {
            first--;
        }

        var finishing = runs.Skip(first).ToList();
        return LatestEntry(finishing, s => s == NationalStatus.Resolved)
            ?? LatestEntry(finishing, s => s == NationalStatus.ResultReturned)
            ?? LatestEntry(finishing, s => s is NationalStatus.ProcessingStopped or NationalStatus.RefusedAtIntake);
    }

    private static DateTimeOffset? LatestEntry(List<Run> runs, Func<NationalStatus, bool> match) =>
        runs.LastOrDefault(r => match(r.Status))?.Start;

    // Stays in 5 (supplement) and 6 (financial obligation) stop the clock; each lasts until the next different
    // status, and only the part before the cut-off (end, withdrawal or now) counts.
    private static TimeSpan PausedBefore(List<Run> runs, DateTimeOffset cutOff)
    {
        var paused = TimeSpan.Zero;
        for (var i = 0; i < runs.Count; i++)
        {
            if (runs[i].Status is not (NationalStatus.SupplementRequested or NationalStatus.FinancialObligationRequired))
            {
                continue;
            }

            var stop = i + 1 < runs.Count && runs[i + 1].Start < cutOff ? runs[i + 1].Start : cutOff;
            if (stop > runs[i].Start)
            {
                paused += stop - runs[i].Start;
            }
        }

        return paused;
    }

    // The first due date issued: paused time is subtracted from the end, so a due date the source moved after
    // a supplement already contains that pause and would count it twice.
    private static (DateTimeOffset? Due, string Label, string NoDueReason) DueOf(OnTimeInput input)
    {
        if (input.DueDateHistory.Count > 0)
        {
            return (input.DueDateHistory.OrderBy(d => d.At).First().DueAt, "the due date", "");
        }

        if (input.LegalMaximum is not { } maximum)
        {
            return (null, "", "there is no due date and the procedure's legal maximum is unknown");
        }

        return input.ReceivedAt is { } received
            ? (received + maximum, $"the legal maximum ({Describe(maximum)} from receipt)", "")
            : (null, "", "there is no due date and no receipt time to measure the legal maximum from");
    }

    private static string SupplementReason(int supplements) =>
        string.Create(CultureInfo.InvariantCulture, $"{supplements} supplement requests (more than one counts as overdue)");

    private static string PausedNote(TimeSpan paused) =>
        paused > TimeSpan.Zero ? $" ({Describe(paused)} paused subtracted)" : "";

    /// <summary>A duration as "1d 2h 5min", down to seconds.</summary>
    internal static string Describe(TimeSpan duration)
    {
        duration = duration.Duration();
        var parts = new List<string>(4);
        if (duration.Days > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{duration.Days}d"));
        }

        if (duration.Hours > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{duration.Hours}h"));
        }

        if (duration.Minutes > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{duration.Minutes}min"));
        }

        if (duration.Seconds > 0 || parts.Count == 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{duration.Seconds}s"));
        }

        return string.Join(' ', parts);
    }
}
