using Hub.Connectors;
using Hub.Connectors.BuiltIn;
using Hub.Core.Sync;

namespace Hub.Worker.Sync;

/// <summary>Registration of the sync engine: connector kinds, per-connector HTTP clients, the run ledger and the runner.</summary>
public static class SyncExtensions
{
    /// <summary>Registers the sync engine and loads connector registration files at start-up.</summary>
    public static IHostApplicationBuilder AddHubSync(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IConnectorKind, RestPullConnectorKind>();
        builder.Services.AddSingleton<IConnectorKind, JsonWebhookConnectorKind>();
        builder.Services.AddSingleton<ConnectorCatalog>();
        builder.Services.AddSingleton<SyncLedger>();
        builder.Services.AddSingleton<ConnectorHttpClients>();
        builder.Services.AddSingleton(sp => new ConnectorKinds(sp.GetServices<IConnectorKind>()));
        builder.Services.AddSingleton<RecordIngest>();
        builder.Services.AddSingleton<SyncRunner>();
        builder.Services.AddOptions<ConnectorFilesOptions>()
            .Bind(builder.Configuration.GetSection(ConnectorFilesOptions.Section))
            .ValidateOnStart();
        builder.Services.AddHostedService<ConnectorFiles>();
        return builder;
    }
}
