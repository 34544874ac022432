using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Hub.Connectors.BuiltIn.Webhook;

/// <summary>
/// Receives the batches a source posts to its json-webhook connector: checks the HMAC-SHA256 signature over
/// <c>{timestamp}.{body}</c> (with the connector's secret, or its previous one during a rotation), refuses a timestamp
/// outside the tolerance, and turns <c>{"dossiers": [...], "steps": [...]}</c> into raw records, dossiers first.
/// </summary>
/// <remarks>
/// The receiver holds no state. An exact copy of an accepted delivery sent again inside the tolerance passes these
/// checks; the hub refuses it by recording every accepted delivery's <see cref="WebhookReceipt.Digest"/> in its database,
/// in the transaction that stores the delivery's records. Rejection reasons name headers, settings, positions and
/// JSON kinds, never header values, body content or secrets, so they can be logged.
/// </remarks>
public sealed class JsonWebhookReceiver : IPushReceiver
{
    /// <summary>What precedes the hex digest in the signature header.</summary>
    public const string SignaturePrefix = "sha256=";

    private const int MaxNameInReason = 40;

    private readonly JsonWebhookSettings _settings;

    internal JsonWebhookReceiver(JsonWebhookSettings settings) => _settings = settings;

    /// <summary>The largest body the connector accepts, in bytes; the hub stops reading beyond it.</summary>
    public int MaxBodyBytes => _settings.MaxBodyBytes;

    /// <summary>How far the signing time may be from the hub's clock, either way.</summary>
    public TimeSpan Tolerance => _settings.Tolerance;

    /// <summary>The header that carries the signature.</summary>
    public string SignatureHeader => _settings.SignatureHeader;

    /// <summary>The header that carries the signing time.</summary>
    public string TimestampHeader => _settings.TimestampHeader;

    /// <inheritdoc />
    public ValueTask<PushAcceptance> AcceptAsync(PushMessage message, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Receive(message).Acceptance);

    /// <summary>Authenticates and parses one delivery.</summary>
    /// <returns>The acceptance, with the delivery's digest and signing time when accepted.</returns>
    public WebhookReceipt Receive(PushMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var body = message.Body.Span;
        if (body.Length > MaxBodyBytes)
        {
            return Reject(PushRejectionKind.Malformed, $"the body is {body.Length} bytes, more than the connector's maxBodyBytes ({MaxBodyBytes}); send smaller batches");
        }

        if (Header(message, SignatureHeader) is not { } signatureText)
        {
            return Reject(PushRejectionKind.Unauthenticated, $"the {SignatureHeader} header is missing: every delivery must be signed");
        }

        Span<byte> signature = stackalloc byte[SHA256.HashSizeInBytes];
        if (!TryParseSignature(signatureText, signature))
        {
            return Reject(PushRejectionKind.Unauthenticated, $"the {SignatureHeader} header must be '{SignaturePrefix}' followed by the 64 hex digits of an HMAC-SHA256");
        }

        if (Header(message, TimestampHeader) is not { } timestampText)
        {
            return Reject(PushRejectionKind.Unauthenticated, $"the {TimestampHeader} header is missing: it must carry the signing time in Unix seconds");
        }

        if (!TryParseTimestamp(timestampText, out var signedAt))
        {
            return Reject(PushRejectionKind.Unauthenticated, $"the {TimestampHeader} header must be the signing time in Unix seconds (digits only)");
        }

        var timestamp = Encoding.ASCII.GetBytes(timestampText);
        if (!Matches(signature, _settings.Secret, timestamp, body)
            && (_settings.PreviousSecret is null || !Matches(signature, _settings.PreviousSecret, timestamp, body)))
        {
            return Reject(PushRejectionKind.Unauthenticated,
                $"the {SignatureHeader} signature does not match: it must be HMAC-SHA256, keyed with the connector's secret, of the "
                + $"{TimestampHeader} value, a dot and the exact body bytes sent");
        }

        var age = message.ReceivedAt - signedAt;
        if (age > Tolerance)
        {
            return Reject(PushRejectionKind.Replay,
                $"the {TimestampHeader} time is {age.TotalSeconds:0} s in the past, beyond the connector's tolerance of {Tolerance.TotalSeconds:0} s: "
                + "sign every delivery, retries included, with the current time");
        }

        if (-age > Tolerance)
        {
            return Reject(PushRejectionKind.Replay,
                $"the {TimestampHeader} time is {-age.TotalSeconds:0} s in the future, beyond the connector's tolerance of {Tolerance.TotalSeconds:0} s: "
                + "check the sender's clock");
        }

        var (records, problem) = Parse(message.Body);
        return problem is not null
            ? Reject(PushRejectionKind.Malformed, problem)
            : new WebhookReceipt(PushAcceptance.Accept(records), Digest(timestamp, body), signedAt);
    }

