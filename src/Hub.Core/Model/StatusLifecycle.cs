using Hub.Contracts;

namespace Hub.Core.Model;

/// <summary>How a status change relates to the national lifecycle.</summary>
public enum TransitionKind
{
    /// <summary>A transition the national lifecycle expects, or the same status repeated.</summary>
    Expected,

    /// <summary>A forward move the lifecycle does not expect: skipped states, 5/6/8 rewritten as 9, odd moves.</summary>
    Irregular,

    /// <summary>A backward move: out of a terminal state (3, 7) or to an earlier stage (10→4 when a result is cancelled).</summary>
    Correction,
}

/// <summary>One status of a history with the kind of the move into it.</summary>
/// <param name="From">The previous status; null for the first status of the history.</param>
/// <param name="To">The status moved into.</param>
/// <param name="Kind">How the move relates to the national lifecycle.</param>
public sealed record ClassifiedTransition(NationalStatus? From, NationalStatus To, TransitionKind Kind);

/// <summary>
/// Classifies status changes against the national lifecycle (DOMAIN.md). Nothing is rejected: real senders skip
/// states, roll back and rewrite statuses, and the hub must store every update. The classification only marks
/// what operators should look at. Corrections are told apart from other irregular moves because they undo
/// something already reported (a returned result, a refusal, a withdrawal), which changes derived figures such
/// as the on-time KPI; skips and rewrites only lose detail.
/// </summary>
public static class StatusLifecycle
{
    private static readonly HashSet<(NationalStatus From, NationalStatus To)> ExpectedTransitions =
    [
        (NationalStatus.Submitted, NationalStatus.Received),
        (NationalStatus.Submitted, NationalStatus.RefusedAtIntake),
        (NationalStatus.Received, NationalStatus.Processing),
        (NationalStatus.Received, NationalStatus.SupplementRequested),
        (NationalStatus.Received, NationalStatus.FinancialObligationRequired),
        (NationalStatus.Received, NationalStatus.Resolved),
        (NationalStatus.Processing, NationalStatus.SupplementRequested),
        (NationalStatus.SupplementRequested, NationalStatus.Processing),
        (NationalStatus.Processing, NationalStatus.FinancialObligationRequired),
        (NationalStatus.FinancialObligationRequired, NationalStatus.Processing),
        (NationalStatus.Processing, NationalStatus.ProcessingStopped),
        (NationalStatus.ProcessingStopped, NationalStatus.Processing),
        (NationalStatus.Received, NationalStatus.WithdrawnByApplicant),
        (NationalStatus.Processing, NationalStatus.WithdrawnByApplicant),
        (NationalStatus.SupplementRequested, NationalStatus.WithdrawnByApplicant),
        (NationalStatus.FinancialObligationRequired, NationalStatus.WithdrawnByApplicant),
        (NationalStatus.Processing, NationalStatus.Resolved),
        (NationalStatus.Resolved, NationalStatus.ResultReturned),
    ];

    /// <summary>Classifies the move from <paramref name="from"/> (null: no earlier status) to <paramref name="to"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A status is not one of the national codes 1 to 10.</exception>
    public static TransitionKind Classify(NationalStatus? from, NationalStatus to)
    {
        EnsureDefined(to, nameof(to));

        if (from is not { } previous)
        {
            // A history that starts past intake has lost the states before it.
            return to is NationalStatus.Submitted or NationalStatus.Received ? TransitionKind.Expected : TransitionKind.Irregular;
        }

        EnsureDefined(previous, nameof(from));

        if (previous == to)
        {
            return TransitionKind.Expected;
        }

        if (previous is NationalStatus.RefusedAtIntake or NationalStatus.WithdrawnByApplicant)
        {
            return TransitionKind.Correction;
        }

        if (ExpectedTransitions.Contains((previous, to)))
        {
            return TransitionKind.Expected;
        }

        return StageRank(to) < StageRank(previous) ? TransitionKind.Correction : TransitionKind.Irregular;
    }

    /// <summary>Classifies every status of a history given in event order; the first one is classified as a first status.</summary>
    public static IReadOnlyList<ClassifiedTransition> ClassifyHistory(IEnumerable<NationalStatus> statusesInEventOrder)
    {
        var result = new List<ClassifiedTransition>();
        NationalStatus? previous = null;
        foreach (var status in statusesInEventOrder)
        {
            result.Add(new ClassifiedTransition(previous, status, Classify(previous, status)));
            previous = status;
        }

        return result;
    }

    // Stages of the lifecycle; 3 and 7 are terminal side exits with no rank, so moves into them are never
    // corrections and moves out of them always are.
    private static int StageRank(NationalStatus status) => status switch
    {
        NationalStatus.Submitted => 0,
        NationalStatus.Received => 1,
        NationalStatus.Processing or NationalStatus.SupplementRequested
            or NationalStatus.FinancialObligationRequired or NationalStatus.ProcessingStopped => 2,
        NationalStatus.Resolved => 3,
        NationalStatus.ResultReturned => 4,
        NationalStatus.RefusedAtIntake or NationalStatus.WithdrawnByApplicant => int.MaxValue,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Not a national dossier status code (1 to 10)."),
    };

    private static void EnsureDefined(NationalStatus status, string parameterName)
    {
        if (!Enum.IsDefined(status))
        {
            throw new ArgumentOutOfRangeException(parameterName, status, "Not a national dossier status code (1 to 10).");
        }
    }
}
