using System.Security.Cryptography.Xml;
using System.Xml;
using Hub.Core.Xml;

namespace Hub.Tests.Xml;

/// <summary>
/// The negative corpus: every file in <c>Xml/Corpus</c> is refused by the verifier with the code and reason its
/// manifest names, and the files are exactly what <see cref="CorpusGenerator"/> writes (HUB_REGENERATE_CORPUS=1 writes them).
/// </summary>
public class SignedXmlCorpusTests
{
    public static TheoryData<string> Files => [.. CorpusGenerator.ReadManifest().Select(e => e.File)];

    [Theory]
    [MemberData(nameof(Files))]
    public void Each_corpus_file_is_refused_with_its_own_code_and_reason(string file)
    {
        var entry = CorpusGenerator.ReadManifest().Single(e => e.File == file);
        var body = File.ReadAllBytes(Path.Combine(CorpusGenerator.Directory, file));
        var verifier = new SignedXmlVerifier(CorpusGenerator.Policy, [CorpusKeys.Instance.Named(entry.Registered)]);

        var verification = verifier.Verify(body, CorpusGenerator.ReceivedAt);

        Assert.False(verification.Accepted, $"{file} was accepted");
        Assert.Null(verification.Element);
        Assert.Equal(entry.Code, verification.Rejection!.Code);
        Assert.Contains(entry.Reason, verification.Rejection.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_corpus_covers_every_attack_class_each_with_a_distinct_code()
    {
        var manifest = CorpusGenerator.ReadManifest();
        string[] required =
        [
            SignedXmlCodes.WrappingMovedElement, SignedXmlCodes.WrappingDuplicatedElement, SignedXmlCodes.WrappingOtherId,
            SignedXmlCodes.ExternalEntity, SignedXmlCodes.EntityExpansion, SignedXmlCodes.WrongCertificate, SignedXmlCodes.EmbeddedKeyNotTrusted,
            SignedXmlCodes.Sha1Signature, SignedXmlCodes.Sha1Digest, SignedXmlCodes.TransformNotAllowed, SignedXmlCodes.MultipleSignatures,
            SignedXmlCodes.NoSignature, SignedXmlCodes.TooLarge, SignedXmlCodes.TooDeep, SignedXmlCodes.CertificateExpired,
        ];
        Assert.Empty(required.Except(manifest.Select(e => e.Code)));
        foreach (var file in Directory.EnumerateFiles(CorpusGenerator.Directory, "*.xml"))
        {
            Assert.Contains(manifest, e => e.File == Path.GetFileName(file));
        }

        // Only the two extra-transform files (XPath, XSLT) share a code; their reasons name the transform.
        var shared = manifest.GroupBy(e => e.Code).Where(g => g.Count() > 1).ToList();
        Assert.Equal([SignedXmlCodes.TransformNotAllowed], shared.Select(g => g.Key));
        Assert.Equal(2, shared[0].Select(e => e.Reason).Distinct().Count());
    }

    [Fact]
    public void The_corpus_files_are_what_the_generator_writes()
    {
        var cases = CorpusGenerator.Generate(CorpusKeys.Instance);
        if (Environment.GetEnvironmentVariable("HUB_REGENERATE_CORPUS") == "1")
        {
            CorpusGenerator.Write(cases);
        }

        Assert.Equal(CorpusGenerator.Manifest(cases), File.ReadAllText(Path.Combine(CorpusGenerator.Directory, "manifest.json")));
        foreach (var c in cases)
        {
            Assert.True(c.Bytes.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(CorpusGenerator.Directory, c.File))),
                $"{c.File} differs from what the generator writes: run the tests with HUB_REGENERATE_CORPUS=1");
        }
    }

    [Theory]
    [InlineData("wrapping-moved-element.xml")]
    [InlineData("sha1-signature.xml")]
    [InlineData("sha1-digest.xml")]
    [InlineData("expired-certificate.xml")]
    [InlineData("transform-xpath.xml")]
    public void Bare_SignedXml_accepts_the_attack_the_verifier_refuses(string file)
    {
        // Shows the corpus file is a working attack, not merely a broken signature: .NET's SignedXml alone lets it through.
        var entry = CorpusGenerator.ReadManifest().Single(e => e.File == file);
        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        document.Load(Path.Combine(CorpusGenerator.Directory, file));
        var signedXml = new SignedXml(document);
        signedXml.LoadXml((XmlElement)document.GetElementsByTagName("Signature", SignedXml.XmlDsigNamespaceUrl)[0]!);
        if (file == "transform-xpath.xml")
        {
            // Even with XPath allowed, as some SAML stacks do.
            signedXml.SafeCanonicalizationMethods.Add(SignedXml.XmlDsigXPathTransformUrl);
        }

        Assert.True(signedXml.CheckSignature(CorpusKeys.Instance.Named(entry.Registered), verifySignatureOnly: true));
    }
}
