using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Hub.Connectors.BuiltIn.SignedXml;

/// <summary>A signed-xml connector's configuration, read and checked. See <c>signed-xml.schema.json</c> for its JSON form.</summary>
/// <param name="Certificate">The sender's registered certificate: documents must verify with it (or with <paramref name="PreviousCertificate"/>).</param>
/// <param name="PreviousCertificate">The sender's earlier certificate, still accepted during a rotation; <c>null</c> otherwise.</param>
/// <param name="MaxBytes">The largest document accepted.</param>
internal sealed record SignedXmlSettings(X509Certificate2 Certificate, X509Certificate2? PreviousCertificate, int MaxBytes)
{
    public const int DefaultMaxBytes = 10 * 1024 * 1024;
    public const int MinMaxBytes = 1024;
    public const int MaxMaxBytes = 100 * 1024 * 1024;

    /// <summary>RSA keys below 2048 bits are no longer acceptable for signatures (NIST SP 800-131A rev. 2).</summary>
    public const int MinRsaBits = 2048;

    private static readonly string[] Known = ["certificate", "previousCertificate", "maxBytes"];

    /// <summary>The registered certificates, current first.</summary>
    public IReadOnlyList<X509Certificate2> Certificates => PreviousCertificate is null ? [Certificate] : [Certificate, PreviousCertificate];

    /// <summary>Reads a configuration, or throws a <see cref="ConnectorException"/> that lists every problem found.</summary>
    public static SignedXmlSettings Parse(JsonElement configuration) =>
        ConfigurationProblems.Parse("signed-xml", configuration, Read);

    private static SignedXmlSettings? Read(JsonElement root, List<string> problems)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            problems.Add("(root): must be a JSON object");
            return null;
        }

        foreach (var property in root.EnumerateObject())
        {
            if (!Known.Contains(property.Name, StringComparer.Ordinal))
            {
                problems.Add($"{property.Name}: is not a setting here (expected one of: {string.Join(", ", Known)})");
            }
        }

        var certificate = CertificateSetting(root, "certificate", required: true, problems);
        var previous = CertificateSetting(root, "previousCertificate", required: false, problems);
        if (certificate is not null && previous is not null && certificate.RawData.AsSpan().SequenceEqual(previous.RawData))
        {
            problems.Add("previousCertificate: must differ from certificate (remove it once the sender signs with the new one)");
        }

        var maxBytes = DefaultMaxBytes;
        if (root.TryGetProperty("maxBytes", out var max) && max.ValueKind != JsonValueKind.Null
            && (max.ValueKind != JsonValueKind.Number || !max.TryGetInt32(out maxBytes) || maxBytes < MinMaxBytes || maxBytes > MaxMaxBytes))
        {
            problems.Add($"maxBytes: must be a whole number of bytes from {MinMaxBytes} to {MaxMaxBytes}");
        }

        return certificate is null || problems.Count > 0 ? null : new SignedXmlSettings(certificate, previous, maxBytes);
    }

    /// <summary>A certificate given inline (PEM text) or as the path of a PEM file.</summary>
    private static X509Certificate2? CertificateSetting(JsonElement root, string name, bool required, List<string> problems)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                problems.Add($"{name}: is required: the sender's X.509 certificate, PEM text or the path of a PEM file");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            problems.Add($"{name}: must be a string: PEM text (-----BEGIN CERTIFICATE-----…) or the path of a PEM file");
            return null;
        }

        var text = value.GetString()!.Trim();
        X509Certificate2 certificate;
        try
        {
            if (!text.StartsWith("-----BEGIN", StringComparison.Ordinal))
            {
                if (!File.Exists(text))
                {
                    problems.Add($"{name}: is neither PEM text nor the path of an existing file ('{text}' does not exist)");
                    return null;
                }

                text = File.ReadAllText(text);
            }

            certificate = X509Certificate2.CreateFromPem(text);
        }
        catch (CryptographicException e)
        {
            problems.Add($"{name}: is not a readable PEM certificate ({e.Message})");
            return null;
        }

        using var rsa = certificate.GetRSAPublicKey();
        using var ecdsa = rsa is null ? certificate.GetECDsaPublicKey() : null;
        if (rsa is null && ecdsa is null)
        {
            problems.Add($"{name}: the certificate '{certificate.Subject}' has neither an RSA nor an ECDSA key; signatures are RSA or ECDSA with SHA-2");
            return null;
        }

        if (rsa is not null && rsa.KeySize < MinRsaBits)
        {
            problems.Add($"{name}: the certificate '{certificate.Subject}' has a {rsa.KeySize}-bit RSA key; at least {MinRsaBits} bits are required");
            return null;
        }

        return certificate;
    }
}
