using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using System.Text.Json;
using System.Xml;
using Hub.Core.Xml;
using static Hub.Tests.Xml.SignedXmlSamples;

namespace Hub.Tests.Xml;

/// <summary>
/// Writes the negative corpus (<c>tests/Hub.Tests/Xml/Corpus</c>): one attack or fault per file, each a document a
/// sender could really post, and <c>manifest.json</c> with the code and a fragment of the reason the hub must give.
/// Run with HUB_REGENERATE_CORPUS=1 to write the files; otherwise the tests check the files are what this writes.
/// RSA PKCS#1 v1.5 signatures are deterministic, so the same keys give the same bytes.
/// </summary>
public static class CorpusGenerator
{
    /// <summary>When the corpus documents are received: inside the sender's certificate, after the expired one's end.</summary>
    public static readonly DateTimeOffset ReceivedAt = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The corpus's policy: the hub's document element, a 64 KiB limit so that the oversized case stays small.</summary>
    public static readonly SignedXmlPolicy Policy = new() { MaxBytes = 64 * 1024, MaxDepth = 32, RootNamespace = Namespace, RootName = "GoiTinHoSo" };

    public static string Directory => Path.Combine(RepositoryRoot(), "tests", "Hub.Tests", "Xml", "Corpus");

    /// <summary>Every case: file name, bytes, and what the hub must answer.</summary>
    public static IReadOnlyList<CorpusCase> Generate(CorpusKeys keys)
    {
        var cases = new List<CorpusCase>();
        void Add(string file, string code, string reason, XmlDocument document, string registered = "sender") =>
            cases.Add(new CorpusCase(file, code, reason, registered, Bytes(document)));
        void AddText(string file, string code, string reason, string text) =>
            cases.Add(new CorpusCase(file, code, reason, "sender", Encoding.UTF8.GetBytes(text)));

        // Signature wrapping 1: the signed document is moved inside a forged one that carries the signature.
        Add("wrapping-moved-element.xml", SignedXmlCodes.WrappingMovedElement, "moved below an unsigned document element", Wrapped(keys, "goi-forged"));

        // Signature wrapping 2: a forged document element takes the signed Id; the signed original hides inside it.
        Add("wrapping-duplicated-element.xml", SignedXmlCodes.WrappingDuplicatedElement, "Id=\"goi-0001\", which the signature references, is carried by 2 elements",
            Wrapped(keys, "goi-0001"));

        // Signature wrapping 3: the signature covers one signed item (another Id), not the document the hub reads.
        {
            var document = Plain("goi-0001", status: 2);
            var item = (XmlElement)document.DocumentElement!.GetElementsByTagName("HoSo", Namespace)[0]!;
            item.SetAttribute("Id", "hoso-1");
            var forgedItem = (XmlElement)item.CloneNode(deep: true);
            forgedItem.RemoveAttribute("Id");
            forgedItem["TrangThaiHoSo", Namespace]!.InnerText = "10";
            Sign(item, keys.Sender, parent: document.DocumentElement);
            document.DocumentElement.InsertBefore(forgedItem, document.DocumentElement.LastChild);
            Add("wrapping-other-id.xml", SignedXmlCodes.WrappingOtherId, "the signature covers <HoSo Id=\"hoso-1\">", document);
        }

        // XXE: a DTD with an external entity that a careless parser reads from the hub's disk.
        AddText("xxe-external-entity.xml", SignedXmlCodes.ExternalEntity, "declaring an external entity",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE GoiTinHoSo [\n  <!ENTITY secret SYSTEM \"file:///etc/passwd\">\n]>\n"
            + Text(Signed(keys.Sender)).Replace("<ChuHoSo>Owner-A</ChuHoSo>", "<ChuHoSo>&secret;</ChuHoSo>", StringComparison.Ordinal));

        // Entity expansion ("billion laughs"): 10 levels of 10 references, 10^9 copies of "lol".
        {
            var dtd = new StringBuilder("<?xml version=\"1.0\"?>\n<!DOCTYPE GoiTinHoSo [\n  <!ENTITY lol0 \"lol\">\n");
            for (var i = 1; i <= 9; i++)
            {
                dtd.Append("  <!ENTITY lol").Append(i).Append(" \"").Append(string.Concat(Enumerable.Repeat($"&lol{i - 1};", 10))).Append("\">\n");
            }

            dtd.Append("]>\n");
            AddText("entity-expansion.xml", SignedXmlCodes.EntityExpansion, "entity expansion",
                dtd + Text(Signed(keys.Sender)).Replace("<ChuHoSo>Owner-A</ChuHoSo>", "<ChuHoSo>&lol9;</ChuHoSo>", StringComparison.Ordinal));
        }

        // Signed by someone else, who also puts their own certificate in KeyInfo.
        Add("wrong-certificate.xml", SignedXmlCodes.WrongCertificate, "KeyInfo names 'CN=Corpus other sender'",
            Signed(keys.Other, new SignOptions { IncludeCertificate = true }));

        // Signed by someone else, whose only credential is the public key carried in KeyInfo.
        Add("embedded-key-only.xml", SignedXmlCodes.EmbeddedKeyNotTrusted, "carries its own key",
            Signed(keys.Other, new SignOptions { IncludeKeyValue = true }));

        Add("sha1-signature.xml", SignedXmlCodes.Sha1Signature, "a SHA-1 signature",
            Signed(keys.Sender, new SignOptions { SignatureMethod = SignedXml.XmlDsigRSASHA1Url }));
        Add("sha1-digest.xml", SignedXmlCodes.Sha1Digest, "DigestMethod is \"http://www.w3.org/2000/09/xmldsig#sha1\"",
            Signed(keys.Sender, new SignOptions { DigestMethod = SignedXml.XmlDsigSHA1Url }));

        // Extra transforms: an XPath filter that leaves a part of the document out of what is signed, and an XSLT.
        {
            var xpath = new XmlDsigXPathTransform();
            xpath.LoadInnerXml(Nodes($"<XPath xmlns=\"{SignedXml.XmlDsigNamespaceUrl}\">not(ancestor-or-self::*[local-name()='PhanMoRong'])</XPath>"));
            Add("transform-xpath.xml", SignedXmlCodes.TransformNotAllowed, "(XPath)",
                Signed(keys.Sender, new SignOptions { Transforms = [new XmlDsigEnvelopedSignatureTransform(), xpath, new XmlDsigExcC14NTransform()] }));

            var xslt = new XmlDsigXsltTransform();
            xslt.LoadInnerXml(Nodes(
                "<xsl:stylesheet xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\" version=\"1.0\"><xsl:template match=\"/\"><signed/></xsl:template></xsl:stylesheet>"));
            var document = Plain("goi-0001", status: 2);
            var signature = Sign(document.DocumentElement!, keys.Sender);
            // SignedXml will not sign through an XSLT here: the transform goes into the signed document's reference, as an attacker writes it.
            var transforms = (XmlElement)signature.GetElementsByTagName("Transforms", SignedXml.XmlDsigNamespaceUrl)[0]!;
            transforms.InsertAfter(document.ImportNode(xslt.GetXml(), deep: true), transforms.FirstChild);
            Add("transform-xslt.xml", SignedXmlCodes.TransformNotAllowed, "(XSLT)", document);
        }

        // Two signatures: the sender's, and a second one appended after it.
        {
            var document = Signed(keys.Sender);
            document.DocumentElement!.AppendChild(document.DocumentElement.LastChild!.CloneNode(deep: true));
            Add("two-signatures.xml", SignedXmlCodes.MultipleSignatures, "the document has 2 signatures", document);
        }

        Add("no-signature.xml", SignedXmlCodes.NoSignature, "the document has no XML-DSig <Signature>", Plain("goi-0001", status: 2));

        // The signature inside an item instead of a child of the document element.
        {
            var document = Plain("goi-0001", status: 2);
            Sign(document.DocumentElement!, keys.Sender, parent: (XmlElement)document.DocumentElement!.GetElementsByTagName("HoSo", Namespace)[0]!);
            Add("signature-misplaced.xml", SignedXmlCodes.SignatureMisplaced, "the signature is at /GoiTinHoSo/HoSo/Signature", document);
        }

        // Signed, then the status changed on the way.
        {
            var document = Signed(keys.Sender);
            document.DocumentElement!.GetElementsByTagName("TrangThaiHoSo", Namespace)[0]!.InnerText = "10";
            Add("tampered-content.xml", SignedXmlCodes.DigestMismatch, "the signed content was changed after signing", document);
        }

        // Oversized: a properly signed document of 1,000 items, beyond the corpus policy's 64 KiB.
        {
            var document = Document("goi-0001", Enumerable.Range(1, 1000).Select(i => new Dossier($"H99.10-260302-{i:D4}", 2, i, "Owner-A")));
            Sign(document.DocumentElement!, keys.Sender);
            Add("oversized.xml", SignedXmlCodes.TooLarge, "more than the limit of 65536 bytes", document);
        }

        // Too deep: a properly signed document with 40 nested elements in an item.
        {
            var document = Plain("goi-0001", status: 2);
            XmlElement at = (XmlElement)document.DocumentElement!.GetElementsByTagName("HoSo", Namespace)[0]!;
            for (var i = 0; i < 40; i++)
            {
                at = (XmlElement)at.AppendChild(document.CreateElement("Lop", Namespace))!;
            }

            Sign(document.DocumentElement!, keys.Sender);
            Add("too-deep.xml", SignedXmlCodes.TooDeep, "nested more than 32 elements deep", document);
        }

        // Signed with the connector's registered certificate, which expired before the document was received.
        Add("expired-certificate.xml", SignedXmlCodes.CertificateExpired, "which expired on 2021-01-01", Signed(keys.Expired), registered: "expired");

        return cases;
    }

    /// <summary>Writes the corpus and its manifest.</summary>
    public static void Write(IReadOnlyList<CorpusCase> cases)
    {
        foreach (var c in cases)
        {
            File.WriteAllBytes(Path.Combine(Directory, c.File), c.Bytes);
        }

        File.WriteAllText(Path.Combine(Directory, "manifest.json"), Manifest(cases));
    }

    public static string Manifest(IReadOnlyList<CorpusCase> cases) =>
        JsonSerializer.Serialize(cases.Select(c => new ManifestEntry(c.File, c.Code, c.Reason, c.Registered)), new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }) + "\n";

