using Hub.Connectors;
using Hub.Connectors.BuiltIn;
using Hub.Core.Sync;
using Hub.Worker.Plugins;

namespace Hub.Worker.Sync;

/// <summary>Registration of the sync engine: connector kinds, per-connector HTTP clients, the run ledger, the runner and the probes (check, preview).</summary>
public static class SyncExtensions
{
    /// <summary>Registers the sync engine and loads connector registration files at start-up.</summary>
    public static IHostApplicationBuilder AddHubSync(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IConnectorKind, RestPullConnectorKind>();
        builder.Services.AddSingleton<IConnectorKind, NationalPortalConnectorKind>();
        builder.Services.AddSingleton<IConnectorKind, JsonWebhookConnectorKind>();
        builder.Services.AddSingleton<IConnectorKind, SignedXmlConnectorKind>();
        builder.Services.AddSingleton<ConnectorCatalog>();
        builder.Services.AddSingleton<SyncLedger>();
        builder.Services.AddSingleton<ConnectorHttpClients>();
        // The built-in kinds and those of the plugins folder (src/Hub.Worker/Plugins), loaded with the kinds at start-up.
        builder.AddConnectorPlugins();
        builder.Services.AddSingleton(sp => new ConnectorKinds(sp.GetServices<IConnectorKind>().Concat(sp.GetRequiredService<ConnectorPlugins>().Kinds)));
        builder.Services.AddSingleton<ConnectorValidation>();
        builder.Services.AddSingleton<RecordIngest>();
        builder.Services.AddSingleton<SyncRunner>();
        builder.Services.AddSingleton<ConnectorProbe>();
        builder.Services.AddOptions<ProbeOptions>()
            .Bind(builder.Configuration.GetSection(ProbeOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.DefaultRecords <= o.MaxRecords, "Hub:Probe:DefaultRecords must not exceed Hub:Probe:MaxRecords.")
            .ValidateOnStart();
        builder.Services.AddOptions<ConnectorFilesOptions>()
            .Bind(builder.Configuration.GetSection(ConnectorFilesOptions.Section))
            .ValidateOnStart();
        builder.Services.AddHostedService<ConnectorFiles>();
        builder.Services.AddOptions<SyncSchedulerOptions>()
            .Bind(builder.Configuration.GetSection(SyncSchedulerOptions.Section))
            .Validate(o => o.WorkerCount is > 0 and <= 200, "Hub:Scheduler:WorkerCount must be between 1 and 200.")
            .Validate(o => o.ScheduleRefresh >= TimeSpan.FromSeconds(1), "Hub:Scheduler:ScheduleRefresh must be at least one second.")
            .Validate(o => o.HeartbeatInterval >= TimeSpan.FromSeconds(1) && o.HeartbeatInterval <= TimeSpan.FromMinutes(1),
                "Hub:Scheduler:HeartbeatInterval must be between one second and one minute (Hangfire drops servers silent for five minutes).")
            .ValidateOnStart();
        builder.Services.AddTransient<SyncJobs>();
        builder.Services.AddSingleton<SyncScheduler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SyncScheduler>());
        return builder;
    }
}
