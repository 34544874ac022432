using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hub.Core.Audit;
using Hub.Tests.Infrastructure;
using Hub.Tests.Registration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Hub.Tests.Alerts;

/// <summary>
/// Two real hub processes over one PostgreSQL schema of their own, each evaluating the alert rules every second and
/// posting to the same real webhook receiver on loopback: every alert must still arrive once.
/// </summary>
public sealed class AlertsHub : IAsyncLifetime
{
    public const string Secret = "alerts-test-secret";

    private string _work = "";
    private WebApplication _receiver = null!;

    public NpgsqlDataSource Db { get; private set; } = null!;

    public HubProcess Process { get; private set; } = null!;

    /// <summary>A second process on the same database: it evaluates and delivers alerts too, and runs no syncs.</summary>
    public HubProcess Second { get; private set; } = null!;

    /// <summary>Every post the receiver took (answered 204): its raw body and its signature header.</summary>
    public ConcurrentQueue<(byte[] Body, string? Signature)> Posts { get; } = new();

    /// <summary>Posts the receiver refused (answered 503), by <c>connector/alert</c>.</summary>
    public ConcurrentDictionary<string, int> Refused { get; } = new();

    /// <summary>How many posts of an alert (<c>connector/alert</c>) the receiver refuses before taking them.</summary>
    public ConcurrentDictionary<string, int> RefuseFirst { get; } = new();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _receiver = builder.Build();
        _receiver.MapPost("/alerts", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            var json = JsonDocument.Parse(body.ToArray()).RootElement;
            var key = json.GetProperty("connectorId").GetString() + "/" + json.GetProperty("alert").GetString();
            if (RefuseFirst.TryGetValue(key, out var refuse) && Refused.AddOrUpdate(key, 1, (_, n) => n + 1) <= refuse)
            {
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
            }

            Posts.Enqueue((body.ToArray(), http.Request.Headers["X-Hub-Signature"].ToString()));
            return Results.NoContent();
        });
        await _receiver.StartAsync();
        var receiver = _receiver.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        Db = await TestDatabase.CreateSchemaAsync("alerts");
        _work = Directory.CreateTempSubdirectory("hub-alerts-").FullName;
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = Db.ConnectionString,
            ["Hub__Audit__SealInterval"] = "01:00:00",
            ["Hub__Alerts__EvaluationInterval"] = "00:00:01",
            ["Hub__Alerts__WebhookUrl"] = receiver + "/alerts",
            ["Hub__Alerts__Secret"] = Secret,
        };
        Process = HubProcess.Start(_work, settings);
        await Process.WaitReadyAsync(TimeSpan.FromSeconds(90));
        Second = HubProcess.Start(_work, new Dictionary<string, string>(settings) { ["Hub__Scheduler__Enabled"] = "false" });
        await Second.WaitReadyAsync(TimeSpan.FromSeconds(90));
    }

    /// <summary>A client with the key of a new principal with these grants (<c>new { role, agency }</c>).</summary>
    public async Task<HttpClient> WithGrantsAsync(params object[] grants) => (await Process.PrincipalClientAsync("alerts", grants)).Client;

    public async Task DisposeAsync()
    {
        await Second.DisposeAsync();
        await Process.DisposeAsync();
        await _receiver.DisposeAsync();
        await Db.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }
}

/// <summary>
/// An alert fires once (not at every evaluation) to the webhook when a connector goes late,
/// once more when it goes failing, is resolved once, and fires not at all inside the connector's maintenance window.
/// </summary>
public sealed class AlertsTests(AlertsHub hub) : IClassFixture<AlertsHub>
{
    private static readonly TimeSpan Evaluation = TimeSpan.FromSeconds(1);

    private sealed record Received(string Alert, string? ConnectorId, string State, bool Resolved, string Message);

