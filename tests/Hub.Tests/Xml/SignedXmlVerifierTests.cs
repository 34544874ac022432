using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using Hub.Core.Xml;
using Hub.Tests.Infrastructure;
using static Hub.Tests.Xml.SignedXmlSamples;

namespace Hub.Tests.Xml;

/// <summary>
/// What the verifier accepts: documents signed by xmlsec1 (an independent XML-DSig implementation) with each allowed
/// signature method, documents the hub signs (which xmlsec1 verifies in turn), and the previous certificate during a rotation.
/// </summary>
public class SignedXmlVerifierTests
{
    private static readonly SignedXmlPolicy Policy = CorpusGenerator.Policy;
    private static readonly DateTimeOffset Now = CorpusGenerator.ReceivedAt;

    [Theory]
    [InlineData("rsa-sha256", "sha256")]
    [InlineData("rsa-sha384", "sha384")]
    [InlineData("rsa-sha512", "sha512")]
    public void A_document_signed_by_xmlsec1_with_RSA_is_accepted_and_the_signed_document_element_is_returned(string signatureMethod, string digest)
    {
        var signed = Xmlsec.Sign(XmlsecTemplate("goi-x1", signatureMethod, digest), CorpusKeys.KeyPem("sender"), CorpusKeys.CertificatePem("sender"), $"{Namespace}:GoiTinHoSo");
        var verifier = new SignedXmlVerifier(Policy, [CorpusKeys.Instance.Sender]);

        var verification = verifier.Verify(Encoding.UTF8.GetBytes(signed), Now);

        Assert.True(verification.Accepted, verification.Rejection?.Reason);
        Assert.Equal("goi-x1", verification.Element!.GetAttribute("Id"));
        Assert.Same(verification.Element, verification.Element.OwnerDocument.DocumentElement);
        Assert.Equal(CorpusKeys.Instance.Sender, verification.Certificate);
        Assert.Equal("H99.10-260302-0001", verification.Element.GetElementsByTagName("MaHoSo", Namespace)[0]!.InnerText);

        // The same bytes with one status changed are refused: the acceptance above rests on the signature.
        var tampered = signed.Replace("<TrangThaiHoSo>2<", "<TrangThaiHoSo>9<", StringComparison.Ordinal);
        Assert.NotEqual(signed, tampered);
        Assert.Equal(SignedXmlCodes.DigestMismatch, verifier.Verify(Encoding.UTF8.GetBytes(tampered), Now).Rejection?.Code);
    }

    [Theory]
    [InlineData("ecdsa-sha256", "sha256")]
    [InlineData("ecdsa-sha384", "sha384")]
    [InlineData("ecdsa-sha512", "sha512")]
    public void A_document_signed_by_xmlsec1_with_ECDSA_is_accepted(string signatureMethod, string digest)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=ECDSA sender", ecdsa, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(Now.AddYears(-1), Now.AddYears(1));
        var signed = Xmlsec.Sign(XmlsecTemplate("goi-ec", signatureMethod, digest), ecdsa.ExportPkcs8PrivateKeyPem(), certificate.ExportCertificatePem(), $"{Namespace}:GoiTinHoSo");
        var verifier = new SignedXmlVerifier(Policy, [X509CertificateLoader.LoadCertificate(certificate.RawData)]);

        var verification = verifier.Verify(Encoding.UTF8.GetBytes(signed), Now);

