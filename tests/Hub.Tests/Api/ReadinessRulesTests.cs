using System.Security.Cryptography.X509Certificates;
using Hangfire.Storage.Monitoring;
using Hub.Tests.Infrastructure;
using Hub.Worker.Api;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hub.Tests.Api;

/// <summary>The verdicts of the certificate and scheduler readiness checks, including the cases a running hub cannot be put in.</summary>
public sealed class ReadinessRulesTests
{
    private static readonly TimeSpan Warning = TimeSpan.FromDays(30);

    /// <summary>The tests' hub certificate: valid from a day before the test run for five years.</summary>
    private static X509Certificate2 Certificate => TestSigning.Hub.Certificate;

    private static DateTimeOffset NotAfter => new(Certificate.NotAfter.ToUniversalTime());

    [Theory]
    [InlineData(-400, "Healthy", "valid until")]
    [InlineData(-31, "Healthy", "valid until")]
    [InlineData(-29, "Degraded", "within 30 days; renew it (Hub:Signing)")]
    [InlineData(-1, "Degraded", "within 30 days")]
    [InlineData(0, "Unhealthy", "expired at")]
    [InlineData(1, "Unhealthy", "expired at")]
    public void The_certificate_is_a_warning_within_the_alert_threshold_of_its_expiry_and_unhealthy_from_it(int daysFromExpiry, string status, string says)
    {
        var result = SigningCertificateHealthCheck.Judge(Certificate, NotAfter.AddDays(daysFromExpiry), Warning);

        Assert.Equal(status, result.Status.ToString());
        Assert.Contains(says, result.Description, StringComparison.Ordinal);
        Assert.Contains(Certificate.Subject, result.Description, StringComparison.Ordinal);
        Assert.Equal(NotAfter.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), result.Data["notAfter"]);
    }

    [Fact]
    public void A_certificate_not_yet_valid_is_unhealthy()
    {
        var result = SigningCertificateHealthCheck.Judge(Certificate, new DateTimeOffset(Certificate.NotBefore.ToUniversalTime()).AddMinutes(-1), Warning);

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("is not valid before", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void A_certificate_without_its_private_key_is_unhealthy_even_when_valid()
    {
        using var publicOnly = X509CertificateLoader.LoadCertificate(Certificate.RawData);

        var result = SigningCertificateHealthCheck.Judge(publicOnly, DateTimeOffset.UtcNow, Warning);

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("has no private key", result.Description, StringComparison.Ordinal);
    }

    private static readonly DateTimeOffset Now = new(2027, 3, 1, 8, 0, 0, TimeSpan.Zero);

    private static ServerDto Server(string name, DateTimeOffset? heartbeat) =>
        new() { Name = name, Heartbeat = heartbeat?.UtcDateTime, WorkersCount = 20, Queues = ["default"], StartedAt = Now.AddHours(-1).UtcDateTime };

    [Fact]
    public void The_scheduler_is_healthy_when_a_server_of_this_process_beat_recently_whatever_the_case_of_its_name()
    {
        var result = SchedulerHealthCheck.Judge(
            [Server("hub:other:7:8f0c", Now.AddHours(-2)), Server("hub:node-a:42:1b2c", Now.AddSeconds(-20))], "hub:Node-A:42", Now, TimeSpan.FromSeconds(90));

        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Equal("storage reachable; server hub:node-a:42:1b2c beat at 2027-03-01T07:59:40Z (20 workers)", result.Description);
    }

    [Fact]
    public void The_scheduler_is_unhealthy_when_the_server_of_this_process_stopped_beating()
    {
        var result = SchedulerHealthCheck.Judge([Server("hub:node-a:42:1b2c", Now.AddSeconds(-91))], "hub:node-a:42", Now, TimeSpan.FromSeconds(90));

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal(
            "the Hangfire server of this process (hub:node-a:42) last beat at 2027-03-01T07:58:29Z, more than 90 s ago: schedules and syncs are not picked up here",
            result.Description);
    }

    [Fact]
    public void The_scheduler_is_unhealthy_when_only_other_processes_have_servers()
    {
        // Process 4 is not process 42, though its name is a prefix of it.
        var result = SchedulerHealthCheck.Judge([Server("hub:node-a:4:1b2c", Now), Server("hub:node-a:420:1b2c", Now)], "hub:node-a:42", Now, TimeSpan.FromSeconds(90));

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.StartsWith("no Hangfire server of this process (hub:node-a:42)", result.Description, StringComparison.Ordinal);
    }
}
