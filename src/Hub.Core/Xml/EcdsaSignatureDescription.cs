using System.Security.Cryptography;

namespace Hub.Core.Xml;

/// <summary>
/// ECDSA signature methods for <c>SignedXml</c>, which knows only RSA and DSA (dotnet/runtime#36103): the signature
/// value is r‖s (IEEE P1363), as XML-DSig 1.1 (section 6.4.3) and .NET's <see cref="ECDsa.VerifyHash(byte[], byte[])"/> both use.
/// </summary>
public abstract class EcdsaSignatureDescription : SignatureDescription
{
    /// <summary>ECDSA with SHA-256 (RFC 6931).</summary>
    public const string Sha256Url = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";

    /// <summary>ECDSA with SHA-384 (RFC 6931).</summary>
    public const string Sha384Url = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384";

    /// <summary>ECDSA with SHA-512 (RFC 6931).</summary>
    public const string Sha512Url = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512";

    private static int _registered;

    private readonly HashAlgorithmName _hash;

    private protected EcdsaSignatureDescription(HashAlgorithmName hash)
    {
        _hash = hash;
        KeyAlgorithm = typeof(ECDsa).AssemblyQualifiedName;
    }

    /// <summary>Registers the three methods with <see cref="CryptoConfig"/>, once per process.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            CryptoConfig.AddAlgorithm(typeof(EcdsaSha256SignatureDescription), Sha256Url);
            CryptoConfig.AddAlgorithm(typeof(EcdsaSha384SignatureDescription), Sha384Url);
            CryptoConfig.AddAlgorithm(typeof(EcdsaSha512SignatureDescription), Sha512Url);
        }
    }

    /// <inheritdoc />
    public override HashAlgorithm CreateDigest() => _hash.Name switch
    {
        "SHA384" => SHA384.Create(),
        "SHA512" => SHA512.Create(),
        _ => SHA256.Create(),
    };

    /// <inheritdoc />
    public override AsymmetricSignatureDeformatter CreateDeformatter(AsymmetricAlgorithm key) =>
        new Deformatter(key as ECDsa ?? throw new CryptographicException("An ECDSA signature method needs an ECDSA key."));

    /// <inheritdoc />
    public override AsymmetricSignatureFormatter CreateFormatter(AsymmetricAlgorithm key) =>
        new Formatter(key as ECDsa ?? throw new CryptographicException("An ECDSA signature method needs an ECDSA key."));

    private sealed class Deformatter(ECDsa key) : AsymmetricSignatureDeformatter
    {
        public override void SetKey(AsymmetricAlgorithm key) => throw new NotSupportedException();

        public override void SetHashAlgorithm(string strName)
        {
        }

        public override bool VerifySignature(byte[] rgbHash, byte[] rgbSignature) => key.VerifyHash(rgbHash, rgbSignature);
    }

    private sealed class Formatter(ECDsa key) : AsymmetricSignatureFormatter
    {
        public override void SetKey(AsymmetricAlgorithm key) => throw new NotSupportedException();

        public override void SetHashAlgorithm(string strName)
        {
        }

        public override byte[] CreateSignature(byte[] rgbHash) => key.SignHash(rgbHash);
    }
}

/// <summary>ECDSA-SHA256 for <c>SignedXml</c>.</summary>
public sealed class EcdsaSha256SignatureDescription() : EcdsaSignatureDescription(HashAlgorithmName.SHA256);

/// <summary>ECDSA-SHA384 for <c>SignedXml</c>.</summary>
public sealed class EcdsaSha384SignatureDescription() : EcdsaSignatureDescription(HashAlgorithmName.SHA384);

/// <summary>ECDSA-SHA512 for <c>SignedXml</c>.</summary>
public sealed class EcdsaSha512SignatureDescription() : EcdsaSignatureDescription(HashAlgorithmName.SHA512);
