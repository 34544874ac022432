namespace Hub.Contracts;

/// <summary>
/// The identity of a dossier in the hub: the source system that owns it and that system's own id for it.
/// The national dossier code (<c>MaHoSo</c>) is unique too, but the key is what the source system controls.
/// </summary>
/// <param name="SourceSystem">The hub's id of the source system (one per connected one-stop system).</param>
/// <param name="NativeId">The dossier's id in the source system.</param>
public sealed record DossierKey(string SourceSystem, string NativeId);
