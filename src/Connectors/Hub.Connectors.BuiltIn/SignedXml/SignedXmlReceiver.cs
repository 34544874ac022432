using System.Buffers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Xml;
using Hub.Core.Xml;

namespace Hub.Connectors.BuiltIn.SignedXml;

/// <summary>
/// Receives the documents a source posts to its signed-xml connector: verifies them with <see cref="SignedXmlVerifier"/>
/// against the connector's registered certificates only, then turns the verified document element's <c>HoSo</c> and
/// <c>TienDoXuLy</c> items, in document order, into raw records (each item's child elements as JSON properties) for the
/// connector's mapping.
/// </summary>
/// <remarks>
/// Records are read from the verified element only, which is exactly what the signature covers. Rejection reasons
/// name elements, paths, algorithms and certificates, never record content, so they can be logged.
/// </remarks>
public sealed class SignedXmlReceiver : IPushReceiver
{
    /// <summary>The document format's namespace.</summary>
    public const string Namespace = "urn:hub:signed-xml:1";

    /// <summary>The document element: a package of dossier items.</summary>
    public const string RootName = "GoiTinHoSo";

    /// <summary>A dossier status item.</summary>
    public const string DossierItem = "HoSo";

    /// <summary>A processing-step item.</summary>
    public const string StepItem = "TienDoXuLy";

    /// <summary>Code of a verified document holding an element that is neither item.</summary>
    public const string UnknownItemCode = "unknown-item";

    /// <summary>Code of a verified document holding no item.</summary>
    public const string EmptyDocumentCode = "empty-document";

    private static readonly HashSet<string> MalformedCodes = new(StringComparer.Ordinal)
    {
        SignedXmlCodes.TooDeep, SignedXmlCodes.DtdProhibited, SignedXmlCodes.ExternalEntity, SignedXmlCodes.EntityExpansion,
        SignedXmlCodes.MalformedXml, SignedXmlCodes.UnexpectedRoot, UnknownItemCode, EmptyDocumentCode,
    };

    private readonly SignedXmlSettings _settings;
    private readonly SignedXmlVerifier _verifier;

    internal SignedXmlReceiver(SignedXmlSettings settings)
    {
        _settings = settings;
        _verifier = new SignedXmlVerifier(
            new SignedXmlPolicy { MaxBytes = settings.MaxBytes, RootNamespace = Namespace, RootName = RootName },
            settings.Certificates);
    }

    /// <summary>The largest document the connector accepts, in bytes; the hub stops reading beyond it.</summary>
    public int MaxBytes => _settings.MaxBytes;

    /// <summary>The registered certificates, current first.</summary>
    public IReadOnlyList<X509Certificate2> Certificates => _settings.Certificates;

    /// <inheritdoc />
    public ValueTask<PushAcceptance> AcceptAsync(PushMessage message, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Receive(message).Acceptance);

    /// <summary>Verifies and reads one document.</summary>
    public SignedXmlDelivery Receive(PushMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var verification = _verifier.Verify(message.Body, message.ReceivedAt);
        if (verification.Rejection is { } rejection)
        {
            return Reject(rejection.Code, rejection.Reason);
        }

        var root = verification.Element!;
        var records = new List<RawRecord>();
        foreach (var item in root.ChildNodes.OfType<XmlElement>())
        {
            if (item.NamespaceURI == XmlDsigSigner.DsigNamespace && item.LocalName == "Signature")
            {
                continue;
            }

            var kind = item.NamespaceURI != Namespace ? (RawRecordKind?)null : item.LocalName switch
            {
                DossierItem => RawRecordKind.Dossier,
                StepItem => RawRecordKind.Step,
                _ => null,
            };
            if (kind is null)
            {
                return Reject(UnknownItemCode,
                    $"<{item.Name}> (namespace '{item.NamespaceURI}') at {SignedXmlVerifier.PathOf(item)} is not an item of the format: <{RootName}> holds only <{DossierItem}> and <{StepItem}> in namespace {Namespace}, then the signature");
            }

            records.Add(new RawRecord(kind.Value, ToJson(item)));
        }

        if (records.Count == 0)
        {
            return Reject(EmptyDocumentCode, $"the signed <{RootName}> holds no <{DossierItem}> or <{StepItem}> item: nothing to store");
        }

        return new SignedXmlDelivery(PushAcceptance.Accept(records), null, root.GetAttribute("Id"), SHA256.HashData(message.Body.Span), verification.Certificate);
    }

    /// <summary>An item as JSON: each child element a property, its text (no child elements) or an object; a name repeated becomes an array.</summary>
    internal static JsonElement ToJson(XmlElement item)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteObject(writer, item);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static void WriteObject(Utf8JsonWriter writer, XmlElement element)
    {
        writer.WriteStartObject();
        foreach (var group in element.ChildNodes.OfType<XmlElement>().GroupBy(c => c.LocalName, StringComparer.Ordinal))
        {
            writer.WritePropertyName(group.Key);
            var items = group.ToList();
            if (items.Count == 1)
            {
                WriteValue(writer, items[0]);
                continue;
            }

            writer.WriteStartArray();
            foreach (var child in items)
            {
                WriteValue(writer, child);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, XmlElement element)
    {
        if (element.ChildNodes.OfType<XmlElement>().Any())
        {
            WriteObject(writer, element);
        }
        else
        {
            writer.WriteStringValue(element.InnerText);
        }
    }

    private static SignedXmlDelivery Reject(string code, string reason)
    {
        var kind = code == SignedXmlCodes.TooLarge || MalformedCodes.Contains(code) ? PushRejectionKind.Malformed : PushRejectionKind.Unauthenticated;
        return new SignedXmlDelivery(PushAcceptance.Reject(kind, reason), code, null, null, null);
    }
}

/// <summary>The outcome of one signed-xml document.</summary>
/// <param name="Acceptance">The records, or why the document was refused.</param>
/// <param name="Code">When refused: the stable rejection code (<see cref="SignedXmlCodes"/>, or the receiver's own format codes).</param>
/// <param name="DocumentId">When accepted: the document element's Id, which the receipt names.</param>
/// <param name="Sha256">When accepted: SHA-256 of the document's bytes, which the receipt names.</param>
/// <param name="Certificate">When accepted: the registered certificate that verified it.</param>
public sealed record SignedXmlDelivery(PushAcceptance Acceptance, string? Code, string? DocumentId, byte[]? Sha256, X509Certificate2? Certificate);