    public static IReadOnlyList<ManifestEntry> ReadManifest() =>
        JsonSerializer.Deserialize<List<ManifestEntry>>(File.ReadAllText(Path.Combine(Directory, "manifest.json")), new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase })!;

    /// <summary>The one-item document every case starts from, unsigned.</summary>
    private static XmlDocument Plain(string id, int status) =>
        Document(id, [new Dossier("H99.10-260302-0001", status, 0, "Owner-A")], [new Step("H99.10-260302-0001", 1, "Tiep nhan", status)]);

    /// <summary>
    /// A forged document (status 10) with the Id given, holding the sender's signed original (status 2) in an extension
    /// element and the original's signature as its own last child: the signature still verifies over the original.
    /// </summary>
    private static XmlDocument Wrapped(CorpusKeys keys, string forgedId)
    {
        var signed = Signed(keys.Sender);
        var forged = Plain(forgedId, status: 10);
        var signature = (XmlElement)signed.DocumentElement!.LastChild!;
        signed.DocumentElement.RemoveChild(signature);
        var wrapper = forged.CreateElement("PhanMoRong", Namespace);
        wrapper.AppendChild(forged.ImportNode(signed.DocumentElement, deep: true));
        forged.DocumentElement!.AppendChild(wrapper);
        forged.DocumentElement.AppendChild(forged.ImportNode(signature, deep: true));
        return forged;
    }

    private static XmlDocument Signed(X509Certificate2 certificate, SignOptions? options = null)
    {
        var document = Plain("goi-0001", status: 2);
        Sign(document.DocumentElement!, certificate, options);
        return document;
    }

    private static string Text(XmlDocument document)
    {
        var text = Encoding.UTF8.GetString(Bytes(document));
        return text[(text.IndexOf("?>", StringComparison.Ordinal) + 2)..];
    }

    private static XmlNodeList Nodes(string xml)
    {
        var document = new XmlDocument();
        document.LoadXml(xml);
        return document.ChildNodes;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Hub.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Hub.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>One corpus file and what the hub must answer to it.</summary>
public sealed record CorpusCase(string File, string Code, string Reason, string Registered, byte[] Bytes);

/// <summary>A manifest line: the file, the code, a fragment of the reason, and which test certificate the connector has registered.</summary>
public sealed record ManifestEntry(string File, string Code, string Reason, string Registered);

/// <summary>
/// The corpus's test-only keys, committed in <c>Corpus/keys</c> (made by the generator when missing): the sender's,
/// someone else's, and an expired one. They sign nothing but test documents.
/// </summary>
public sealed class CorpusKeys
{
    private CorpusKeys(X509Certificate2 sender, X509Certificate2 other, X509Certificate2 expired)
    {
        Sender = sender;
        Other = other;
        Expired = expired;
    }

    public X509Certificate2 Sender { get; }

    public X509Certificate2 Other { get; }

    public X509Certificate2 Expired { get; }

    public static string KeysDirectory => Path.Combine(CorpusGenerator.Directory, "keys");

    private static readonly Lazy<CorpusKeys> Loaded = new(() => new CorpusKeys(
        Load("sender", "CN=Corpus sender", 2025, 2045),
        Load("other", "CN=Corpus other sender", 2025, 2045),
        Load("expired", "CN=Corpus expired sender", 2020, 2021)));

    public static CorpusKeys Instance => Loaded.Value;

    /// <summary>The registered certificate a manifest names.</summary>
    public X509Certificate2 Named(string name) => name switch
    {
        "sender" => Sender,
        "other" => Other,
        "expired" => Expired,
        _ => throw new ArgumentException($"No test certificate '{name}'.", nameof(name)),
    };

    /// <summary>The certificate's PEM (public part only).</summary>
    public static string CertificatePem(string name) => File.ReadAllText(Path.Combine(KeysDirectory, name + ".cert.pem"));

    /// <summary>The private key's PEM.</summary>
    public static string KeyPem(string name) => File.ReadAllText(Path.Combine(KeysDirectory, name + ".key.pem"));

    private static X509Certificate2 Load(string name, string subject, int fromYear, int toYear)
    {
        var certificate = Path.Combine(KeysDirectory, name + ".cert.pem");
        var key = Path.Combine(KeysDirectory, name + ".key.pem");
        if (!File.Exists(certificate) && Environment.GetEnvironmentVariable("HUB_REGENERATE_CORPUS") == "1")
        {
            System.IO.Directory.CreateDirectory(KeysDirectory);
            using var rsa = RSA.Create(2048);
            var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation, critical: true));
            using var created = request.CreateSelfSigned(new DateTimeOffset(fromYear, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(toYear, 1, 1, 0, 0, 0, TimeSpan.Zero));
            File.WriteAllText(certificate, created.ExportCertificatePem() + "\n");
            File.WriteAllText(key, rsa.ExportPkcs8PrivateKeyPem() + "\n");
        }

        return X509Certificate2.CreateFromPemFile(certificate, key);
    }
}
