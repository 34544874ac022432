using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Tests.Audit;
using static Hub.Tests.Webhook.Batches;

namespace Hub.Tests.Webhook;

/// <summary>
/// Deliveries the hub refuses, over real HTTP to the real hub process: each with its status and a problem saying
/// what, where and why, nothing stored, a warning in the hub's log that holds neither the body nor the secret, and a
/// rejected entry in the exchange log with the reason and the body exactly as sent.
/// </summary>
[Collection(WebhookHubCollection.Name)]
public class WebhookRejectionTests(WebhookHub hub)
{
    public static TheoryData<string, string, string> NotAuthentic => new()
    {
        { "wrong-signature", "Unauthenticated", "signature does not match" },
        { "other-secret", "Unauthenticated", "signature does not match" },
        { "tampered-body", "Unauthenticated", "signature does not match" },
        { "missing-signature", "Unauthenticated", "the X-Hub-Signature header is missing" },
        { "malformed-signature", "Unauthenticated", "must be 'sha256=' followed by the 64 hex digits" },
        { "missing-timestamp", "Unauthenticated", "the X-Hub-Timestamp header is missing" },
        { "timestamp-not-seconds", "Unauthenticated", "must be the signing time in Unix seconds" },
        { "stale-timestamp", "Replay", "s in the past, beyond the connector's tolerance of 300 s" },
        { "future-timestamp", "Replay", "s in the future, beyond the connector's tolerance of 300 s" },
    };