        Assert.True(verification.Accepted, verification.Rejection?.Reason);
        Assert.Equal("goi-ec", verification.Element!.GetAttribute("Id"));
        var other = new SignedXmlVerifier(Policy, [CorpusKeys.Instance.Sender]).Verify(Encoding.UTF8.GetBytes(signed), Now);
        Assert.Equal(SignedXmlCodes.WrongCertificate, other.Rejection?.Code);
    }

    [Fact]
    public void A_document_the_hub_signs_is_accepted_and_verifies_with_xmlsec1()
    {
        var document = Document("goi-hub", [new Dossier("H99.10-260302-0007", 4, 3, "Owner-B")]);
        XmlDsigSigner.SignEnveloped(document.DocumentElement!, TestSigning.Hub.Certificate);
        var bytes = Bytes(document);

        var verification = new SignedXmlVerifier(Policy, [TestSigning.Hub.Certificate]).Verify(bytes, DateTimeOffset.UtcNow);
        var xmlsec = Xmlsec.Verify(Encoding.UTF8.GetString(bytes), TestSigning.Hub.Certificate.ExportCertificatePem(), $"{Namespace}:GoiTinHoSo");

        Assert.True(verification.Accepted, verification.Rejection?.Reason);
        Assert.True(xmlsec.Verified, xmlsec.Output);
        var refused = Xmlsec.Verify(Encoding.UTF8.GetString(bytes).Replace("<TrangThaiHoSo>4<", "<TrangThaiHoSo>9<", StringComparison.Ordinal),
            TestSigning.Hub.Certificate.ExportCertificatePem(), $"{Namespace}:GoiTinHoSo");
        Assert.False(refused.Verified, refused.Output);
    }

    [Fact]
    public void During_a_rotation_the_previous_certificate_still_verifies_and_an_unregistered_one_does_not()
    {
        var document = Document("goi-rot", [new Dossier("H99.10-260302-0008", 2, 0, "Owner-C")]);
        Sign(document.DocumentElement!, CorpusKeys.Instance.Sender);
        var bytes = Bytes(document);

        var rotated = new SignedXmlVerifier(Policy, [CorpusKeys.Instance.Other, CorpusKeys.Instance.Sender]).Verify(bytes, Now);
        var withoutPrevious = new SignedXmlVerifier(Policy, [CorpusKeys.Instance.Other]).Verify(bytes, Now);

        Assert.True(rotated.Accepted, rotated.Rejection?.Reason);
        Assert.Equal(CorpusKeys.Instance.Sender, rotated.Certificate);
        Assert.Equal(SignedXmlCodes.WrongCertificate, withoutPrevious.Rejection?.Code);
    }

    [Fact]
    public void A_certificate_not_yet_valid_at_receipt_is_refused()
    {
        var document = Document("goi-early", [new Dossier("H99.10-260302-0009", 2, 0, "Owner-D")]);
        Sign(document.DocumentElement!, CorpusKeys.Instance.Sender);

        var verification = new SignedXmlVerifier(Policy, [CorpusKeys.Instance.Sender]).Verify(Bytes(document), new DateTimeOffset(2024, 12, 31, 0, 0, 0, TimeSpan.Zero));

        Assert.Equal(SignedXmlCodes.CertificateNotYetValid, verification.Rejection?.Code);
    }

    [Theory]
    [InlineData("<GoiTinHoSo xmlns='urn:hub:signed-xml:1' Id='a'><HoSo>", SignedXmlCodes.MalformedXml, "not well-formed XML")]
    [InlineData("<Other xmlns='urn:hub:signed-xml:1' Id='a'/>", SignedXmlCodes.UnexpectedRoot, "expected <GoiTinHoSo>")]
    [InlineData("<!DOCTYPE GoiTinHoSo><GoiTinHoSo xmlns='urn:hub:signed-xml:1' Id='a'/>", SignedXmlCodes.DtdProhibited, "line 1, position 1")]
    public void Documents_that_cannot_be_read_say_why(string xml, string code, string reason)
    {
        var verification = new SignedXmlVerifier(Policy, [CorpusKeys.Instance.Sender]).Verify(Encoding.UTF8.GetBytes(xml), Now);

        Assert.Equal(code, verification.Rejection?.Code);
        Assert.Contains(reason, verification.Rejection!.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SignedXml.XmlDsigHMACSHA1Url, SignedXmlCodes.Sha1Signature)]
    [InlineData("http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", SignedXmlCodes.SignatureAlgorithmNotAllowed)]
    public void HMAC_signature_methods_are_refused_before_any_key_is_tried(string method, string code)
    {
        var document = Document("goi-mac", [new Dossier("H99.10-260302-0010", 2, 0, "Owner-E")]);
        Sign(document.DocumentElement!, CorpusKeys.Instance.Sender);
        var text = Encoding.UTF8.GetString(Bytes(document)).Replace(SignedXml.XmlDsigRSASHA256Url, method, StringComparison.Ordinal);

        var verification = new SignedXmlVerifier(Policy, [CorpusKeys.Instance.Sender]).Verify(Encoding.UTF8.GetBytes(text), Now);

        Assert.Equal(code, verification.Rejection?.Code);
    }

    [Fact]
    public void A_reference_to_the_whole_document_is_refused()
    {
        var document = Document("goi-all", [new Dossier("H99.10-260302-0011", 2, 0, "Owner-F")]);
        Sign(document.DocumentElement!, CorpusKeys.Instance.Sender);
        var text = Encoding.UTF8.GetString(Bytes(document)).Replace("URI=\"#goi-all\"", "URI=\"\"", StringComparison.Ordinal);

        var verification = new SignedXmlVerifier(Policy, [CorpusKeys.Instance.Sender]).Verify(Encoding.UTF8.GetBytes(text), Now);

        Assert.Equal(SignedXmlCodes.ReferenceUriNotAllowed, verification.Rejection?.Code);
    }
}
