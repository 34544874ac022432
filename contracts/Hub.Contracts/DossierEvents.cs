namespace Hub.Contracts;

/// <summary>
/// Published once the store has accepted a dossier change into its history: the change exactly as stored. Published
/// at least once; a consumer applies it idempotently (by <see cref="EventId"/>) and decides the current state by the
/// change's own event time and source version, since events may arrive in any order.
/// </summary>
public sealed record DossierStatusChanged
{
    /// <summary>The event's id, the same each time it is published: a consumer that has seen it ignores it.</summary>
    public required Guid EventId { get; init; }

    /// <summary>The change as stored.</summary>
    public required DossierChange Change { get; init; }

    /// <summary>Whether the change was the dossier's current state when it was stored (a late, older change is not).</summary>
    public required bool Current { get; init; }

    /// <summary>When the store accepted it, by the hub's clock.</summary>
    public required DateTimeOffset StoredAt { get; init; }
}

/// <summary>
/// Published once the store has stored a processing step, or new details of a step it had: the step exactly as
/// stored, with the dossier's national code. Published at least once; consumers apply it idempotently.
/// </summary>
public sealed record DossierStepAdded
{
    /// <summary>The event's id, the same each time it is published.</summary>
    public required Guid EventId { get; init; }

    /// <summary>The dossier's national code (<c>MaHoSo</c>), as the store has it when the step is published.</summary>
    public required string DossierCode { get; init; }

    /// <summary>The step as stored.</summary>
    public required DossierStep Step { get; init; }

    /// <summary>When the store accepted it, by the hub's clock.</summary>
    public required DateTimeOffset StoredAt { get; init; }
}