    [Theory]
    [MemberData(nameof(NotAuthentic))]
    public async Task A_delivery_that_is_not_authentic_or_not_fresh_is_refused_with_401_and_stores_nothing(string @case, string rejection, string why)
    {
        var connector = await hub.RegisterAsync(@case);
        var owner = Owner();
        var body = Body([Dossier(connector.Id, "x1", 0, "2", owner)], [Step("x1", 1, "received")]);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var ts = (@case switch
        {
            "stale-timestamp" => now - 600,
            "future-timestamp" => now + 600,
            _ => now,
        }).ToString(CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>
        {
            ["X-Hub-Timestamp"] = ts,
            ["X-Hub-Signature"] = WebhookHub.Sign(connector.Key, ts, body),
        };
        var sent = body;
        switch (@case)
        {
            case "wrong-signature":
                headers["X-Hub-Signature"] = "sha256=" + Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
                break;
            case "other-secret":
                headers["X-Hub-Signature"] = WebhookHub.Sign(RandomNumberGenerator.GetBytes(32), ts, body);
                break;
            case "tampered-body":
                // The status of the signed record is changed on the way: 2 becomes 9.
                sent = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("\"s\":\"2\"", "\"s\":\"9\"", StringComparison.Ordinal));
                Assert.NotEqual(body, sent);
                break;
            case "missing-signature":
                headers.Remove("X-Hub-Signature");
                break;
            case "malformed-signature":
                headers["X-Hub-Signature"] = "sha1=" + Convert.ToHexString(SHA1.HashData(body));
                break;
            case "missing-timestamp":
                headers.Remove("X-Hub-Timestamp");
                break;
            case "timestamp-not-seconds":
                headers["X-Hub-Timestamp"] = DateTimeOffset.UtcNow.ToString("O");
                break;
        }

        using var response = await hub.PostAsync(connector.Id, sent, headers);

        await AssertRefusedAsync(connector, response, HttpStatusCode.Unauthorized, rejection, why, owner, sent);
        Assert.Equal(StoredCounts.Nothing, await hub.CountsAsync(connector));
        Assert.Contains("HMAC-SHA256", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_exact_replay_inside_the_window_is_refused_and_stores_nothing_more()
    {
        var connector = await hub.RegisterAsync("replay");
        var owner = Owner();
        var body = Body([Dossier(connector.Id, "p1", 0, "2", owner), Dossier(connector.Id, "p1", 5, "4", owner)]);
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string> { ["X-Hub-Timestamp"] = ts, ["X-Hub-Signature"] = WebhookHub.Sign(connector.Key, ts, body) };

        using var first = await hub.PostAsync(connector.Id, body, headers);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var afterFirst = await hub.CountsAsync(connector);
        Assert.Equal(new StoredCounts(History: 2, Dossiers: 1, Steps: 0, Quarantined: 0, Deliveries: 1), afterFirst);

        using var replay = await hub.PostAsync(connector.Id, body, headers);

        await AssertRefusedAsync(connector, replay, HttpStatusCode.Unauthorized, "Replay", "a delivery with the same timestamp and body was already accepted", owner, body);
        Assert.Equal(afterFirst, await hub.CountsAsync(connector));

        // The first copy is logged as stored, the replay as rejected, both with the same bytes; the log verifies.
        var entries = (await LogCheck.EntriesAsync(hub.Db, connector.Id)).Where(e => e.Kind == "message").ToList();
        Assert.Equal(["stored", "rejected"], entries.Select(e => e.Outcome));
        Assert.All(entries, e => Assert.Equal(LogCheck.Digest(body), LogCheck.Digest(e)));
        Assert.Equal([$"{connector.Id}-p1"], entries[0].Dossiers);
        await LogCheck.SealAndVerifyAsync(hub.Process.Client, hub.Db);
    }

    [Fact]
    public async Task Copies_of_one_delivery_sent_at_the_same_time_are_accepted_once()
    {
        var connector = await hub.RegisterAsync("race");
        var body = Body([.. Enumerable.Range(0, 200).Select(i => Dossier(connector.Id, $"c{i}", i, "2", Owner()))]);
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string> { ["X-Hub-Timestamp"] = ts, ["X-Hub-Signature"] = WebhookHub.Sign(connector.Key, ts, body) };

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => hub.PostAsync(connector.Id, body, headers)));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized));
        foreach (var response in responses.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Replay", problem.GetProperty("rejection").GetString());
        }

        Assert.Equal(new StoredCounts(History: 200, Dossiers: 200, Steps: 0, Quarantined: 0, Deliveries: 1), await hub.CountsAsync(connector));
        var entries = await LogCheck.EntriesAsync(hub.Db, connector.Id);
        Assert.Equal(1, entries.Count(e => e.Outcome == "stored"));
        Assert.Equal(5, entries.Count(e => e.Outcome == "rejected" && e.Reason!.StartsWith("a delivery with the same timestamp and body", StringComparison.Ordinal)));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    public static TheoryData<string, string, string> NotReadable => new()
    {
        { "not-json", """{"dossiers": [{"owner": "{owner}", "id": """, "not valid UTF-8 JSON: error at line 1, byte" },
        { "not-an-object", """[{"owner": "{owner}"}]""", "the body must be a JSON object {\"dossiers\": [...], \"steps\": [...]}, not an array" },
        { "list-not-an-array", """{"dossiers": {"owner": "{owner}"}}""", "'dossiers' must be an array, not an object" },
        { "unknown-list", """{"records": [{"owner": "{owner}"}]}""", "the body has a property 'records'; only 'dossiers' and 'steps' are read" },
        { "no-list", """{}""", "the body has neither 'dossiers' nor 'steps'" },
    };

    [Theory]
    [MemberData(nameof(NotReadable))]
    public async Task A_signed_body_that_is_not_a_batch_is_refused_with_400_saying_what_and_where(string @case, string text, string why)
    {
        var connector = await hub.RegisterAsync(@case);
        var owner = Owner();

        var sent = Encoding.UTF8.GetBytes(text.Replace("{owner}", owner, StringComparison.Ordinal));
        using var response = await hub.PostSignedAsync(connector.Id, connector.Key, sent);

        await AssertRefusedAsync(connector, response, HttpStatusCode.BadRequest, "Malformed", why, owner, sent);
        Assert.Equal(StoredCounts.Nothing, await hub.CountsAsync(connector));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_larger_than_maxBodyBytes_is_refused_with_413(bool chunked)
    {
        var connector = await hub.RegisterAsync(chunked ? "large-chunked" : "large", c => c["maxBodyBytes"] = 2048);
        var owner = Owner();
        var body = Body([.. Enumerable.Range(0, 40).Select(i => Dossier(connector.Id, $"l{i}", i, "2", owner))]);
        Assert.True(body.Length > 2048);

        using var response = await hub.PostSignedAsync(connector.Id, connector.Key, body, chunked: chunked);

        await AssertRefusedAsync(connector, response, HttpStatusCode.RequestEntityTooLarge, "TooLarge", "larger than the connector's maxBodyBytes (2048 bytes)", owner, null);
        Assert.Equal(StoredCounts.Nothing, await hub.CountsAsync(connector));

        // The limit is the connector's: a body under it is read whole.
        using var small = await hub.PostSignedAsync(connector.Id, connector.Key, Body([Dossier(connector.Id, "s1", 0, "2", owner)]), chunked: chunked);
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        var reply = await small.Content.ReadAsStringAsync();
        Assert.Equal(1, JsonDocument.Parse(reply).RootElement.GetProperty("stored").GetInt32());
        Assert.Equal(new StoredCounts(History: 1, Dossiers: 1, Steps: 0, Quarantined: 0, Deliveries: 1), await hub.CountsAsync(connector));
    }

    [Fact]
    public async Task A_delivery_to_an_unknown_connector_or_to_a_connector_that_is_not_a_webhook_answers_404()
    {
        var restPull = $"rest-{Guid.NewGuid():N}"[..20];
        await hub.Catalog.SaveAsync(new Core.Sync.ConnectorRegistration
        {
            Id = restPull,
            Kind = "rest-pull",
            SourceSystem = "sys-" + restPull,
            DisplayName = "pulled, not pushed",
            Configuration = JsonSerializer.SerializeToElement(new { baseUrl = "https://example.invalid", path = "/x", itemsPath = "items", paging = new { type = "offsetLimit" } }),
            Mapping = WebhookHub.Mapping(),
        }, CancellationToken.None);
        var body = Body([Dossier("unknown", "u1", 0, "2", Owner())]);

        foreach (var id in new[] { "no-such-connector", restPull })
        {
            using var response = await hub.PostSignedAsync(id, RandomNumberGenerator.GetBytes(32), body);

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Webhook connector not found", problem.GetProperty("title").GetString());
            Assert.Contains($"'{id}'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

            var entry = (await LogCheck.EntriesAsync(hub.Db, id)).Last();
            Assert.Equal(("rejected", "no json-webhook connector is registered with this id"), (entry.Outcome, entry.Reason));
            Assert.Equal(body, await LogCheck.PayloadAsync(hub.Db, entry));
        }
    }

    [Fact]
    public async Task A_paused_connector_answers_503_with_Retry_After_and_stores_nothing()
    {
        var connector = await hub.RegisterAsync("paused", active: false);

        var body = Body([Dossier(connector.Id, "z1", 0, "2", Owner())]);
        using var response = await hub.PostSignedAsync(connector.Id, connector.Key, body);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var entry = Assert.Single(await LogCheck.EntriesAsync(hub.Db, connector.Id), e => e.Kind == "message");
        Assert.Equal(("rejected", "the connector is paused"), (entry.Outcome, entry.Reason));
        Assert.Equal(body, await LogCheck.PayloadAsync(hub.Db, entry));
        Assert.Equal(TimeSpan.FromMinutes(5), response.Headers.RetryAfter?.Delta);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("is paused", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(StoredCounts.Nothing, await hub.CountsAsync(connector));
    }

    [Fact]
    public async Task A_connector_whose_configuration_is_unusable_answers_500_and_logs_its_problems_without_the_secret()
    {
        var weak = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var connector = await hub.RegisterAsync("weak-secret", c => c["secret"] = weak);

        using var response = await hub.PostSignedAsync(connector.Id, Convert.FromBase64String(weak), Body([Dossier(connector.Id, "w1", 0, "2", Owner())]));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Connector misconfigured", problem.GetProperty("title").GetString());
        var logged = Assert.Single(await LogCheck.EntriesAsync(hub.Db, connector.Id), e => e.Kind == "message");
        Assert.Equal("rejected", logged.Outcome);
        Assert.StartsWith("the connector's configuration or mapping is unusable: ", logged.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(weak, logged.Reason, StringComparison.Ordinal);
        var entry = await hub.LogEntryAsync($"Connector {connector.Id}: webhook delivery refused, the connector is misconfigured");
        Assert.StartsWith("fail: Hub.Worker.Api.WebhookApi", entry, StringComparison.Ordinal);
        Assert.Contains("secret: must decode to at least 32 bytes (it decodes to 16)", entry, StringComparison.Ordinal);
        Assert.DoesNotContain(weak, hub.Process.Output, StringComparison.Ordinal);
        Assert.Equal(StoredCounts.Nothing, await hub.CountsAsync(connector));
    }

    private async Task AssertRefusedAsync(
        TestConnector connector, HttpResponseMessage response, HttpStatusCode status, string rejection, string why, string owner, byte[]? sent)
    {
        // Logged as rejected, with the reason and the body as sent (none when it was too large to read).
        var logged = (await LogCheck.EntriesAsync(hub.Db, connector.Id)).Last(e => e.Kind == "message");
        Assert.Equal(("inbound", "json-webhook", "rejected"), (logged.Direction, logged.Transport, logged.Outcome));
        Assert.Contains(why, logged.Reason, StringComparison.Ordinal);
        using (var detail = JsonDocument.Parse(logged.Detail!))
        {
            Assert.Equal(rejection, detail.RootElement.GetProperty("rejection").GetString());
            Assert.Equal((int)status, detail.RootElement.GetProperty("status").GetInt32());
        }

        if (sent is null)
        {
            Assert.Null(logged.PayloadSha256);
        }
        else
        {
            Assert.Equal(sent, await LogCheck.PayloadAsync(hub.Db, logged));
        }

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(rejection, (string?)problem["rejection"]);
        Assert.Equal(connector.Id, (string?)problem["connectorId"]);
        Assert.Contains(why, (string?)problem["detail"], StringComparison.Ordinal);

        var entry = await hub.LogEntryAsync($"Connector {connector.Id}: webhook delivery refused ({rejection}) from 127.0.0.1: ");
        Assert.StartsWith("warn: Hub.Worker.Api.WebhookApi", entry, StringComparison.Ordinal);
        Assert.Contains(why, entry, StringComparison.Ordinal);

        var output = hub.Process.Output;
        Assert.DoesNotContain(owner, output, StringComparison.Ordinal);
        Assert.DoesNotContain(connector.Secret, output, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(connector.Key), output, StringComparison.OrdinalIgnoreCase);
    }
}
