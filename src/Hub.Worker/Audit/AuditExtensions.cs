using Hub.Core.Audit;
using Hub.Core.Xml;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hub.Worker.Audit;

/// <summary>Registration of the exchange log: signing certificate, log, sealer (and its schedule), verifier, proofs.</summary>
public static class AuditExtensions
{
    /// <summary>Registers the exchange log; call after <c>AddHubDatabase</c> (the signing certificate may live in the database).</summary>
    public static IHostApplicationBuilder AddExchangeLog(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<HubSigningOptions>().Bind(builder.Configuration.GetSection(HubSigningOptions.Section));
        builder.Services.AddOptions<ExchangeLogOptions>()
            .Bind(builder.Configuration.GetSection(ExchangeLogOptions.Section))
            .Validate(o => o.SealInterval >= TimeSpan.FromMilliseconds(100), "Hub:Audit:SealInterval must be at least 100 ms.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Origin), "Hub:Audit:Origin must not be empty.")
            .ValidateOnStart();
        builder.Services.AddSingleton<HubSigning>();
        builder.Services.AddSingleton<IHubSigningCertificate>(sp => sp.GetRequiredService<HubSigning>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HubSigning>());
        builder.Services.AddSingleton<ExchangeLog>();
        builder.Services.AddSingleton(sp => new ExchangeSealer(
            sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<IHubSigningCertificate>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ExchangeSealer>>(), sp.GetRequiredService<IOptions<ExchangeLogOptions>>().Value.Origin));
        builder.Services.AddSingleton<ExchangeVerifier>();
        builder.Services.AddSingleton<ExchangeProofs>();
        builder.Services.AddHostedService<ExchangeSealService>();
        return builder;
    }
}
