namespace Hub.Connectors;

/// <summary>
/// A pull source whose feed is ordered by the time each record was last changed, so that the hub can read a past range
/// of it again (a back-fill) without touching the connector's own cursor. Optional: a <see cref="IPullSource"/> that
/// also implements this interface can be back-filled; the others cannot.
/// </summary>
/// <remarks>
/// The hub starts from <see cref="CursorAt"/>, pulls pages with <see cref="IPullSource.PullAsync"/> as a sync does, keeps
/// the records whose <see cref="ChangedAt"/> falls in the range, and stops after the first page that holds a record
/// changed at or after the range's end (or at the end of the feed). That is only right if the feed is ordered by
/// <see cref="ChangedAt"/>, oldest first: a source that cannot promise it must not implement this interface.
/// Records before the range (a source may start a little early) are read and dropped; records without a readable time
/// are passed on to the write path as a sync would (stored or quarantined by the same rules).
/// </remarks>
public interface IBackfillSource : IPullSource
{
    /// <summary>
    /// A cursor from which <see cref="IPullSource.PullAsync"/> reads every record changed at or after <paramref name="from"/>
    /// (and maybe some before it), as if a run had stopped just before that time. Never stored as the connector's cursor.
    /// </summary>
    string CursorAt(DateTimeOffset from);

    /// <summary>When the record was last changed, by the field the feed is ordered by; <c>null</c> when it has none readable.</summary>
    DateTimeOffset? ChangedAt(RawRecord record);
}
