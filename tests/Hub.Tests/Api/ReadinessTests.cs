using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Hub.Core.Xml;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Api;

/// <summary>A real hub process with the self-generated signing certificate (ten years) and a Hangfire heartbeat every 2 seconds.</summary>
public sealed class ReadinessHub : IAsyncLifetime
{
    private string _work = "";

    public NpgsqlDataSource Db { get; private set; } = null!;

    public HubProcess Process { get; private set; } = null!;

    /// <summary>The schema of this hub's Hangfire tables, its own: other test hubs share the database.</summary>
    public string HangfireSchema { get; } = "hangfire_readiness_" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateSchemaAsync("readiness");
        _work = Directory.CreateTempSubdirectory("hub-readiness-").FullName;
        Process = HubProcess.Start(_work, new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = Db.ConnectionString,
            ["Hub__Audit__SealInterval"] = "01:00:00",
            ["Hub__Scheduler__HeartbeatInterval"] = "00:00:02",
            ["Hub__Scheduler__SchemaName"] = HangfireSchema,
        });
        await Process.WaitReadyAsync(TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        await Process.DisposeAsync();
        await Db.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }
}

/// <summary>
/// <c>/health/ready</c> of real hub processes: the database, the signing certificate and the scheduler, each with its
/// status and description; a certificate near its expiry is a warning (still 200), an expired one or a silent scheduler
/// makes the hub not ready (503).
/// </summary>
public sealed class ReadinessTests(ReadinessHub hub) : IClassFixture<ReadinessHub>
{
    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/health/ready");
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonElement>()).Clone());
    }

    private static (string Status, string Description) Check(JsonElement body, string name)
    {
        var check = body.GetProperty("checks").GetProperty(name);
        return (check.GetProperty("status").GetString()!, check.GetProperty("description").GetString()!);
    }

    /// <summary>Starts a hub signing with a new certificate valid until <paramref name="notAfter"/>, in a schema and folder of its own.</summary>
    private static async Task<(HubProcess Hub, X509Certificate2 Certificate, Func<Task> Cleanup)> HubSigningUntilAsync(string schema, DateTimeOffset notAfter)
    {
        var db = await TestDatabase.CreateSchemaAsync(schema);
        var work = Directory.CreateTempSubdirectory("hub-readiness-certificate-").FullName;
        var certificate = XmlDsigSigner.CreateSelfSigned("CN=Readiness test seal", DateTimeOffset.UtcNow.AddDays(-1), notAfter, keySize: 2048);
        var pem = Path.Combine(work, "signing.pem");
        await File.WriteAllTextAsync(pem, certificate.ExportCertificatePem() + "\n" + certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n");
        var process = HubProcess.Start(work, new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = db.ConnectionString,
            ["Hub__Signing__CertificatePath"] = pem,
            ["Hub__Audit__SealInterval"] = "01:00:00",
        });
        return (process, certificate, async () =>
        {
            await process.DisposeAsync();
            await db.DisposeAsync();
            Directory.Delete(work, recursive: true);
        });
    }

    [Fact]
    public async Task A_ready_hub_reports_its_database_signing_certificate_and_scheduler_each_healthy_with_a_description()
    {
        var (status, body) = await ReadyAsync(hub.Process.Client);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal(["bus", "certificate", "database", "scheduler"], body.GetProperty("checks").EnumerateObject().Select(c => c.Name).Order(StringComparer.Ordinal));
        var database = Check(body, "database");
        Assert.Equal("Healthy", database.Status);
        Assert.Contains("migrations applied", database.Description, StringComparison.Ordinal);
        var certificate = Check(body, "certificate");
        Assert.Equal("Healthy", certificate.Status);
        Assert.Contains("CN=Hub exchange-log seal (self-generated)", certificate.Description, StringComparison.Ordinal);
        var data = body.GetProperty("checks").GetProperty("certificate").GetProperty("data");
        var notAfter = data.GetProperty("notAfter").GetString()!;
        Assert.InRange(DateTimeOffset.Parse(notAfter, System.Globalization.CultureInfo.InvariantCulture).Year, DateTimeOffset.UtcNow.Year + 9, DateTimeOffset.UtcNow.Year + 10);
        Assert.Contains($"({data.GetProperty("thumbprint").GetString()}) valid until {notAfter}", certificate.Description, StringComparison.Ordinal);
        var scheduler = Check(body, "scheduler");
        Assert.Equal("Healthy", scheduler.Status);
        Assert.StartsWith("storage reachable; server hub:", scheduler.Description, StringComparison.Ordinal);
        // The bus (in memory here) is started and ready.
        Assert.Equal("Healthy", Check(body, "bus").Status);
    }

    [Fact]
    public async Task A_scheduler_whose_server_stopped_beating_makes_the_hub_not_ready_until_its_next_heartbeat()
    {
        // A heartbeat may land between the update and the request (one in a hundred at this interval): then again.
        HttpStatusCode status = default;
        JsonElement body = default;
        for (var attempt = 0; attempt < 5 && status != HttpStatusCode.ServiceUnavailable; attempt++)
        {
            await using (var stale = hub.Db.CreateCommand($"update {hub.HangfireSchema}.server set lastheartbeat = now() - interval '1 hour'"))
            {
                Assert.Equal(1, await stale.ExecuteNonQueryAsync());
            }

            (status, body) = await ReadyAsync(hub.Process.Client);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", body.GetProperty("status").GetString());
        var scheduler = Check(body, "scheduler");
        Assert.Equal("Unhealthy", scheduler.Status);
        Assert.Contains("last beat at", scheduler.Description, StringComparison.Ordinal);
        Assert.Contains("schedules and syncs are not picked up here", scheduler.Description, StringComparison.Ordinal);
        Assert.Equal("Healthy", Check(body, "database").Status);

        // The server beats every 2 s here: the hub is ready again by itself.
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while ((await ReadyAsync(hub.Process.Client)).Status != HttpStatusCode.OK)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the hub was not ready again after its scheduler's next heartbeat");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task A_signing_certificate_expiring_in_ten_days_is_a_warning_naming_its_expiry_and_the_hub_stays_ready()
    {
        var (process, certificate, cleanup) = await HubSigningUntilAsync("readiness_expiring", DateTimeOffset.UtcNow.AddDays(10));
        try
        {
            await process.WaitReadyAsync(TimeSpan.FromSeconds(90));
            var (status, body) = await ReadyAsync(process.Client);

            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("Degraded", body.GetProperty("status").GetString());
            var check = Check(body, "certificate");
            Assert.Equal("Degraded", check.Status);
            var expiry = certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
            Assert.Contains($"expires at {expiry}, within 30 days", check.Description, StringComparison.Ordinal);
            Assert.Contains("CN=Readiness test seal", check.Description, StringComparison.Ordinal);
            Assert.Equal(expiry, body.GetProperty("checks").GetProperty("certificate").GetProperty("data").GetProperty("notAfter").GetString());
            Assert.Equal("Healthy", Check(body, "database").Status);
            Assert.Equal("Healthy", Check(body, "scheduler").Status);
        }
        finally
        {
            await cleanup();
        }
    }

    [Fact]
    public async Task A_signing_certificate_that_expires_while_the_hub_runs_makes_it_not_ready()
    {
        // The hub refuses to start with an expired certificate, so this one expires a minute after the test starts it.
        var notAfter = DateTimeOffset.UtcNow.AddSeconds(60);
        var (process, certificate, cleanup) = await HubSigningUntilAsync("readiness_expired", notAfter);
        try
        {
            var deadline = notAfter.AddSeconds(30);
            var seen = new List<string>();
            while (true)
            {
                Assert.False(process.HasExited, $"the hub exited (code {(process.HasExited ? process.ExitCode : 0)}) before its certificate expired:\n{process.Output}");
                try
                {
                    var (status, body) = await ReadyAsync(process.Client);
                    var check = Check(body, "certificate");
                    seen.Add($"{(int)status} {check.Status}");
                    if (status == HttpStatusCode.ServiceUnavailable && check.Status == "Unhealthy")
                    {
                        Assert.Equal("Unhealthy", body.GetProperty("status").GetString());
                        var expiry = certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
                        Assert.Contains($"expired at {expiry}: the hub cannot sign", check.Description, StringComparison.Ordinal);
                        Assert.True(DateTimeOffset.UtcNow >= certificate.NotAfter.ToUniversalTime(), "reported expired before its expiry");
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                Assert.True(DateTimeOffset.UtcNow < deadline, $"not reported expired by {deadline:O}; seen: {string.Join(", ", seen.Distinct())}");
                await Task.Delay(500);
            }

            // Before it expired, the same hub was ready with a warning: the 503 comes from the expiry, not from start-up.
            Assert.Contains("200 Degraded", seen);
        }
        finally
        {
            await cleanup();
        }
    }
}
