using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Xml;
using Hub.Core.Xml;

namespace Hub.Core.Audit;

/// <summary>
/// A sealed checkpoint of the exchange log: the tree size, its root hash, the previous checkpoint's size and root, the
/// time and the signer, in a small XML document signed with XML-DSig (enveloped, exclusive c14n, RSA-SHA256):
/// <code>
/// &lt;Checkpoint xmlns="urn:hub:exchange-log:1" Id="checkpoint-42"&gt;&lt;Origin&gt;…&lt;/Origin&gt;&lt;TreeSize&gt;42&lt;/TreeSize&gt;
///   &lt;RootHash&gt;hex&lt;/RootHash&gt;&lt;PreviousTreeSize&gt;40&lt;/PreviousTreeSize&gt;&lt;PreviousRootHash&gt;hex&lt;/PreviousRootHash&gt;
///   &lt;SealedAt&gt;2026-11-23T05:00:00.000000Z&lt;/SealedAt&gt;&lt;Signer&gt;SHA-256 thumbprint&lt;/Signer&gt;&lt;ds:Signature…/&gt;&lt;/Checkpoint&gt;
/// </code>
/// </summary>
public sealed record Checkpoint(
    string Origin, long TreeSize, byte[] RootHash, long PreviousTreeSize, byte[] PreviousRootHash, DateTimeOffset SealedAt, string Signer)
{
    /// <summary>The namespace of checkpoints and evidence bundles.</summary>
    public const string Namespace = "urn:hub:exchange-log:1";

    /// <summary>The <c>Id</c> of a checkpoint's element.</summary>
    public string ElementId => "checkpoint-" + TreeSize.ToString(CultureInfo.InvariantCulture);

    /// <summary>The SHA-256 thumbprint (hex, upper case) by which checkpoints name their signer.</summary>
    public static string ThumbprintOf(X509Certificate2 certificate) =>
        Convert.ToHexString(certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256));

    /// <summary>Writes the checkpoint as a signed standalone document (no XML declaration, no indentation).</summary>
    public string Sign(X509Certificate2 certificate)
    {
        var document = new XmlDocument { PreserveWhitespace = true };
        document.AppendChild(ToElement(document));
        XmlDsigSigner.SignEnveloped(document.DocumentElement!, certificate);
        return document.OuterXml;
    }

    private XmlElement ToElement(XmlDocument document)
    {
        var root = document.CreateElement("Checkpoint", Namespace);
        root.SetAttribute("Id", ElementId);
        void Add(string name, string value) => root.AppendChild(document.CreateElement(name, Namespace))!.InnerText = value;
        Add("Origin", Origin);
        Add("TreeSize", TreeSize.ToString(CultureInfo.InvariantCulture));
        Add("RootHash", Convert.ToHexStringLower(RootHash));
        Add("PreviousTreeSize", PreviousTreeSize.ToString(CultureInfo.InvariantCulture));
        Add("PreviousRootHash", Convert.ToHexStringLower(PreviousRootHash));
        Add("SealedAt", ExchangeEntry.FormatTime(SealedAt));
        Add("Signer", Signer);
        return root;
    }

    /// <summary>Reads a checkpoint element (standalone or inside a bundle), without checking its signature.</summary>
    /// <exception cref="FormatException">A field is missing or malformed.</exception>
    public static Checkpoint Read(XmlElement element)
    {
        ArgumentNullException.ThrowIfNull(element);
        if (element.LocalName != "Checkpoint" || element.NamespaceURI != Namespace)
        {
            throw new FormatException($"Expected a <Checkpoint> element in {Namespace}, found <{element.Name}>.");
        }

        string Field(string name) => element.SelectSingleNode($"*[local-name()='{name}' and namespace-uri()='{Namespace}']")?.InnerText
            ?? throw new FormatException($"The checkpoint has no <{name}>.");
        long Number(string name) => long.TryParse(Field(name), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n : throw new FormatException($"The checkpoint's <{name}> is not a number.");
        byte[] Hash(string name)
        {
            var text = Field(name);
            return text.Length == 64 && text.All(char.IsAsciiHexDigitLower)
                ? Convert.FromHexString(text)
                : throw new FormatException($"The checkpoint's <{name}> is not 64 lower-case hex digits.");
        }

        var checkpoint = new Checkpoint(
            Field("Origin"), Number("TreeSize"), Hash("RootHash"), Number("PreviousTreeSize"), Hash("PreviousRootHash"),
            ExchangeEntry.ParseTime(Field("SealedAt")), Field("Signer"));
        if (element.GetAttribute("Id") != checkpoint.ElementId)
        {
            throw new FormatException($"The checkpoint of size {checkpoint.TreeSize} has Id '{element.GetAttribute("Id")}', not '{checkpoint.ElementId}'.");
        }

        return checkpoint;
    }

    /// <summary>Parses a stored checkpoint document (DTDs prohibited, no resolver).</summary>
    public static XmlDocument Parse(string xml)
    {
        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        using var reader = XmlReader.Create(new StringReader(xml), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
        document.Load(reader);
        return document;
    }

    /// <summary>
    /// Checks the signature of a checkpoint element against <paramref name="certificate"/>: exactly one signature, a
    /// child of the element, one reference to the element's Id with the enveloped and exclusive c14n transforms,
    /// RSA-SHA256 over SHA-256; the key is the certificate's, never one carried in the document.
    /// </summary>
    /// <returns><c>null</c> when valid, else why not.</returns>
    public static string? CheckSignature(XmlElement element, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(element);
        ArgumentNullException.ThrowIfNull(certificate);
        var signatures = element.GetElementsByTagName("Signature", SignedXml.XmlDsigNamespaceUrl);
        if (signatures.Count != 1 || signatures[0]!.ParentNode != element)
        {
            return $"the checkpoint must carry exactly one signature as its own child (found {signatures.Count})";
        }

        var signedXml = new SignedXml(element);
        try
        {
            signedXml.LoadXml((XmlElement)signatures[0]!);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            return "the checkpoint's signature cannot be read: " + e.Message;
        }

        var info = signedXml.SignedInfo!;
        if (info.CanonicalizationMethod != SignedXml.XmlDsigExcC14NTransformUrl || info.SignatureMethod != SignedXml.XmlDsigRSASHA256Url
            || info.References.Count != 1)
        {
            return "the checkpoint's signature does not use exclusive c14n and RSA-SHA256 with a single reference";
        }

        var reference = (Reference)info.References[0]!;
        var transforms = new List<string?>();
        for (var i = 0; i < reference.TransformChain.Count; i++)
        {
            transforms.Add(reference.TransformChain[i].Algorithm);
        }

        if (reference.Uri != "#" + element.GetAttribute("Id") || reference.DigestMethod != SignedXml.XmlDsigSHA256Url
            || !transforms.SequenceEqual([SignedXml.XmlDsigEnvelopedSignatureTransformUrl, SignedXml.XmlDsigExcC14NTransformUrl]))
        {
            return "the checkpoint's signature does not cover the checkpoint element (enveloped, exclusive c14n, SHA-256)";
        }

        if (element.OwnerDocument.SelectNodes($"//*[@Id='{element.GetAttribute("Id")}' or @ID='{element.GetAttribute("Id")}' or @id='{element.GetAttribute("Id")}']")!.Count != 1)
        {
            return $"more than one element carries the checkpoint's Id '{element.GetAttribute("Id")}'";
        }

        using var key = certificate.GetRSAPublicKey();
        return key is not null && signedXml.CheckSignature(key)
            ? null
            : $"the checkpoint's signature does not verify with certificate {ThumbprintOf(certificate)}";
    }
}
