using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Hub.Core.Audit;
using Hub.Core.Xml;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hub.Worker.Audit;

/// <summary>Where the hub's signing certificate comes from (<c>Hub:Signing</c>).</summary>
public sealed class HubSigningOptions
{
    public const string Section = "Hub:Signing";

    /// <summary>
    /// A PEM file with the certificate and its RSA private key (or a PKCS#12 file, <c>.pfx</c>/<c>.p12</c>). When not set,
    /// the hub uses a self-signed certificate it generates once and keeps in its database: fine for a demo, not for
    /// evidence, since whoever holds the database then holds the key too.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The private key's PEM file, when it is not in <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PKCS#12 file's password.</summary>
    public string? Password { get; set; }

    /// <summary>PEM files of earlier signing certificates whose checkpoints still verify (after a key rotation).</summary>
    public List<string> PreviousCertificates { get; set; } = [];
}

/// <summary>
/// The hub's signing certificate, loaded at start (after the database): from <see cref="HubSigningOptions"/>, or the
/// self-generated one in the database (created by the first hub process to need it; others load the same).
/// </summary>
public sealed partial class HubSigning(IOptions<HubSigningOptions> options, IServiceProvider services, TimeProvider timeProvider, ILogger<HubSigning> logger)
    : IHubSigningCertificate, IHostedService
{
    private X509Certificate2? _certificate;
    private IReadOnlyList<X509Certificate2> _trusted = [];

    /// <inheritdoc />
    public X509Certificate2 Certificate => _certificate ?? throw new InvalidOperationException("The hub's signing certificate is not loaded yet.");

    /// <summary>The certificates checkpoints may be signed with: the current one and the configured earlier ones.</summary>
    public IReadOnlyList<X509Certificate2> Trusted => _trusted;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!string.IsNullOrWhiteSpace(o.CertificatePath))
        {
            _certificate = Load(o);
            LogConfigured(logger, Checkpoint.ThumbprintOf(_certificate), o.CertificatePath);
        }
        else
        {
            _certificate = await LoadOrCreateInDatabaseAsync(services.GetRequiredService<NpgsqlDataSource>(), cancellationToken);
            LogGenerated(logger, Checkpoint.ThumbprintOf(_certificate));
        }

        var now = timeProvider.GetUtcNow();
        if (now > _certificate.NotAfter || now < _certificate.NotBefore)
        {
            throw new InvalidOperationException(
                $"The hub's signing certificate {Checkpoint.ThumbprintOf(_certificate)} is valid from {_certificate.NotBefore:u} to {_certificate.NotAfter:u}, not now: configure a valid one in {HubSigningOptions.Section}:CertificatePath.");
        }

        _trusted = [_certificate, .. o.PreviousCertificates.Select(p => X509Certificate2.CreateFromPemFile(p))];
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static X509Certificate2 Load(HubSigningOptions o)
    {
        var path = o.CertificatePath!;
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{HubSigningOptions.Section}:CertificatePath names '{path}', which does not exist.");
        }

        try
        {
            var certificate = path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase)
                ? X509CertificateLoader.LoadPkcs12FromFile(path, o.Password)
                : X509Certificate2.CreateFromPemFile(path, o.KeyPath);
            if (!certificate.HasPrivateKey || certificate.GetRSAPrivateKey() is null)
            {
                throw new InvalidOperationException($"The signing certificate in '{path}' has no RSA private key; the hub signs with RSA-SHA256.");
            }

            return certificate;
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"The signing certificate in '{path}' cannot be read: {e.Message}", e);
        }
    }

    private async Task<X509Certificate2> LoadOrCreateInDatabaseAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("select pg_advisory_xact_lock(hashtext(current_schema() || '/hub-signing-key'))", connection))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var select = new NpgsqlCommand(
            "select certificate, private_key from exchange_signer where private_key is not null order by created_at desc limit 1", connection))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                var certificate = X509Certificate2.CreateFromPem(reader.GetString(0), reader.GetString(1));
                if (timeProvider.GetUtcNow() < certificate.NotAfter.AddDays(-30))
                {
                    return certificate;
                }
            }
        }

        var now = timeProvider.GetUtcNow();
        var created = XmlDsigSigner.CreateSelfSigned("CN=Hub exchange-log seal (self-generated)", now.AddMinutes(-5), now.AddYears(10));
        await using (var insert = new NpgsqlCommand("insert into exchange_signer (thumbprint, certificate, private_key) values ($1, $2, $3)", connection))
        {
            insert.Parameters.Add(new() { Value = Checkpoint.ThumbprintOf(created) });
            insert.Parameters.Add(new() { Value = created.ExportCertificatePem() });
            insert.Parameters.Add(new() { Value = created.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem() });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return created;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Signing with certificate {Thumbprint} from {Path}")]
    private static partial void LogConfigured(ILogger logger, string thumbprint, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Signing with the self-generated certificate {Thumbprint} kept in the database: configure Hub:Signing:CertificatePath so that whoever holds the database cannot also sign")]
    private static partial void LogGenerated(ILogger logger, string thumbprint);
}