    private static byte[] Mac(byte[] key, ReadOnlySpan<byte> timestamp, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(timestamp);
        hmac.AppendData("."u8);
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }

    private static bool Matches(ReadOnlySpan<byte> signature, byte[] key, ReadOnlySpan<byte> timestamp, ReadOnlySpan<byte> body) =>
        CryptographicOperations.FixedTimeEquals(signature, Mac(key, timestamp, body));

    /// <summary>What identifies a delivery whatever key signed it: SHA-256 of the signed content.</summary>
    private static byte[] Digest(ReadOnlySpan<byte> timestamp, ReadOnlySpan<byte> body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(timestamp);
        hash.AppendData("."u8);
        hash.AppendData(body);
        return hash.GetHashAndReset();
    }

    private static bool TryParseSignature(string text, Span<byte> signature)
    {
        var hex = text.AsSpan().Trim();
        return hex.StartsWith(SignaturePrefix, StringComparison.Ordinal)
            && hex.Length == SignaturePrefix.Length + (2 * signature.Length)
            && Convert.FromHexString(hex[SignaturePrefix.Length..], signature, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == signature.Length;
    }

    private static bool TryParseTimestamp(string text, out DateTimeOffset signedAt)
    {
        signedAt = default;
        if (text.Length is 0 or > 12
            || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return false;
        }

        signedAt = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }

    private static string? Header(PushMessage message, string name) =>
        message.Headers.TryGetValue(name.ToLowerInvariant(), out var value) && value.Length > 0 ? value : null;

    /// <summary>Reads <c>{"dossiers": [...], "steps": [...]}</c>; items are kept as sent, whatever their JSON kind (the mapping quarantines non-objects).</summary>
    private static (IReadOnlyList<RawRecord> Records, string? Problem) Parse(ReadOnlyMemory<byte> body)
    {
        // A UTF-8 byte order mark is allowed by RFC 8259 to be ignored; some Windows senders write one.
        if (body.Span.StartsWith("\uFEFF"u8))
        {
            body = body[3..];
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            // The parser's own message quotes the offending character: only where it is goes into the reason.
            return ([], $"the body is not valid UTF-8 JSON: error at line {e.LineNumber + 1 ?? 1}, byte {e.BytePositionInLine + 1 ?? 1} of that line");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            return ([], $"the body must be a JSON object {{\"dossiers\": [...], \"steps\": [...]}}, not {JsonWebhookSettings.Describe(root.ValueKind)}");
        }

        JsonElement? dossiers = null, steps = null;
        foreach (var property in root.EnumerateObject())
        {
            switch (property.Name)
            {
                case "dossiers" when dossiers is null:
                    dossiers = property.Value;
                    break;
                case "steps" when steps is null:
                    steps = property.Value;
                    break;
                case "dossiers" or "steps":
                    return ([], $"the body has the property '{property.Name}' twice");
                default:
                    return ([], $"the body has a property '{Shorten(property.Name)}'; only 'dossiers' and 'steps' are read");
            }
        }

        if (dossiers is null && steps is null)
        {
            return ([], "the body has neither 'dossiers' nor 'steps': nothing to store");
        }

        foreach (var (name, list) in new[] { ("dossiers", dossiers), ("steps", steps) })
        {
            if (list is { ValueKind: not JsonValueKind.Array } wrong)
            {
                return ([], $"'{name}' must be an array, not {JsonWebhookSettings.Describe(wrong.ValueKind)}");
            }
        }

        var records = new List<RawRecord>((dossiers?.GetArrayLength() ?? 0) + (steps?.GetArrayLength() ?? 0));
        if (dossiers is { } d)
        {
            records.AddRange(d.EnumerateArray().Select(item => new RawRecord(RawRecordKind.Dossier, item)));
        }

        if (steps is { } s)
        {
            records.AddRange(s.EnumerateArray().Select(item => new RawRecord(RawRecordKind.Step, item)));
        }

        return (records, null);
    }

    private static string Shorten(string name) => name.Length <= MaxNameInReason ? name : name[..MaxNameInReason] + "…";

    private static WebhookReceipt Reject(PushRejectionKind kind, string reason) => new(PushAcceptance.Reject(kind, reason), null, null);
}

/// <summary>The outcome of one webhook delivery.</summary>
/// <param name="Acceptance">The records, or why the delivery was refused.</param>
/// <param name="Digest">
/// When accepted: SHA-256 of the signed content (timestamp, dot, body), which identifies the delivery whatever key
/// signed it. The hub refuses a second delivery with the same digest while its timestamp is inside the tolerance.
/// </param>
/// <param name="SignedAt">When accepted: the signing time the sender gave.</param>
public sealed record WebhookReceipt(PushAcceptance Acceptance, byte[]? Digest, DateTimeOffset? SignedAt);
