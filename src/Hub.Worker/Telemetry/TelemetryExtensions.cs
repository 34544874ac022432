using Hub.Worker.Identity;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Hub.Worker.Telemetry;

/// <summary>Settings of the hub's telemetry (<c>Hub:Telemetry</c>).</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Hub:Telemetry";

    /// <summary>Whether <c>GET /metrics</c> answers without a key (for a scraper inside a private network); off by default.</summary>
    public bool MetricsAnonymous { get; set; }

    /// <summary>
    /// An OTLP collector (e.g. <c>http://collector:4317</c>) to send traces and metrics to. When neither this nor the
    /// standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, the hub exports nothing and records no traces.
    /// </summary>
    public Uri? Otlp { get; set; }

    /// <summary>How long the per-connector gauges (lag, quarantine, circuit) reuse one database read.</summary>
    public TimeSpan GaugeRefresh { get; set; } = DefaultGaugeRefresh;

    public static readonly TimeSpan DefaultGaugeRefresh = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Registration of OpenTelemetry: the <c>Hub</c> meter with ASP.NET Core's and HttpClient's built-in meters behind a
/// Prometheus scrape endpoint, and, when a collector is configured, traces (the <c>Hub</c> source, ASP.NET Core,
/// HttpClient, Npgsql) and metrics over OTLP.
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>The scrape endpoint's path.</summary>
    public const string MetricsPath = "/metrics";

    private const string OtlpEnvironmentSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Registers metrics, the Prometheus exporter and, with a collector, traces.</summary>
    public static IHostApplicationBuilder AddHubTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>()
            .Bind(builder.Configuration.GetSection(TelemetryOptions.Section))
            .Validate(o => o.GaugeRefresh >= TimeSpan.FromSeconds(1) && o.GaugeRefresh <= TimeSpan.FromMinutes(10),
                "Hub:Telemetry:GaugeRefresh must be between one second and ten minutes.")
            .Validate(o => o.Otlp is null || o.Otlp.IsAbsoluteUri, "Hub:Telemetry:Otlp must be an absolute address, e.g. http://collector:4317.")
            .ValidateOnStart();
        builder.Services.AddSingleton<ConnectorGauges>();
        // The gauges register their callbacks when built: build them with the host, not on the first scrape.
        builder.Services.AddHostedService<ConnectorGaugesStart>();

        var otlp = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>()?.Otlp;
        var exportOtlp = otlp is not null || !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEnvironmentSetting]);

        var telemetry = builder.Services.AddOpenTelemetry();
        telemetry.WithMetrics(metrics =>
        {
            metrics
                .AddMeter(HubTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddPrometheusExporter();
            if (exportOtlp)
            {
                metrics.AddOtlpExporter(o => SetEndpoint(o, otlp));
            }
        });

        // Without a collector nobody reads spans: no tracer, so no span is even created (the sources stay unsampled).
        if (exportOtlp)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(HubTelemetry.Name)
                .AddAspNetCoreInstrumentation(o =>
                {
                    o.Filter = context => !context.Request.Path.StartsWithSegments(MetricsPath) && !context.Request.Path.StartsWithSegments("/health");
                    // A path can hold a dossier code (GET /api/dossiers/{code}): spans keep the route template only.
                    o.EnrichWithHttpRequest = (activity, _) =>
                    {
                        activity.SetTag("url.path", null);
                        activity.SetTag("url.query", null);
                    };
                })
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddOtlpExporter(o => SetEndpoint(o, otlp)));
        }

        return builder;
    }

    /// <summary>Only a configured address is set: setting the endpoint at all stops the exporter from appending
    /// <c>/v1/traces</c> and <c>/v1/metrics</c> to <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> over http/protobuf.</summary>
    private static void SetEndpoint(OpenTelemetry.Exporter.OtlpExporterOptions options, Uri? otlp)
    {
        if (otlp is not null)
        {
            options.Endpoint = otlp;
        }
    }

    /// <summary>
    /// Maps <c>GET /metrics</c> (Prometheus text format): for monitors (operators, auditors) unless
    /// <c>Hub:Telemetry:MetricsAnonymous</c> opens it; left out of the OpenAPI document (it is not JSON).
    /// </summary>
    public static IEndpointRouteBuilder MapHubMetrics(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<TelemetryOptions>>().Value;
        var endpoint = app.MapPrometheusScrapingEndpoint(MetricsPath).ExcludeFromDescription();
        if (options.MetricsAnonymous)
        {
            endpoint.AllowAnonymous();
        }
        else
        {
            endpoint.RequireAuthorization(HubPolicies.Monitor);
        }

        return app;
    }
}

/// <summary>Builds <see cref="ConnectorGauges"/> at start so that the first scrape already has the gauges.</summary>
/// <remarks>Resolved at start, after the hub's database (registered before) has started, as the bootstrap admin is.</remarks>
internal sealed class ConnectorGaugesStart(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredService<ConnectorGauges>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
