using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Hangfire.Storage.Monitoring;
using Hub.Core.Audit;
using Hub.Core.Xml;
using Hub.Worker.Alerts;
using Hub.Worker.Sync;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Api;

/// <summary>
/// The hub's signing certificate: <see cref="HealthStatus.Degraded"/> (still ready) when it expires within the alert
/// rules' warning time (<see cref="AlertOptions.CertificateWarning"/>, 30 days), unhealthy when it cannot sign.
/// </summary>
public sealed class SigningCertificateHealthCheck(IHubSigningCertificate signing, IOptions<AlertOptions> alerts, TimeProvider time) : IHealthCheck
{
    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = signing.Certificate;
        }
        catch (InvalidOperationException e)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(e.Message));
        }

        return Task.FromResult(Judge(certificate, time.GetUtcNow(), alerts.Value.CertificateWarning));
    }

    /// <summary>The verdict on <paramref name="certificate"/> at <paramref name="now"/>.</summary>
    public static HealthCheckResult Judge(X509Certificate2 certificate, DateTimeOffset now, TimeSpan warning)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        var thumbprint = Checkpoint.ThumbprintOf(certificate);
        var name = $"{certificate.Subject} ({thumbprint})";
        var data = new Dictionary<string, object>
        {
            ["subject"] = certificate.Subject,
            ["thumbprint"] = thumbprint,
            ["notBefore"] = Format(notBefore),
            ["notAfter"] = Format(notAfter),
        };
        if (!certificate.HasPrivateKey)
        {
            return HealthCheckResult.Unhealthy($"{name} has no private key: the hub cannot sign; configure one in Hub:Signing", data: data);
        }

        if (now < notBefore)
        {
            return HealthCheckResult.Unhealthy($"{name} is not valid before {Format(notBefore)}", data: data);
        }

        if (now >= notAfter)
        {
            return HealthCheckResult.Unhealthy($"{name} expired at {Format(notAfter)}: the hub cannot sign; renew it (Hub:Signing)", data: data);
        }

        return notAfter - now < warning
            ? HealthCheckResult.Degraded(
                string.Create(CultureInfo.InvariantCulture, $"{name} expires at {Format(notAfter)}, within {warning.TotalDays:0.#} days; renew it (Hub:Signing)"), data: data)
            : HealthCheckResult.Healthy($"{name} valid until {Format(notAfter)}", data);
    }

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>
/// The scheduler: Hangfire's storage answers and, where this process runs syncs (<c>Hub:Scheduler:Enabled</c>), its
/// Hangfire server has beaten recently, so schedules and "sync now" are being picked up.
/// </summary>
public sealed class SchedulerHealthCheck(SyncScheduler scheduler, IOptions<SyncSchedulerOptions> options, TimeProvider time) : IHealthCheck
{
    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            // Such a process has no Hangfire storage of its own; the database check covers the database they share.
            return Task.FromResult(HealthCheckResult.Healthy($"off in this process ({SyncSchedulerOptions.Section}:Enabled is false): syncs run in the processes that have it on"));
        }

        if (scheduler.Storage is not { } storage)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("the scheduler has not started yet"));
        }

        IList<ServerDto> servers;
        try
        {
            servers = storage.GetMonitoringApi().Servers();
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"Hangfire's storage (schema {settings.SchemaName}) is unreachable: {e.Message}"));
        }

        return Task.FromResult(Judge(servers, scheduler.ServerName, time.GetUtcNow(), settings.HeartbeatInterval * SyncSchedulerOptions.MissedHeartbeats));
    }

    /// <summary>The verdict on this process's server <paramref name="serverName"/> among Hangfire's <paramref name="servers"/>.</summary>
    public static HealthCheckResult Judge(IEnumerable<ServerDto> servers, string serverName, DateTimeOffset now, TimeSpan staleAfter)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(serverName);
        // Hangfire names a server by its ServerName in lower case, a colon and a GUID.
        var prefix = serverName.ToLowerInvariant() + ":";
        var own = servers.Where(s => s.Name.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        if (own.Count == 0)
        {
            return HealthCheckResult.Unhealthy($"no Hangfire server of this process ({serverName}) is registered in the storage: schedules and syncs are not picked up here");
        }

        var last = own.Max(s => s.Heartbeat is { } h ? new DateTimeOffset(DateTime.SpecifyKind(h, DateTimeKind.Utc)) : (DateTimeOffset?)null);
        var at = last is { } l ? l.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "never";
        return last is { } beat && now - beat <= staleAfter
            ? HealthCheckResult.Healthy($"storage reachable; server {own[0].Name} beat at {at} ({own.Sum(s => s.WorkersCount)} workers)")
            : HealthCheckResult.Unhealthy(string.Create(CultureInfo.InvariantCulture,
                $"the Hangfire server of this process ({serverName}) last beat at {at}, more than {staleAfter.TotalSeconds:0} s ago: schedules and syncs are not picked up here"));
    }
}
