using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml;
using Hub.Connectors.Mapping;

namespace Hub.Tests.Xml;

/// <summary>
/// Documents of the signed-xml kind as a sender writes them: <c>&lt;GoiTinHoSo xmlns="urn:hub:signed-xml:1" Id="…"&gt;</c>
/// holding <c>HoSo</c> (dossier status) and <c>TienDoXuLy</c> (processing step) items, signed with an enveloped
/// XML-DSig signature by this test code's own signer (built on SignedXml, with every algorithm chosen by the caller).
/// </summary>
public static class SignedXmlSamples
{
    public const string Namespace = "urn:hub:signed-xml:1";

    public static readonly DateTimeOffset T0 = new(2026, 3, 2, 8, 0, 0, TimeSpan.FromHours(7));

    /// <summary>A dossier status item: code, status, minutes after <see cref="T0"/>, and an unmapped owner (personal data).</summary>
    public sealed record Dossier(string Code, int Status, int Minute, string Owner);

    /// <summary>A processing-step item of a dossier.</summary>
    public sealed record Step(string Code, int Minute, string What, int Status);

    /// <summary>The unsigned document, with whitespace as a sender's pretty-printer leaves it.</summary>
    public static XmlDocument Document(string id, IEnumerable<Dossier> dossiers, IEnumerable<Step>? steps = null)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"<GoiTinHoSo xmlns=\"{Namespace}\" Id=\"{id}\">\n");
        foreach (var d in dossiers)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"  <HoSo>\n    <MaHoSo>{d.Code}</MaHoSo>\n    <TrangThaiHoSo>{d.Status}</TrangThaiHoSo>\n    <NgayCapNhat>{Time(d.Minute)}</NgayCapNhat>\n    <ChuHoSo>{d.Owner}</ChuHoSo>\n  </HoSo>\n");
        }

        foreach (var s in steps ?? [])
        {
            text.Append(CultureInfo.InvariantCulture,
                $"  <TienDoXuLy>\n    <MaHoSo>{s.Code}</MaHoSo>\n    <ThoiDiemXuLy>{Time(s.Minute)}</ThoiDiemXuLy>\n    <NoiDungXuLy>{s.What}</NoiDungXuLy>\n    <TrangThai>{s.Status}</TrangThai>\n  </TienDoXuLy>\n");
        }

        text.Append("</GoiTinHoSo>");
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml(text.ToString());
        return document;
    }

    /// <summary>The national portal's date form, Vietnam time without zone.</summary>
    public static string Time(int minute) => T0.AddMinutes(minute).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);

    /// <summary>How the connector's declarative mapping reads the items (the same for every test connector).</summary>
    public static MappingDefinition Mapping() => new()
    {
        Version = "signed-xml-test/1",
        StatusCodes = Enumerable.Range(1, 10).ToDictionary(i => i.ToString(CultureInfo.InvariantCulture), i => i),
        Dossier = new Dictionary<string, FieldMapping>
        {
            ["DossierCode"] = "MaHoSo",
            ["EventTime"] = "NgayCapNhat",
            ["Status"] = "TrangThaiHoSo",
        },
        Steps = new StepMapping
        {
            Fields = new Dictionary<string, FieldMapping>
            {
                ["NativeId"] = "MaHoSo",
                ["StepTime"] = "ThoiDiemXuLy",
                ["Action"] = "NoiDungXuLy",
                ["StatusAfter"] = "TrangThai",
            },
        },
    };

    /// <summary>How a test signature is made: every choice an attacker or a careless sender could make.</summary>
    public sealed record SignOptions
    {
        public string SignatureMethod { get; init; } = SignedXml.XmlDsigRSASHA256Url;

        public string DigestMethod { get; init; } = SignedXml.XmlDsigSHA256Url;

        /// <summary>Transforms in order; default enveloped then exclusive c14n.</summary>
        public IReadOnlyList<Transform>? Transforms { get; init; }

        /// <summary>Put the certificate in KeyInfo (X509Data).</summary>
        public bool IncludeCertificate { get; init; }

        /// <summary>Put the public key in KeyInfo (RSAKeyValue).</summary>
        public bool IncludeKeyValue { get; init; }

        /// <summary>The Id referenced; default the signed element's.</summary>
        public string? ReferenceId { get; init; }
    }

    /// <summary>
    /// Signs <paramref name="target"/> (by its Id) and appends the signature to <paramref name="parent"/> (default: the
    /// target itself, an enveloped signature).
    /// </summary>
    public static XmlElement Sign(XmlElement target, X509Certificate2 certificate, SignOptions? options = null, XmlElement? parent = null)
    {
        options ??= new SignOptions();
        var document = target.OwnerDocument;
        AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey() ?? certificate.GetECDsaPrivateKey()!;
        var signedXml = new SignedXml(document) { SigningKey = key };
        signedXml.SignedInfo!.CanonicalizationMethod = SignedXml.XmlDsigExcC14NTransformUrl;
        signedXml.SignedInfo.SignatureMethod = options.SignatureMethod;
        var reference = new Reference("#" + (options.ReferenceId ?? target.GetAttribute("Id"))) { DigestMethod = options.DigestMethod };
        foreach (var transform in options.Transforms ?? [new XmlDsigEnvelopedSignatureTransform(), new XmlDsigExcC14NTransform()])
        {
            reference.AddTransform(transform);
        }

        signedXml.AddReference(reference);
        if (options.IncludeCertificate || options.IncludeKeyValue)
        {
            var keyInfo = new KeyInfo();
            if (options.IncludeKeyValue)
            {
                keyInfo.AddClause(new RSAKeyValue(certificate.GetRSAPublicKey()!));
            }

            if (options.IncludeCertificate)
            {
                keyInfo.AddClause(new KeyInfoX509Data(certificate));
            }

            signedXml.KeyInfo = keyInfo;
        }

        signedXml.ComputeSignature();
        var signature = (XmlElement)document.ImportNode(signedXml.GetXml(), deep: true);
        (parent ?? target).AppendChild(signature);
        return signature;
    }

    /// <summary>The document's bytes as sent: UTF-8 without byte order mark, whitespace as it is.</summary>
    public static byte[] Bytes(XmlDocument document)
    {
        using var stream = new MemoryStream();
        using (var writer = XmlWriter.Create(stream, new XmlWriterSettings { Encoding = new UTF8Encoding(false), OmitXmlDeclaration = false }))
        {
            document.Save(writer);
        }

        return stream.ToArray();
    }

    /// <summary>An xmlsec1 template: the document with an empty enveloped signature (exclusive c14n) for xmlsec1 to fill.</summary>
    public static string XmlsecTemplate(string id, string signatureMethod = "rsa-sha256", string digest = "sha256", IEnumerable<Dossier>? dossiers = null, IEnumerable<Step>? steps = null)
    {
        var document = Document(id, dossiers ?? [new Dossier("H99.10-260302-0001", 2, 0, "Owner-A")], steps ?? [new Step("H99.10-260302-0001", 1, "Tiep nhan", 2)]);
        var text = Encoding.UTF8.GetString(Bytes(document));
        var digestUri = digest switch
        {
            "sha384" => SignedXml.XmlDsigSHA384Url,
            "sha512" => SignedXml.XmlDsigSHA512Url,
            _ => SignedXml.XmlDsigSHA256Url,
        };
        var signature = $"""
            <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
              <ds:SignedInfo>
                <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
                <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#{signatureMethod}"/>
                <ds:Reference URI="#{id}">
                  <ds:Transforms>
                    <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
                    <ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
                  </ds:Transforms>
                  <ds:DigestMethod Algorithm="{digestUri}"/>
                  <ds:DigestValue/>
                </ds:Reference>
              </ds:SignedInfo>
              <ds:SignatureValue/>
            </ds:Signature>
            """;
        return text.Replace("</GoiTinHoSo>", signature + "\n</GoiTinHoSo>", StringComparison.Ordinal);
    }
}
