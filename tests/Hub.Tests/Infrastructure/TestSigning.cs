using System.Security.Cryptography.X509Certificates;
using Hub.Core.Xml;

namespace Hub.Tests.Infrastructure;

/// <summary>Signing certificates made once per test run (RSA key generation is slow).</summary>
public sealed class TestSigning(X509Certificate2 certificate) : IHubSigningCertificate
{
    private static readonly Lazy<TestSigning> HubInstance = new(() => new TestSigning(Create("CN=Test hub seal")));
    private static readonly Lazy<TestSigning> OtherInstance = new(() => new TestSigning(Create("CN=Someone else")));

    /// <summary>The hub's signing certificate in tests.</summary>
    public static TestSigning Hub => HubInstance.Value;

    /// <summary>Another certificate, not trusted.</summary>
    public static TestSigning Other => OtherInstance.Value;

    public X509Certificate2 Certificate { get; } = certificate;

    private static X509Certificate2 Create(string subject) =>
        XmlDsigSigner.CreateSelfSigned(subject, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5), keySize: 2048);
}
