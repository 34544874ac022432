using Hub.Core.Store;
using Hub.Worker.Database;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Hub.Worker.Api;

/// <summary>
/// <c>/health/live</c>: the process answers. <c>/health/ready</c>: the database answers and its schema is up to date, the
/// signing certificate can sign, and the scheduler runs. Each check answers with its status and a description; a
/// degraded check (a warning, such as a certificate expiring soon) leaves the hub ready (200), an unhealthy one does not (503).
/// </summary>
public static class HealthApi
{
    private const string Ready = "ready";

    public static IServiceCollection AddHubHealthChecks(this IServiceCollection services)
    {
        // One check per dependency the hub needs to serve, each tagged Ready. The message bus's check ("bus") is
        // MassTransit's own, registered with the same tag by AddHubBus.
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: [Ready])
            .AddCheck<SigningCertificateHealthCheck>("certificate", tags: [Ready])
            .AddCheck<SchedulerHealthCheck>("scheduler", tags: [Ready]);
        return services;
    }

    public static WebApplication MapHealthApi(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteAsync }).AllowAnonymous();
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report) =>
        context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                data = e.Value.Data.Count == 0 ? null : e.Value.Data,
            }),
        });

    private sealed class DatabaseHealthCheck(HubDatabase database) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var pending = await SchemaMigrator.PendingAsync(database.DataSource, cancellationToken);
                return pending.Count == 0
                    ? HealthCheckResult.Healthy($"reachable; {SchemaMigrator.Migrations.Count} migrations applied")
                    : HealthCheckResult.Unhealthy($"reachable, but migrations {string.Join(", ", pending)} are not applied");
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy($"database unreachable: {e.Message}");
            }
        }
    }
}
