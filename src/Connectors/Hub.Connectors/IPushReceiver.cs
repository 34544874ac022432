namespace Hub.Connectors;

/// <summary>Turns a message pushed by a source into raw records, after checking that it really comes from the source.</summary>
public interface IPushReceiver
{
    /// <summary>Authenticates and parses one pushed message.</summary>
    /// <returns>The records, or a rejection saying why; a rejected message stores nothing.</returns>
    ValueTask<PushAcceptance> AcceptAsync(PushMessage message, CancellationToken cancellationToken);
}

/// <summary>A message as it reached the hub.</summary>
/// <param name="Headers">Request headers, names in lower case.</param>
/// <param name="Body">The body exactly as received (signatures are computed over these bytes).</param>
/// <param name="ReceivedAt">When the hub received it, by the hub's clock.</param>
public sealed record PushMessage(IReadOnlyDictionary<string, string> Headers, ReadOnlyMemory<byte> Body, DateTimeOffset ReceivedAt);

/// <summary>The outcome of accepting a pushed message.</summary>
/// <param name="Records">The raw records, when accepted.</param>
/// <param name="Rejection">Why the message was rejected; <c>null</c> when accepted.</param>
public sealed record PushAcceptance(IReadOnlyList<RawRecord> Records, PushRejection? Rejection)
{
    /// <summary>An accepted message.</summary>
    public static PushAcceptance Accept(IReadOnlyList<RawRecord> records) => new(records, null);

    /// <summary>A rejected message.</summary>
    public static PushAcceptance Reject(PushRejectionKind kind, string reason) => new([], new PushRejection(kind, reason));
}

/// <summary>Why a pushed message was rejected.</summary>
public sealed record PushRejection(PushRejectionKind Kind, string Reason);

/// <summary>The kinds of rejection, each answered with its own HTTP status.</summary>
public enum PushRejectionKind
{
    /// <summary>Missing or wrong credentials or signature (401).</summary>
    Unauthenticated,

    /// <summary>A replayed or stale message (401).</summary>
    Replay,

    /// <summary>The body cannot be read (400).</summary>
    Malformed,
}
