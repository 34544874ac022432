using Hub.Contracts;

namespace Hub.Core.Mapping;

/// <summary>
/// The outcome of mapping one raw record: the canonical change and steps it gives, or why it cannot be mapped.
/// A record is mapped whole or not at all: when <see cref="QuarantineReason"/> is set, <see cref="Change"/> is null
/// and <see cref="Steps"/> is empty.
/// </summary>
/// <param name="Change">The dossier change of a dossier record; null for a step record or a quarantined record.</param>
/// <param name="Steps">The steps: those nested in a dossier record, or the one step a step record is.</param>
/// <param name="QuarantineReason">
/// Why the record cannot be mapped, naming each canonical field, its path and what was wrong; null when mapped.
/// A status code missing from the status table gives a reason starting with <c>unmapped code X</c>.
/// </param>
public sealed record MappedRecord(DossierChange? Change, IReadOnlyList<DossierStep> Steps, string? QuarantineReason)
{
    /// <summary>Whether the record could not be mapped.</summary>
    public bool IsQuarantined => QuarantineReason is not null;

    /// <summary>
    /// The problems of a record that cannot be mapped, each with its canonical field and path when it has one, in the
    /// order of <see cref="QuarantineReason"/> (which joins them); empty when mapped.
    /// </summary>
    public IReadOnlyList<MappingProblem> Problems { get; init; } = [];

    /// <summary>A record that cannot be mapped, for a reason that concerns the whole record.</summary>
    public static MappedRecord Quarantined(string reason) => new(null, [], reason) { Problems = [new MappingProblem(null, null, reason)] };
}

/// <summary>One reason a record cannot be mapped.</summary>
/// <param name="Field">The canonical field (<c>EventTime</c>, <c>Status</c>, <c>Steps</c>); <c>null</c> for the whole record.</param>
/// <param name="Path">The field's path in the record (<c>updatedDate</c>, <c>tasks[1].endDate</c>); <c>null</c> for the whole record.</param>
/// <param name="Problem">What is wrong, as the quarantine reason says it (naming the field and its path).</param>
public sealed record MappingProblem(string? Field, string? Path, string Problem);
