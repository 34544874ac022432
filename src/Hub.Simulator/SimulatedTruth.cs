using Hub.Contracts;

namespace Hub.Simulator;

/// <summary>
/// Exactly what the hub must hold for a province, in canonical form: one change per revision (in feed order:
/// update time, vendor id, revision number) and every processing step. <see cref="DossierChange.MappingVersion"/> is
/// null; the hub sets its own.
/// </summary>
/// <param name="Changes">One change per real revision.</param>
/// <param name="Steps">Every processing step, in the order of the revisions that added them.</param>
public sealed record SimulatedTruth(IReadOnlyList<DossierChange> Changes, IReadOnlyList<DossierStep> Steps);
