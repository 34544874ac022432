using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml;
using Hub.Core.Xml;

namespace Hub.Connectors.BuiltIn.SignedXml;

/// <summary>
/// The receipt (<c>&lt;BienNhan&gt;</c>) the hub answers an accepted document with: which document (its Id and SHA-256),
/// when it was received and what the hub made of it, signed by the hub as it signs everything it sends
/// (<see cref="XmlDsigSigner.SignEnveloped"/>: enveloped, exclusive c14n, RSA-SHA256), so the sender holds proof of delivery.
/// </summary>
public static class SignedXmlReceipt
{
    /// <summary>The receipt's document element.</summary>
    public const string RootName = "BienNhan";

    private static readonly TimeSpan VietnamOffset = TimeSpan.FromHours(7);

    /// <summary>Builds and signs a receipt; returns its bytes (UTF-8) and its Id.</summary>
    /// <param name="receipt">What the receipt says.</param>
    /// <param name="hub">The hub's signing certificate, with its private key.</param>
    public static (byte[] Bytes, string Id) Create(ReceiptContent receipt, X509Certificate2 hub)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        var id = "biennhan-" + Guid.NewGuid().ToString("N");
        var document = new XmlDocument { PreserveWhitespace = true };
        var root = document.CreateElement(RootName, SignedXmlReceiver.Namespace);
        root.SetAttribute("Id", id);
        document.AppendChild(root);
        Add(root, "MaGoiTin", receipt.DocumentId);
        Add(root, "SHA256GoiTin", Convert.ToHexStringLower(receipt.DocumentSha256));
        Add(root, "ThoiDiemNhan", receipt.ReceivedAt.ToOffset(VietnamOffset).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture));
        var result = (XmlElement)root.AppendChild(document.CreateElement("KetQua", SignedXmlReceiver.Namespace))!;
        Add(result, "SoBanGhi", receipt.Received.ToString(CultureInfo.InvariantCulture));
        Add(result, "SoThayDoiDaLuu", receipt.Stored.ToString(CultureInfo.InvariantCulture));
        Add(result, "SoThayDoiDaCo", receipt.Unchanged.ToString(CultureInfo.InvariantCulture));
        Add(result, "SoTienDoDaLuu", receipt.StepsStored.ToString(CultureInfo.InvariantCulture));
        foreach (var (index, reason) in receipt.Quarantined)
        {
            var item = (XmlElement)result.AppendChild(document.CreateElement("BanGhiCachLy", SignedXmlReceiver.Namespace))!;
            Add(item, "ViTri", index.ToString(CultureInfo.InvariantCulture));
            Add(item, "LyDo", reason);
        }

        XmlDsigSigner.SignEnveloped(root, hub);
        using var stream = new MemoryStream();
        using (var writer = XmlWriter.Create(stream, new XmlWriterSettings { Encoding = new UTF8Encoding(false) }))
        {
            document.Save(writer);
        }

        return (stream.ToArray(), id);
    }

    private static void Add(XmlElement parent, string name, string text) =>
        parent.AppendChild(parent.OwnerDocument.CreateElement(name, SignedXmlReceiver.Namespace))!.InnerText = text;
}

/// <summary>What a receipt says.</summary>
/// <param name="DocumentId">The received document's Id.</param>
/// <param name="DocumentSha256">SHA-256 of the received bytes.</param>
/// <param name="ReceivedAt">When the hub received it.</param>
/// <param name="Received">Items in the document.</param>
/// <param name="Stored">Dossier changes added to the history.</param>
/// <param name="Unchanged">Dossier changes the hub already had.</param>
/// <param name="StepsStored">Processing steps stored.</param>
/// <param name="Quarantined">Items kept in quarantine: their position among the document's items (from 0) and why.</param>
public sealed record ReceiptContent(
    string DocumentId, byte[] DocumentSha256, DateTimeOffset ReceivedAt, int Received, int Stored, int Unchanged, int StepsStored,
    IReadOnlyList<(int Index, string Reason)> Quarantined);
