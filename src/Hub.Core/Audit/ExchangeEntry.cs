using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Hub.Core.Audit;

/// <summary>What an exchange-log entry records: a message the hub received or sent, or an administrative action.</summary>
/// <remarks>
/// Everything but the payload bytes goes into the entry's leaf hash (<see cref="ExchangeEntry.LeafData"/>); the payload
/// goes in through its SHA-256, and verification checks the stored bytes against it.
/// </remarks>
public sealed record ExchangeRecord
{
    /// <summary><c>message</c> or <c>admin</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>The connector the message came through or the action was about.</summary>
    public string? ConnectorId { get; init; }

    /// <summary><c>inbound</c> or <c>outbound</c>, for messages.</summary>
    public string? Direction { get; init; }

    /// <summary>How the message travelled: the connector kind (<c>rest-pull</c>, <c>json-webhook</c>, <c>signed-xml</c>…) or <c>api</c>.</summary>
    public string? Transport { get; init; }

    /// <summary>When the hub received (or sent) the message, by its clock.</summary>
    public DateTimeOffset? ReceivedAt { get; init; }

    /// <summary>The payload's media type.</summary>
    public string? ContentType { get; init; }

    /// <summary>The message exactly as received or sent; <c>null</c> for actions without one.</summary>
    public ReadOnlyMemory<byte>? Payload { get; init; }

    /// <summary>
    /// Why the payload's bytes are not kept (only its hash and size are): for example credentials in a log-in request.
    /// </summary>
    public string? PayloadWithheld { get; init; }

    /// <summary><c>stored</c> or <c>rejected</c> for messages; <c>done</c> or <c>failed</c> for actions.</summary>
    public required string Outcome { get; init; }

    /// <summary>Why a message was rejected or an action failed; what the action was for.</summary>
    public string? Reason { get; init; }

    /// <summary>The dossier codes the message or action touched.</summary>
    public IReadOnlyList<string> Dossiers { get; init; } = [];

    /// <summary>The mapping version the message was mapped with.</summary>
    public string? MappingVersion { get; init; }

    /// <summary>The sync run the message belongs to.</summary>
    public long? RunId { get; init; }

    /// <summary>Who did the action (or sent the message, when known).</summary>
    public string? Actor { get; init; }

    /// <summary>The action: <c>connector.registered</c>, <c>connector.changed</c>, <c>quarantine.reprocessed</c>…</summary>
    public string? Action { get; init; }

    /// <summary>What the hub made of the message, or the action's details, as JSON.</summary>
    public string? Detail { get; init; }

    /// <summary>Message kind.</summary>
    public const string MessageKind = "message";

    /// <summary>Administrative action kind.</summary>
    public const string AdminKind = "admin";
}

/// <summary>An entry as stored: its id, time and content, with the payload's hash.</summary>
public sealed record ExchangeEntry
{
    /// <summary>The entry's id (order of writing).</summary>
    public required long Id { get; init; }

    /// <summary>When it was written.</summary>
    public required DateTimeOffset RecordedAt { get; init; }

    /// <summary><c>message</c> or <c>admin</c>.</summary>
    public required string Kind { get; init; }

    public string? ConnectorId { get; init; }

    public string? Direction { get; init; }

    public string? Transport { get; init; }

    public DateTimeOffset? ReceivedAt { get; init; }

    public string? ContentType { get; init; }

    /// <summary>SHA-256 of the payload.</summary>
    public byte[]? PayloadSha256 { get; init; }

    public long? PayloadSize { get; init; }

    public string? PayloadWithheld { get; init; }

    public required string Outcome { get; init; }

    public string? Reason { get; init; }

    public IReadOnlyList<string> Dossiers { get; init; } = [];

    public string? MappingVersion { get; init; }

    public long? RunId { get; init; }

    public string? Actor { get; init; }

    public string? Action { get; init; }

    public string? Detail { get; init; }

    /// <summary>The leaf index the sealer gave it; <c>null</c> while it waits to be sealed.</summary>
    public long? LeafIndex { get; init; }

    /// <summary>The leaf hash of this entry.</summary>
    public byte[] LeafHash() => MerkleTree.LeafHash(LeafData());

    /// <summary>
    /// The bytes the leaf hash is computed over: a version tag, then every field in a fixed order, each as a one-byte
    /// tag, a 4-byte big-endian length (0xFFFFFFFF for a missing value) and its UTF-8 text (times as
    /// <c>yyyy-MM-ddTHH:mm:ss.ffffffZ</c>, numbers in decimal, hashes in lower-case hex, dossier codes one per field).
    /// The same bytes are written into evidence bundles' verifiers, so this never changes for version 1.
    /// </summary>
    public byte[] LeafData()
    {
        var buffer = new List<byte>(256);
        buffer.AddRange("hub-exchange-entry/1"u8.ToArray());
        Add(buffer, 1, Id.ToString(CultureInfo.InvariantCulture));
        Add(buffer, 2, FormatTime(RecordedAt));
        Add(buffer, 3, Kind);
        Add(buffer, 4, ConnectorId);
        Add(buffer, 5, Direction);
        Add(buffer, 6, Transport);
        Add(buffer, 7, ReceivedAt is { } r ? FormatTime(r) : null);
        Add(buffer, 8, ContentType);
        Add(buffer, 9, PayloadSha256 is { } h ? Convert.ToHexStringLower(h) : null);
        Add(buffer, 10, PayloadSize?.ToString(CultureInfo.InvariantCulture));
        Add(buffer, 11, PayloadWithheld);
        Add(buffer, 12, Outcome);
        Add(buffer, 13, Reason);
        Add(buffer, 14, Dossiers.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var code in Dossiers)
        {
            Add(buffer, 15, code);
        }

        Add(buffer, 16, MappingVersion);
        Add(buffer, 17, RunId?.ToString(CultureInfo.InvariantCulture));
        Add(buffer, 18, Actor);
        Add(buffer, 19, Action);
        Add(buffer, 20, Detail);
        return [.. buffer];
    }

    /// <summary>How times are written in leaf data and evidence bundles (UTC, microseconds, as PostgreSQL keeps them).</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Reads a time written by <see cref="FormatTime"/>.</summary>
    public static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.ParseExact(text, "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    /// <summary>Truncates a time to the microseconds PostgreSQL keeps.</summary>
    public static DateTimeOffset ToMicroseconds(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % 10), TimeSpan.Zero);

    private static void Add(List<byte> buffer, byte tag, string? value)
    {
        buffer.Add(tag);
        Span<byte> length = stackalloc byte[4];
        if (value is null)
        {
            BinaryPrimitives.WriteUInt32BigEndian(length, uint.MaxValue);
            buffer.AddRange(length.ToArray());
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)bytes.Length);
        buffer.AddRange(length.ToArray());
        buffer.AddRange(bytes);
    }
}
