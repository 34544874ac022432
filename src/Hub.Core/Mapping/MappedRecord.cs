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

    /// <summary>A record that cannot be mapped.</summary>
    public static MappedRecord Quarantined(string reason) => new(null, [], reason);
}
