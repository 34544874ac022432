using System.Security.Cryptography.X509Certificates;
using System.Xml;

namespace Hub.Core.Xml;

/// <summary>The outcome of verifying a signed XML document: the verified element, or why the document was refused.</summary>
public sealed record SignedXmlVerification
{
    /// <summary>The signed element the reader may use, when accepted: the document element, exactly what the signature covers.</summary>
    public XmlElement? Element { get; private init; }

    /// <summary>The registered certificate the signature verified with, when accepted.</summary>
    public X509Certificate2? Certificate { get; private init; }

    /// <summary>Why the document was refused; <c>null</c> when accepted.</summary>
    public SignedXmlRejection? Rejection { get; private init; }

    /// <summary>Whether the document was accepted.</summary>
    public bool Accepted => Rejection is null;

    /// <summary>An accepted document.</summary>
    public static SignedXmlVerification Accept(XmlElement element, X509Certificate2 certificate) => new() { Element = element, Certificate = certificate };

    /// <summary>A refused document.</summary>
    public static SignedXmlVerification Reject(SignedXmlRejection rejection) => new() { Rejection = rejection };

    /// <summary>A refused document.</summary>
    public static SignedXmlVerification Reject(string code, string reason) => new() { Rejection = new SignedXmlRejection(code, reason) };
}

/// <summary>Why a signed XML document was refused.</summary>
/// <param name="Code">A stable machine code, one of <see cref="SignedXmlCodes"/>.</param>
/// <param name="Reason">What is wrong, where, and why the hub refuses it, for the sender's people; never secrets or record content.</param>
public sealed record SignedXmlRejection(string Code, string Reason);

/// <summary>The rejection codes of signed XML documents (stable: senders and tests match on them).</summary>
public static class SignedXmlCodes
{
    /// <summary>More bytes or characters than the limit.</summary>
    public const string TooLarge = "too-large";

    /// <summary>Elements nested deeper than the limit.</summary>
    public const string TooDeep = "too-deep";

    /// <summary>A DOCTYPE (DTD) without entity declarations.</summary>
    public const string DtdProhibited = "dtd-prohibited";

    /// <summary>A DTD declaring an external entity (XXE).</summary>
    public const string ExternalEntity = "xxe-external-entity";

    /// <summary>A DTD declaring entities (entity expansion, "billion laughs").</summary>
    public const string EntityExpansion = "entity-expansion";

    /// <summary>Not well-formed XML.</summary>
    public const string MalformedXml = "malformed-xml";

    /// <summary>The document element is not the one the reader expects.</summary>
    public const string UnexpectedRoot = "unexpected-root";

    /// <summary>No ds:Signature anywhere.</summary>
    public const string NoSignature = "no-signature";

    /// <summary>More than one ds:Signature in the document.</summary>
    public const string MultipleSignatures = "multiple-signatures";

    /// <summary>The ds:Signature is not a child of the document element.</summary>
    public const string SignatureMisplaced = "signature-misplaced";

    /// <summary>The ds:Signature lacks a required part or has one twice.</summary>
    public const string SignatureMalformed = "signature-malformed";

    /// <summary>SignedInfo's canonicalisation is not exclusive c14n.</summary>
    public const string CanonicalizationNotAllowed = "canonicalization-not-allowed";

    /// <summary>A SHA-1 signature method (rsa-sha1, dsa-sha1, hmac-sha1, ecdsa-sha1).</summary>
    public const string Sha1Signature = "sha1-signature-not-allowed";

    /// <summary>Another signature method not allowed (HMAC among them).</summary>
    public const string SignatureAlgorithmNotAllowed = "signature-algorithm-not-allowed";

    /// <summary>The SHA-1 digest method.</summary>
    public const string Sha1Digest = "sha1-digest-not-allowed";

    /// <summary>Another digest method not allowed.</summary>
    public const string DigestAlgorithmNotAllowed = "digest-algorithm-not-allowed";

    /// <summary>A transform other than enveloped-signature and exclusive c14n (XPath, XSLT, base64…), or one twice.</summary>
    public const string TransformNotAllowed = "transform-not-allowed";

    /// <summary>Not exactly one Reference.</summary>
    public const string ReferenceCount = "reference-count";

    /// <summary>The Reference URI is not <c>#Id</c>.</summary>
    public const string ReferenceUriNotAllowed = "reference-uri-not-allowed";

    /// <summary>No element carries the referenced Id.</summary>
    public const string ReferenceUnresolved = "reference-unresolved";

    /// <summary>Signature wrapping: the referenced Id is on more than one element.</summary>
    public const string WrappingDuplicatedElement = "wrapping-duplicated-element";

    /// <summary>Signature wrapping: the signed element was moved below another document element of its kind.</summary>
    public const string WrappingMovedElement = "wrapping-moved-element";

    /// <summary>Signature wrapping: the signature covers another element than the document element the hub reads.</summary>
    public const string WrappingOtherId = "wrapping-other-id";

    /// <summary>The signed content changed after signing (digest mismatch).</summary>
    public const string DigestMismatch = "digest-mismatch";

    /// <summary>Signed with a key carried in KeyInfo, not with the registered certificate.</summary>
    public const string EmbeddedKeyNotTrusted = "embedded-key-not-trusted";

    /// <summary>The signature does not verify with any registered certificate.</summary>
    public const string WrongCertificate = "wrong-certificate";

    /// <summary>Signed with a registered certificate that had expired at the time of receipt.</summary>
    public const string CertificateExpired = "certificate-expired";

    /// <summary>Signed with a registered certificate not yet valid at the time of receipt.</summary>
    public const string CertificateNotYetValid = "certificate-not-yet-valid";
}
