using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Hub.Core.Mapping;

namespace Hub.Connectors.BuiltIn.NationalPortal;

/// <summary>
/// Turns an authenticated sync post of the national portal protocol into raw records for the connector's mapping:
/// <c>DongBoHoSoMC</c> rows become <see cref="RawRecordKind.Dossier"/> records, <c>CapNhatTienDoHoSoMC</c> rows
/// <see cref="RawRecordKind.Step"/> records, one record per row, in the rows' order.
/// </summary>
/// <remarks>
/// The protocol authenticates with a session token from a login, which lives in the hub's database, so the session is
/// checked by the hub's portal adapter (<c>POST /portal/sync</c>) before it calls <see cref="Accept"/>. A message that
/// reaches <see cref="AcceptAsync"/> by any other way has proved nothing and is rejected.
/// </remarks>
public sealed class NationalPortalReceiver(NationalPortalSettings settings) : IPushReceiver
{
    /// <summary>The format of the receive time given as <c>_eventTime</c> to rows without <c>NgayCapNhat</c>: ISO 8601 with 100 ns.</summary>
    public const string ReceiveTimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffffzzz";

    // Vietnamese text stays readable in the stored payload (quarantine) instead of \u escapes.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.Create(UnicodeRanges.All) };

    /// <summary>The connector's settings.</summary>
    public NationalPortalSettings Settings => settings;

    /// <inheritdoc />
    public ValueTask<PushAcceptance> AcceptAsync(PushMessage message, CancellationToken cancellationToken) =>
        ValueTask.FromResult(PushAcceptance.Reject(
            PushRejectionKind.Unauthenticated,
            "national-portal messages are authenticated by a session from POST /portal/login; send them to the hub's portal adapter (POST /portal/sync)"));

    /// <summary>Checks a post against the connector (service, agency) and builds its raw records.</summary>
    /// <param name="envelope">The post, whose session the caller has checked.</param>
    /// <param name="receivedAt">When the hub received it; the event time of dossier rows that carry no <c>NgayCapNhat</c>.</param>
    public PortalAcceptance Accept(PortalEnvelope envelope, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var kind = envelope.Service switch
        {
            PortalProtocol.DossierService => RawRecordKind.Dossier,
            PortalProtocol.StepService => RawRecordKind.Step,
            _ => (RawRecordKind?)null,
        };
        if (kind is null)
        {
            return PortalAcceptance.Refuse(
                PortalProtocol.Codes.UnknownService,
                $"service '{Shown(envelope.Service)}' is not one the hub accepts; services: {string.Join(", ", PortalProtocol.Services)}");
        }

        if (!settings.MaySendFor(envelope.AgencyCode))
        {
            return PortalAcceptance.Refuse(
                PortalProtocol.Codes.AgencyNotAllowed,
                $"this account may not send for agency (madonvi) '{Shown(envelope.AgencyCode)}'; the connector's madonvi list does not name it");
        }

        var records = new RawRecord[envelope.Rows.Count];
        for (var i = 0; i < records.Length; i++)
        {
            var row = envelope.Rows[i];
            records[i] = kind == RawRecordKind.Dossier
                ? new RawRecord(RawRecordKind.Dossier, DossierRow(row, envelope.AgencyCode, receivedAt, i))
                : new RawRecord(RawRecordKind.Step, row);
        }

        return PortalAcceptance.Accepted(kind.Value, records);
    }

    /// <summary>
    /// A dossier row as the mapping reads it: personal fields removed, the envelope's <c>madonvi</c> as
    /// <c>_madonvi</c>, and <c>_eventTime</c>: the row's <c>NgayCapNhat</c> when it has one, else the receive time plus
    /// the row's position in 100 ns ticks (so that of two rows of one dossier in one post the later one is newer).
    /// Values the client put in <c>_madonvi</c> or <c>_eventTime</c> itself are replaced. A row that is not an object
    /// is left as it is: the mapping quarantines it with that reason.
    /// </summary>
    internal static JsonElement DossierRow(JsonElement row, string agencyCode, DateTimeOffset receivedAt, int index)
    {
        if (row.ValueKind != JsonValueKind.Object)
        {
            return row;
        }

        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            JsonElement? updateTime = null;
            foreach (var property in row.EnumerateObject())
            {
                if (PortalProtocol.PersonalFields.Contains(property.Name, StringComparer.Ordinal)
                    || property.Name is NationalPortalMapping.AgencyCodeField or NationalPortalMapping.EventTimeField)
                {
                    continue;
                }

                if (property.Name == PortalProtocol.UpdateTimeField && HasValue(property.Value))
                {
                    updateTime = property.Value;
                }

                property.WriteTo(writer);
            }

            writer.WriteString(NationalPortalMapping.AgencyCodeField, agencyCode);
            writer.WritePropertyName(NationalPortalMapping.EventTimeField);
            if (updateTime is { } sent)
            {
                sent.WriteTo(writer);
            }
            else
            {
                writer.WriteStringValue(receivedAt.ToOffset(PortalProtocol.VietnamOffset).AddTicks(index).ToString(ReceiveTimeFormat, CultureInfo.InvariantCulture));
            }

            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static bool HasValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => !string.IsNullOrWhiteSpace(value.GetString()),
        JsonValueKind.Null or JsonValueKind.Undefined => false,
        _ => true,
    };

    /// <summary>A value from the wire, shortened for messages.</summary>
    private static string Shown(string value) => value.Length <= 64 ? value : value[..64] + "…";
}

/// <summary>The outcome of checking a post against its connector.</summary>
/// <param name="Kind">What the rows are, when accepted.</param>
/// <param name="Records">One raw record per row, in order, when accepted.</param>
/// <param name="ErrorCode">The portal reply code when refused (<see cref="PortalProtocol.Codes"/>); <c>null</c> when accepted.</param>
/// <param name="Reason">Why it was refused.</param>
public sealed record PortalAcceptance(RawRecordKind Kind, IReadOnlyList<RawRecord> Records, string? ErrorCode, string? Reason)
{
    /// <summary>Whether the post was refused.</summary>
    public bool IsRefused => ErrorCode is not null;

    internal static PortalAcceptance Accepted(RawRecordKind kind, IReadOnlyList<RawRecord> records) => new(kind, records, null, null);

    internal static PortalAcceptance Refuse(string code, string reason) => new(RawRecordKind.Dossier, [], code, reason);
}
