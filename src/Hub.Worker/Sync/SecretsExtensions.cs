using Hub.Core.Secrets;
using Hub.Core.Sync;
using Hub.Worker.Database;
using Microsoft.AspNetCore.DataProtection.KeyManagement;

namespace Hub.Worker.Sync;

/// <summary>Data Protection over the hub's database and the encryption of connector secrets (docs/decisions/0008).</summary>
public static partial class SecretsExtensions
{
    /// <summary>
    /// Registers Data Protection with its key ring in PostgreSQL and, at start, makes sure the ring has a key and encrypts
    /// the secrets an earlier version stored in plaintext. Call right after <c>AddHubDatabase</c>: hosted services start
    /// in order, and the key must exist before anything (Data Protection's own start-up service included) reads the ring.
    /// </summary>
    public static IHostApplicationBuilder AddHubSecrets(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHostedService<ConnectorSecretsStartup>();
        builder.Services.AddHubDataProtection(sp => sp.GetRequiredService<HubDatabase>().DataSource);
        builder.Services.AddSingleton(sp => new ConnectorSecrets(
            sp.GetRequiredService<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider>(),
            sp.GetRequiredService<ConnectorKinds>().All));
        return builder;
    }

    /// <summary>Ensures the key ring's key, then encrypts plaintext secrets left by an earlier version.</summary>
    private sealed partial class ConnectorSecretsStartup(IServiceProvider services, ILogger<ConnectorSecretsStartup> logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            var dataSource = services.GetRequiredService<HubDatabase>().DataSource;
            await HubDataProtection.EnsureKeyAsync(dataSource, services.GetRequiredService<IKeyManager>(), services.GetRequiredService<TimeProvider>(), cancellationToken);
            var (encrypted, unknown) = await services.GetRequiredService<ConnectorCatalog>().ProtectPlaintextSecretsAsync(cancellationToken);
            if (encrypted.Count > 0)
            {
                LogEncrypted(logger, encrypted.Count, string.Join(", ", encrypted));
            }

            if (unknown.Count > 0)
            {
                LogUnknown(logger, string.Join(", ", unknown));
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Information, Message = "Encrypted the secrets that an earlier version stored in plaintext, of {Count} connector(s): {Connectors}")]
        private static partial void LogEncrypted(ILogger logger, int count, string connectors);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Connectors of kinds this hub does not know, whose configurations could not be checked for plaintext secrets: {Connectors}")]
        private static partial void LogUnknown(ILogger logger, string connectors);
    }
}
