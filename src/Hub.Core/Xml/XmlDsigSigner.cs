using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Xml;

namespace Hub.Core.Xml;

/// <summary>
/// Signs XML the way the hub signs everything it sends out or seals (checkpoints, evidence bundles, receipts): one
/// enveloped XML-DSig signature, placed as the last child of the signed element, whose single reference names that
/// element by its <c>Id</c>; exclusive canonicalisation, SHA-256 digest, RSA-SHA256 (RSA keys) or ECDSA-SHA256.
/// </summary>
/// <remarks>
/// Exclusive canonicalisation makes the signed element's canonical form independent of where it sits, so a signed
/// element can be embedded in a larger document (an evidence bundle) and still verify there, with this library or
/// with an independent implementation such as <c>xmlsec1</c>.
/// </remarks>
public static class XmlDsigSigner
{
    /// <summary>The XML-DSig namespace.</summary>
    public const string DsigNamespace = SignedXml.XmlDsigNamespaceUrl;

    /// <summary>Signs <paramref name="element"/>, which must carry an <c>Id</c> attribute unique in its document.</summary>
    /// <param name="element">The element to sign; the signature is appended to it as its last child.</param>
    /// <param name="certificate">The signer's certificate, with its private key (RSA).</param>
    /// <param name="includeCertificate">Whether to put the certificate in the signature's KeyInfo (informative only:
    /// receivers verify against the certificate they have registered for the signer, never a key in the message).</param>
    /// <returns>The signature element appended.</returns>
    public static XmlElement SignEnveloped(XmlElement element, X509Certificate2 certificate, bool includeCertificate = false)
    {
        ArgumentNullException.ThrowIfNull(element);
        ArgumentNullException.ThrowIfNull(certificate);
        var id = element.GetAttribute("Id");
        if (id.Length == 0)
        {
            throw new ArgumentException($"The element <{element.Name}> to sign has no Id attribute.", nameof(element));
        }

        var key = certificate.GetRSAPrivateKey()
            ?? throw new ArgumentException($"Certificate {certificate.Thumbprint} has no RSA private key to sign with.", nameof(certificate));
        var document = element.OwnerDocument;
        var signedXml = new SignedXml(document) { SigningKey = key };
        signedXml.SignedInfo!.CanonicalizationMethod = SignedXml.XmlDsigExcC14NTransformUrl;
        signedXml.SignedInfo.SignatureMethod = SignedXml.XmlDsigRSASHA256Url;
        var reference = new Reference("#" + id) { DigestMethod = SignedXml.XmlDsigSHA256Url };
        reference.AddTransform(new XmlDsigEnvelopedSignatureTransform());
        reference.AddTransform(new XmlDsigExcC14NTransform());
        signedXml.AddReference(reference);
        if (includeCertificate)
        {
            var keyInfo = new KeyInfo();
            keyInfo.AddClause(new KeyInfoX509Data(certificate));
            signedXml.KeyInfo = keyInfo;
        }

        signedXml.ComputeSignature();
        var signature = (XmlElement)document.ImportNode(signedXml.GetXml(), deep: true);
        element.AppendChild(signature);
        return signature;
    }

    /// <summary>
    /// Signs <paramref name="element"/> with a signature placed right after it, as its next sibling (so the signature is
    /// outside what it signs and needs no enveloped-signature transform): one reference to the element's <c>Id</c>,
    /// exclusive c14n, SHA-256, RSA-SHA256, no KeyInfo (receivers verify with the signer's certificate they hold).
    /// </summary>
    /// <param name="element">The element to sign: it must carry an <c>Id</c> attribute unique in its document and have a parent element.</param>
    /// <param name="certificate">The signer's certificate, with its private key (RSA).</param>
    /// <returns>The signature element inserted.</returns>
    public static XmlElement SignDetached(XmlElement element, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(element);
        ArgumentNullException.ThrowIfNull(certificate);
        var id = element.GetAttribute("Id");
        if (id.Length == 0 || element.ParentNode is not XmlElement parent)
        {
            throw new ArgumentException($"The element <{element.Name}> to sign needs an Id attribute and a parent element.", nameof(element));
        }

        var key = certificate.GetRSAPrivateKey()
            ?? throw new ArgumentException($"Certificate {certificate.Thumbprint} has no RSA private key to sign with.", nameof(certificate));
        var document = element.OwnerDocument;
        var signedXml = new SignedXml(document) { SigningKey = key };
        signedXml.SignedInfo!.CanonicalizationMethod = SignedXml.XmlDsigExcC14NTransformUrl;
        signedXml.SignedInfo.SignatureMethod = SignedXml.XmlDsigRSASHA256Url;
        var reference = new Reference("#" + id) { DigestMethod = SignedXml.XmlDsigSHA256Url };
        reference.AddTransform(new XmlDsigExcC14NTransform());
        signedXml.AddReference(reference);
        signedXml.ComputeSignature();
        var signature = (XmlElement)document.ImportNode(signedXml.GetXml(), deep: true);
        parent.InsertAfter(signature, element);
        return signature;
    }

    /// <summary>Creates a self-signed RSA certificate for signing (a hub's own seal when none is configured; tests).</summary>
    /// <param name="subject">The distinguished name, e.g. <c>CN=hub</c>.</param>
    /// <param name="notBefore">Start of validity.</param>
    /// <param name="notAfter">End of validity.</param>
    /// <param name="keySize">RSA key size in bits (3072 by default).</param>
    public static X509Certificate2 CreateSelfSigned(string subject, DateTimeOffset notBefore, DateTimeOffset notAfter, int keySize = 3072)
    {
        using var rsa = RSA.Create(keySize);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return request.CreateSelfSigned(notBefore, notAfter);
    }
}
