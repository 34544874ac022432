using System.Security.Cryptography.X509Certificates;

namespace Hub.Core.Xml;

/// <summary>The hub's own signing certificate (with its private key): it seals checkpoints and signs what the hub sends in XML.</summary>
public interface IHubSigningCertificate
{
    /// <summary>The certificate, with its RSA private key.</summary>
    X509Certificate2 Certificate { get; }
}
