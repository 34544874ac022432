using System.Security.Cryptography.Xml;

namespace Hub.Core.Xml;

/// <summary>
/// What a signed XML document must be for the hub to read it: limits of the parse, the one expected shape of the
/// signature and the algorithms allowed. Anything else is refused, each rule with its own code
/// (<see cref="SignedXmlCodes"/>); why each rule exists is in docs/decisions/0006-signed-xml.md.
/// </summary>
public sealed record SignedXmlPolicy
{
    /// <summary>Default size limit: 10 MiB.</summary>
    public const int DefaultMaxBytes = 10 * 1024 * 1024;

    /// <summary>Default nesting limit; the hub's documents nest at most 8 deep (signature transforms included).</summary>
    public const int DefaultMaxDepth = 32;

    /// <summary>The largest document, in bytes (and characters).</summary>
    public int MaxBytes { get; init; } = DefaultMaxBytes;

    /// <summary>The deepest element nesting (the document element is depth 1).</summary>
    public int MaxDepth { get; init; } = DefaultMaxDepth;

    /// <summary>The document element's namespace, when the reader expects one kind of document; <c>null</c> for any.</summary>
    public string? RootNamespace { get; init; }

    /// <summary>The document element's local name, when the reader expects one kind of document; <c>null</c> for any.</summary>
    public string? RootName { get; init; }

    /// <summary>SHA-1 signature methods: named in rejections as such (collisions are practical since 2017, SHAttered).</summary>
    public static readonly IReadOnlySet<string> Sha1SignatureMethods = new HashSet<string>(StringComparer.Ordinal)
    {
        SignedXml.XmlDsigRSASHA1Url,
        SignedXml.XmlDsigDSAUrl,
        SignedXml.XmlDsigHMACSHA1Url,
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
    };

    /// <summary>The signature methods allowed: RSA and ECDSA with SHA-256, SHA-384 or SHA-512.</summary>
    public static readonly IReadOnlyDictionary<string, string> SignatureMethods = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [SignedXml.XmlDsigRSASHA256Url] = "rsa-sha256",
        [SignedXml.XmlDsigRSASHA384Url] = "rsa-sha384",
        [SignedXml.XmlDsigRSASHA512Url] = "rsa-sha512",
        [EcdsaSignatureDescription.Sha256Url] = "ecdsa-sha256",
        [EcdsaSignatureDescription.Sha384Url] = "ecdsa-sha384",
        [EcdsaSignatureDescription.Sha512Url] = "ecdsa-sha512",
    };

    /// <summary>The digest methods allowed: SHA-256, SHA-384, SHA-512.</summary>
    public static readonly IReadOnlyDictionary<string, string> DigestMethods = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [SignedXml.XmlDsigSHA256Url] = "sha256",
        [SignedXml.XmlDsigSHA384Url] = "sha384",
        [SignedXml.XmlDsigSHA512Url] = "sha512",
    };

    /// <summary>Exclusive canonicalisation (comments left out or kept): SignedInfo's method and the reference's transform.</summary>
    public static readonly IReadOnlySet<string> Canonicalizations = new HashSet<string>(StringComparer.Ordinal)
    {
        SignedXml.XmlDsigExcC14NTransformUrl,
        SignedXml.XmlDsigExcC14NWithCommentsTransformUrl,
    };

    /// <summary>The transforms a reference may use: the enveloped-signature transform and exclusive canonicalisation, each at most once.</summary>
    public static readonly IReadOnlySet<string> Transforms = new HashSet<string>(StringComparer.Ordinal)
    {
        SignedXml.XmlDsigEnvelopedSignatureTransformUrl,
        SignedXml.XmlDsigExcC14NTransformUrl,
        SignedXml.XmlDsigExcC14NWithCommentsTransformUrl,
    };

    /// <summary>The SHA-1 digest method.</summary>
    public const string Sha1DigestMethod = SignedXml.XmlDsigSHA1Url;
}
