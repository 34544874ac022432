using Hub.Core.Sync;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Hub.Worker.Alerts;

public static class AlertsExtensions
{
    /// <summary>Maintenance windows, the alert rules' evaluation and the webhook delivery with its resilience pipeline.</summary>
    public static WebApplicationBuilder AddHubAlerts(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AlertOptions>()
            .Bind(builder.Configuration.GetSection(AlertOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<MaintenanceWindows>();
        builder.Services.AddSingleton<AlertStore>();
        builder.Services.AddSingleton<AlertDelivery>();
        builder.Services.AddHttpClient(AlertDelivery.ClientName)
            .AddResilienceHandler("alerts", static (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<AlertOptions>>().Value;
                // Total timeout over every attempt and its backoff, then jittered retries of transient failures (5xx, 408,
                // 429, network errors, attempt timeouts), then the timeout of one attempt.
                pipeline
                    .AddTimeout(options.DeliveryTimeout * (options.DeliveryRetries + 2))
                    .AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = Math.Max(options.DeliveryRetries, 1),
                        ShouldHandle = options.DeliveryRetries == 0 ? static _ => PredicateResult.False() : new HttpRetryStrategyOptions().ShouldHandle,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        Delay = TimeSpan.FromMilliseconds(500),
                    })
                    .AddTimeout(options.DeliveryTimeout);
            });
        builder.Services.AddHostedService<AlertService>();
        builder.Services.AddAlertsApi();
        return builder;
    }
}
