namespace Hub.Contracts;

/// <summary>
/// A batch of changes for the store's write path: dossier header changes and processing steps, in any order,
/// possibly with duplicates. Applying the same batch again changes nothing.
/// </summary>
public sealed record ChangeBatch
{
    /// <summary>Dossier header changes.</summary>
    public IReadOnlyList<DossierChange> Dossiers { get; init; } = [];

    /// <summary>Processing steps.</summary>
    public IReadOnlyList<DossierStep> Steps { get; init; } = [];
}
