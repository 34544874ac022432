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
public sealed record PullPage(IReadOnlyList<RawRecord> Records, string? Cursor, bool HasMore)
{
    /// <summary>
    /// The page exactly as the source sent it (the reply's body), kept in the hub's exchange log as the message that
    /// brought the records. <c>null</c> when the connector cannot supply it: the hub then logs the records' JSON.
    /// </summary>
    public ReadOnlyMemory<byte>? Content { get; init; }

    /// <summary>The media type of <see cref="Content"/>, as the source gave it.</summary>
    public string? ContentType { get; init; }

    /// <summary>When the page was received, by the hub's clock; <c>null</c>: when the hub got it from the connector.</summary>
    public DateTimeOffset? ReceivedAt { get; init; }

    /// <summary>
    /// The requests the connector sent to the source for this page, oldest first (log-ins, token requests, the page's own
    /// request), logged by the hub as outbound messages in the page's transaction. Never with credentials: see
    /// <see cref="SentRequest.Withheld"/>.
    /// </summary>
    public IReadOnlyList<SentRequest> Requests { get; init; } = [];
}

/// <summary>A request a connector sent to its source, as the hub's exchange log keeps it.</summary>
/// <param name="SentAt">When it was sent, by the hub's clock.</param>
/// <param name="Method">The HTTP method (or the protocol's verb).</param>
/// <param name="Target">Where it went: the URL with its query, minus any parameter that carries a credential.</param>
public sealed record SentRequest(DateTimeOffset SentAt, string Method, string Target)
{
    /// <summary>The body sent, when there is one and it holds no credential.</summary>
    public ReadOnlyMemory<byte>? Body { get; init; }

    /// <summary>The body's media type.</summary>
    public string? ContentType { get; init; }

    /// <summary>
    /// Why the body is not kept: it carries credentials (a log-in, a token request). Then neither the body nor its hash is
    /// logged (a hash of a short body with a weak password can be reversed by guessing), only that the request was sent.
    /// </summary>
    public string? Withheld { get; init; }
}

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