    private List<Received> PostsFor(string connectorId)
    {
        var list = new List<Received>();
        foreach (var (body, signature) in hub.Posts)
        {
            // Every post is signed over its exact body with the configured secret.
            Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AlertsHub.Secret), body)), signature);
            var json = JsonDocument.Parse(body).RootElement;
            var received = new Received(
                json.GetProperty("alert").GetString()!,
                json.GetProperty("connectorId").GetString(),
                json.GetProperty("state").GetString()!,
                json.GetProperty("resolved").GetBoolean(),
                json.GetProperty("message").GetString()!);
            if (received.ConnectorId == connectorId)
            {
                list.Add(received);
            }
        }

        return list;
    }

    private async Task<List<Received>> WaitForAsync(string connectorId, Func<List<Received>, bool> done, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var posts = PostsFor(connectorId);
            if (done(posts))
            {
                return posts;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"not received within {timeout}; received for {connectorId}: {JsonSerializer.Serialize(posts)}\n{hub.Process.Output[^Math.Min(4000, hub.Process.Output.Length)..]}");
            await Task.Delay(200);
        }
    }

    private static async Task<JsonElement> OkAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A draft connector of <paramref name="agency"/>, pulling every minute from an address where nothing listens.</summary>
    private static async Task<string> RegisterAsync(HttpClient owner, string agency)
    {
        var registration = ConnectorValidationApiTests.ValidRegistration($"{agency.ToLowerInvariant()}-alerts-{Guid.NewGuid().ToString("N")[..8]}");
        registration["agency"] = agency;
        registration["sourceSystem"] = registration["id"]!.GetValue<string>() + "-src";
        registration["schedule"] = "*/1 * * * *";
        await OkAsync(await owner.PostAsJsonAsync("/api/connectors", registration), HttpStatusCode.Created);
        return registration["id"]!.GetValue<string>();
    }

    /// <summary>Registers, submits, has an operator approve, and activates a connector of <paramref name="agency"/>.</summary>
    private async Task<string> ActiveAsync(HttpClient owner, string agency)
    {
        var id = await RegisterAsync(owner, agency);
        await OkAsync(await owner.PostAsync($"/api/connectors/{id}/lifecycle/submit?reason=ready", null));
        await OkAsync(await hub.Process.Client.PostAsync($"/api/connectors/{id}/lifecycle/approve?reason=reviewed", null));
        await OkAsync(await owner.PostAsync($"/api/connectors/{id}/lifecycle/activate?reason=go", null));
        return id;
    }

    /// <summary>
    /// Makes the connector active since <paramref name="ago"/> without a successful run, as if it had been failing since:
    /// the freshness rule judges a connector that never succeeded from when it became active.
    /// </summary>
    private async Task ActiveSinceAsync(string id, TimeSpan ago)
    {
        await using var command = hub.Db.CreateCommand("update connector set lifecycle_changed_at = now() - $2, created_at = now() - $2 where id = $1");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = ago });
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    private async Task<JsonElement> FreshnessAsync(HttpClient client, string id) =>
        (await OkAsync(await client.GetAsync("/api/connectors/freshness"))).EnumerateArray().Single(c => c.GetProperty("connectorId").GetString() == id);

    [Fact]
    public async Task A_late_connector_fires_one_late_alert_across_evaluations_then_one_failing_alert_and_each_is_resolved_once()
    {
        using var owner = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H56" });
        var id = await ActiveAsync(owner, "H56");
        Assert.Equal("never", (await FreshnessAsync(owner, id)).GetProperty("state").GetString());

        // Active for 130 s without success, every minute: the first run was due 70-130 s ago, so it is late.
        await ActiveSinceAsync(id, TimeSpan.FromSeconds(130));
        await WaitForAsync(id, p => p.Any(a => a.Alert == "connector-late"), TimeSpan.FromSeconds(30));
        await Task.Delay(4 * Evaluation);
        var posts = PostsFor(id);
        Assert.Single(posts, a => a.Alert == "connector-late");
        Assert.DoesNotContain(posts, a => a.Resolved);
        var freshness = await FreshnessAsync(owner, id);
        Assert.Contains(freshness.GetProperty("state").GetString(), new[] { "late", "failing" });
        Assert.Equal("00:01:00", freshness.GetProperty("interval").GetString());
        Assert.Contains("no successful run since it became active", freshness.GetProperty("why").GetString(), StringComparison.Ordinal);

        // Ten minutes: failing. One failing alert, and still the one late alert.
        await ActiveSinceAsync(id, TimeSpan.FromMinutes(10));
        await WaitForAsync(id, p => p.Any(a => a.Alert == "connector-failing"), TimeSpan.FromSeconds(30));
        await Task.Delay(4 * Evaluation);
        posts = PostsFor(id);
        Assert.Single(posts, a => a.Alert == "connector-late");
        var failing = Assert.Single(posts, a => a.Alert == "connector-failing");
        Assert.Equal("failing", failing.State);
        Assert.Contains(id, failing.Message, StringComparison.Ordinal);
        Assert.Equal("failing", (await FreshnessAsync(owner, id)).GetProperty("state").GetString());

        // Paused: no longer late nor failing (each resolved once), but a scheduled connector left paused.
        await OkAsync(await owner.PostAsync($"/api/connectors/{id}/lifecycle/pause?reason=source+down", null));
        await WaitForAsync(id, p => p.Count(a => a.Resolved) == 2 && p.Any(a => a.Alert == "connector-disabled"), TimeSpan.FromSeconds(30));
        await Task.Delay(4 * Evaluation);
        posts = PostsFor(id);
        Assert.Single(posts, a => a.Alert == "connector-late" && a.Resolved);
        Assert.Single(posts, a => a.Alert == "connector-failing" && a.Resolved);
        Assert.Single(posts, a => a.Alert == "connector-disabled" && !a.Resolved);
        Assert.Equal(5, posts.Count);
    }

    [Fact]
    public async Task No_alert_arrives_for_a_connector_inside_its_maintenance_window_and_it_fires_once_the_window_is_cancelled()
    {
        using var owner = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H58" });
        var id = await ActiveAsync(owner, "H58");
        var now = DateTimeOffset.UtcNow;
        var window = await OkAsync(await owner.PostAsJsonAsync($"/api/connectors/{id}/maintenance",
            new { from = now.AddMinutes(-1), to = now.AddHours(1), reason = "server move" }), HttpStatusCode.Created);
        var windowId = window.GetProperty("id").GetInt64();
        Assert.Equal(windowId, Assert.Single((await OkAsync(await owner.GetAsync($"/api/connectors/{id}/maintenance"))).EnumerateArray()).GetProperty("id").GetInt64());

        await ActiveSinceAsync(id, TimeSpan.FromMinutes(10));
        var freshness = await FreshnessAsync(owner, id);
        Assert.Equal("failing", freshness.GetProperty("state").GetString());
        Assert.True(freshness.GetProperty("inMaintenance").GetBoolean());
        await Task.Delay(5 * Evaluation);
        Assert.Empty(PostsFor(id));

        // A window needs its reason to be cancelled; cancelled, the condition that persists fires.
        await OkAsync(await owner.DeleteAsync($"/api/connectors/{id}/maintenance/{windowId}"), HttpStatusCode.BadRequest);
        await OkAsync(await owner.DeleteAsync($"/api/connectors/{id}/maintenance/{windowId}?reason=move+done"), HttpStatusCode.NoContent);
        Assert.Empty((await OkAsync(await owner.GetAsync($"/api/connectors/{id}/maintenance"))).EnumerateArray());
        var posts = await WaitForAsync(id, p => p.Any(a => a.Alert == "connector-late") && p.Any(a => a.Alert == "connector-failing"), TimeSpan.FromSeconds(30));
        Assert.Equal(2, posts.Count);

        var entries = (await new ExchangeLog(hub.Db, TimeProvider.System).SearchAsync(
            new ExchangeSearch { Kind = ExchangeRecord.AdminKind, ConnectorId = id, Limit = 100 }, CancellationToken.None)).ToList();
        var scheduled = Assert.Single(entries, e => e.Action == "maintenance.scheduled");
        Assert.Equal("server move", scheduled.Reason);
        var cancelled = Assert.Single(entries, e => e.Action == "maintenance.cancelled");
        Assert.Equal("move done", cancelled.Reason);
        Assert.Equal(scheduled.Actor, cancelled.Actor);
        Assert.StartsWith("alerts-", scheduled.Actor, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_post_the_receiver_refuses_is_retried_until_taken_and_the_alert_is_not_fired_again()
    {
        using var owner = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H62" });
        var id = await ActiveAsync(owner, "H62");
        // Five refusals: more than one evaluation's attempts (the first and 3 retries), so the next evaluation delivers it.
        var key = id + "/connector-late";
        hub.RefuseFirst[key] = 5;

        await ActiveSinceAsync(id, TimeSpan.FromSeconds(130));
        await WaitForAsync(id, p => p.Any(a => a.Alert == "connector-late"), TimeSpan.FromSeconds(60));
        await Task.Delay(4 * Evaluation);

        Assert.Single(PostsFor(id), a => a.Alert == "connector-late");
        Assert.Equal(6, hub.Refused[key]);
        await using var command = hub.Db.CreateCommand(
            "select delivered_at is not null, delivery_attempts, last_delivery_error from alert where rule = 'connector-late' and connector_id = $1");
        command.Parameters.Add(new() { Value = id });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.True(reader.GetBoolean(0));
        Assert.True(reader.GetInt32(1) == 2, $"attempts {reader.GetInt32(1)}, refused {hub.Refused[key]}, posts {JsonSerializer.Serialize(PostsFor(id))}");
        Assert.True(reader.IsDBNull(2));
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task A_bad_window_is_answered_400_naming_what_is_wrong()
    {
        using var owner = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H59" });
        var id = await RegisterAsync(owner, "H59");
        var now = DateTimeOffset.UtcNow;
        var problem = await OkAsync(await owner.PostAsJsonAsync($"/api/connectors/{id}/maintenance", new { from = now.AddHours(2), to = now.AddHours(1) }), HttpStatusCode.BadRequest);
        Assert.Contains("'to' must be after 'from'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("'reason' is required", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_province_admin_sees_only_its_agencies_freshness_and_cannot_reach_another_agencys_windows()
    {
        using var h60 = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H60" });
        using var h61 = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H61" });
        var own = await RegisterAsync(h61, "H61");
        var other = await RegisterAsync(h60, "H60");

        var seen = (await OkAsync(await h61.GetAsync("/api/connectors/freshness"))).EnumerateArray().ToList();
        Assert.All(seen, c => Assert.Equal("H61", c.GetProperty("agency").GetString()));
        var mine = Assert.Single(seen, c => c.GetProperty("connectorId").GetString() == own);
        Assert.Equal("disabled", mine.GetProperty("state").GetString());
        Assert.Equal("draft", mine.GetProperty("lifecycle").GetString());
        var all = (await OkAsync(await hub.Process.Client.GetAsync("/api/connectors/freshness"))).EnumerateArray().Select(c => c.GetProperty("connectorId").GetString()).ToList();
        Assert.Contains(own, all);
        Assert.Contains(other, all);

        var now = DateTimeOffset.UtcNow;
        var body = new { from = now, to = now.AddHours(1), reason = "not mine" };
        await OkAsync(await h61.PostAsJsonAsync($"/api/connectors/{other}/maintenance", body), HttpStatusCode.NotFound);
        await OkAsync(await h61.GetAsync($"/api/connectors/{other}/maintenance"), HttpStatusCode.NotFound);
        var window = await OkAsync(await h60.PostAsJsonAsync($"/api/connectors/{other}/maintenance", body), HttpStatusCode.Created);
        await OkAsync(await h61.DeleteAsync($"/api/connectors/{other}/maintenance/{window.GetProperty("id").GetInt64()}?reason=x"), HttpStatusCode.NotFound);
        Assert.Single((await OkAsync(await h60.GetAsync($"/api/connectors/{other}/maintenance"))).EnumerateArray());
    }
}
