namespace Hub.Connectors;

/// <summary>
/// Reads changes from a source incrementally, one page at a time, from a cursor the connector owns.
/// </summary>
/// <remarks>
/// The hub stores each page's records and the page's <see cref="PullPage.Cursor"/> in one transaction, then asks
/// for the next page with that cursor. A run that is killed resumes from the last stored cursor, so a cursor must
/// mean "everything before this point is stored": a page may repeat records (the store ignores what it already
/// has) but must never skip one.
/// </remarks>
public interface IPullSource : IAsyncDisposable
{
    /// <summary>Checks a configuration: reaches the source, authenticates and reads one page. Does not move any cursor.</summary>
    Task<CheckResult> CheckAsync(CancellationToken cancellationToken);

    /// <summary>Reads the page after <paramref name="cursor"/> (<c>null</c>: from the beginning).</summary>
    /// <exception cref="ConnectorException">The source failed; the exception says whose side failed and whether a retry can help.</exception>
    Task<PullPage> PullAsync(string? cursor, CancellationToken cancellationToken);
}

/// <summary>One page of raw records.</summary>
/// <param name="Records">The records, as the source sent them.</param>
/// <param name="Cursor">The cursor after this page, stored with the page's records. Opaque to the hub.</param>
/// <param name="HasMore"><c>true</c> when the source has more pages now; the run ends after a page without more.</param>
public sealed record PullPage(IReadOnlyList<RawRecord> Records, string? Cursor, bool HasMore);

/// <summary>The outcome of checking a configuration.</summary>
/// <param name="Succeeded">Whether the source was reached, accepted the credentials and returned a page.</param>
/// <param name="Stage">The stage reached: where it failed, or <see cref="CheckStage.Read"/> on success.</param>
/// <param name="Message">What happened, in words an IT team can act on; never secrets or record contents.</param>
/// <param name="RecordsRead">Records in the page read, on success.</param>
public sealed record CheckResult(bool Succeeded, CheckStage Stage, string Message, int RecordsRead = 0)
{
    /// <summary>A successful check.</summary>
    public static CheckResult Success(int recordsRead, string message) => new(true, CheckStage.Read, message, recordsRead);

    /// <summary>A failed check.</summary>
    public static CheckResult Failure(CheckStage stage, string message) => new(false, stage, message);
}

/// <summary>The stages of a configuration check, in order.</summary>
public enum CheckStage
{
    /// <summary>The configuration itself.</summary>
    Configuration,

    /// <summary>Reaching the source over the network.</summary>
    Reach,

    /// <summary>Authenticating with the source.</summary>
    Authenticate,

    /// <summary>Reading one page.</summary>
    Read,
}
