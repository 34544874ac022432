using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Contracts;
using Hub.Core.Audit;
using Hub.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Hub.Tests.Subscribers;

/// <summary>
/// Subscriptions end to end in a real hub process: the store's changes go through the outbox and the bus to every
/// subscription whose filters they pass, and are posted, signed, to real webhook endpoints on loopback.
/// </summary>
public sealed class SubscriberDeliveryTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_failing_subscriber_holds_back_no_other_dead_letters_after_its_budget_and_is_replayed_from_the_list_to_success()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("subscribers_failing");
        var work = Directory.CreateTempSubdirectory("hub-subscribers-").FullName;
        try
        {
            await using var healthy = await WebhookSubscriber.StartAsync();
            await using var failing = await WebhookSubscriber.StartAsync();
            await using var province = await WebhookSubscriber.StartAsync();
            failing.Status = 503;
            await using var hub = HubProcess.Start(work, Settings(db));
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(90));
            var (operatorClient, operatorId) = await hub.PrincipalClientAsync("subs-operator", new { role = "operator" });

            await PutAsync(operatorClient, healthy.Registration("national-copy"));
            await PutAsync(operatorClient, failing.Registration("ministry",
                delivery: new { maxAttempts = 3, retryBaseDelay = "00:00:00.300", maxRetryDelay = "00:00:00.600", batchSize = 7 },
                // One post per attempt (no retries inside an attempt, no circuit), so the attempts can be counted at the endpoint.
                resilience: new { maxRetries = 0, circuitMinimumThroughput = 100000 }));
            await PutAsync(operatorClient, province.Registration("h57-resolved",
                filter: new { agencies = new[] { "*.H57" }, statuses = new[] { 9, 10 } }));

            // 12 dossiers of H56 and 6 of H57, each received, processed and resolved, with a step per change.
            var batch = Workload();
            await Changes.Store(db).WriteAsync(batch, CancellationToken.None);
            var all = await StoredEventCountAsync(db);
            Assert.Equal(batch.Dossiers.Count + batch.Steps.Count, all);

            // The healthy subscriber gets every event while the failing one has delivered nothing.
            await WaitUntilAsync(() => Task.FromResult(healthy.EventIds.Count == all), Patience, "the healthy subscriber to get every event");
            var ministry = await SubscriptionAsync(operatorClient, "ministry");
            Assert.Equal(0, ministry.GetProperty("deliveries").GetProperty("delivered").GetInt64());
            Assert.NotEmpty(failing.Refused);
            Assert.Equal(all, (await SubscriptionAsync(operatorClient, "national-copy")).GetProperty("deliveries").GetProperty("delivered").GetInt64());

            // The filtered subscriber gets exactly the resolved H57 changes, and the steps of H57 dossiers resolved by the time they were routed.
            await WaitUntilAsync(async () => (await SubscriptionAsync(operatorClient, "h57-resolved")).GetProperty("deliveries").GetProperty("pending").GetInt64() == 0
                && province.Events.Count(e => e.Type == "dossier-status-changed") == 6, Patience, "the filtered subscriber's events");
            Assert.All(province.Events, e => Assert.Contains("H57", e.Type == "dossier-status-changed"
                ? e.Data.GetProperty("change").GetProperty("agencyCode").GetString()
                : e.Data.GetProperty("dossierCode").GetString(), StringComparison.Ordinal));
            Assert.All(province.Events.Where(e => e.Type == "dossier-status-changed"),
                e => Assert.Equal((int)NationalStatus.Resolved, e.Data.GetProperty("change").GetProperty("status").GetInt32()));

            // Past its budget, every event of the failing subscriber is in its dead-letter list, each tried three times.
            await WaitUntilAsync(async () => (await SubscriptionAsync(operatorClient, "ministry")).GetProperty("deliveries").GetProperty("dead").GetInt64() == all,
                Patience, "the failing subscriber's events to be dead-lettered");
            var dead = await DeliveriesAsync(operatorClient, "ministry", "dead");
            Assert.Equal(all, dead.Count);
            Assert.All(dead, d =>
            {
                Assert.Equal(3, d.GetProperty("attempts").GetInt32());
                Assert.Contains("HTTP 503", d.GetProperty("lastError").GetString(), StringComparison.Ordinal);
                Assert.Contains("attempt 3 of 3: dead-lettered", d.GetProperty("lastError").GetString(), StringComparison.Ordinal);
            });
            Assert.Equal(3 * all, failing.Refused.Sum());
            Assert.Empty(failing.Events);

            // Replayed from the list once the subscriber is back: every event arrives, and nothing is dead any more.
            failing.Status = 200;
            using (var replay = await operatorClient.PostAsync("/api/subscriptions/ministry/replay?reason=ministry%20endpoint%20repaired", null))
            {
                Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
                Assert.Equal(all, (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("replayed").GetInt32());
            }

            await WaitUntilAsync(async () => (await SubscriptionAsync(operatorClient, "ministry")).GetProperty("deliveries").GetProperty("delivered").GetInt64() == all,
                Patience, "the replayed events to be delivered");
            Assert.Equal(healthy.EventIds, failing.EventIds);
            Assert.Empty(await DeliveriesAsync(operatorClient, "ministry", "dead"));
            Assert.Empty(healthy.BadSignatures.Concat(failing.BadSignatures).Concat(province.BadSignatures));

            // What the subscribers got is the store's history and steps exactly.
            var changes = healthy.Events.Where(e => e.Type == "dossier-status-changed")
                .Select(e => e.Data.GetProperty("change").Deserialize<DossierChange>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!).ToList();
            Assert.Equal(batch.Dossiers.OrderBy(c => c.NativeId).ThenBy(c => c.EventTime), changes.OrderBy(c => c.NativeId).ThenBy(c => c.EventTime));

            // Every request and every reply is in the exchange log; the replay is there with who and why.
            var log = new ExchangeLog(db, TimeProvider.System);
            var sent = await log.SearchAsync(new ExchangeSearch { ConnectorId = "subscription:ministry", Limit = 1000 }, CancellationToken.None);
            Assert.Contains(sent, e => e.Direction == "outbound" && e.Outcome == "failed" && e.Action == "delivery.webhook");
            Assert.Contains(sent, e => e.Direction == "inbound" && e.Outcome == "rejected" && e.Action == "receipt.webhook");
            Assert.Contains(sent, e => e.Direction == "outbound" && e.Outcome == "done" && e.Action == "delivery.webhook");
            Assert.Contains(sent, e => e.Direction == "inbound" && e.Outcome == "stored" && e.Action == "receipt.webhook");
            var replayed = Assert.Single(sent, e => e.Action == "deliveries.replayed");
            Assert.Equal(operatorId, replayed.Actor);
            Assert.Equal("ministry endpoint repaired", replayed.Reason);
            var requests = failing.Refused.Count + failing.Accepted.Count;
            Assert.Equal(requests, sent.Count(e => e.Direction == "outbound"));
            Assert.Equal(requests, sent.Count(e => e.Direction == "inbound"));
            output.WriteLine($"{all} events; ministry: {failing.Refused.Count} refused posts, {failing.Accepted.Count} accepted after the replay");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task A_paused_subscription_collects_its_events_and_gets_them_once_active_again()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("subscribers_paused");
        var work = Directory.CreateTempSubdirectory("hub-subscribers-paused-").FullName;
        try
        {
            await using var subscriber = await WebhookSubscriber.StartAsync();
            await using var hub = HubProcess.Start(work, Settings(db));
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(90));
            var (operatorClient, _) = await hub.PrincipalClientAsync("subs-paused", new { role = "operator" });
            var paused = JsonSerializer.SerializeToNode(subscriber.Registration("paused"))!.AsObject();
            paused["active"] = false;
            await PutAsync(operatorClient, paused);

            var batch = Workload();
            await Changes.Store(db).WriteAsync(batch, CancellationToken.None);
            var all = await StoredEventCountAsync(db);
            await WaitUntilAsync(async () => (await SubscriptionAsync(operatorClient, "paused")).GetProperty("deliveries").GetProperty("pending").GetInt64() == all,
                Patience, "the paused subscription to collect every event");
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Empty(subscriber.Events);

            paused["active"] = true;
            await PutAsync(operatorClient, paused);
            await WaitUntilAsync(() => Task.FromResult(subscriber.EventIds.Count == all), Patience, "the resumed subscription's events");
            await subscriber.View.AssertEqualsStoreAsync(db);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task A_registration_with_mistakes_is_refused_with_every_problem_and_a_stored_secret_is_encrypted_and_never_shown()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("subscribers_registration");
        var work = Directory.CreateTempSubdirectory("hub-subscribers-reg-").FullName;
        try
        {
            await using var hub = HubProcess.Start(work, Settings(db));
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(90));
            var (operatorClient, _) = await hub.PrincipalClientAsync("subs-reg", new { role = "operator" });
            var (provinceAdmin, _) = await hub.PrincipalClientAsync("subs-h56", new { role = "province-admin", agency = "H56" });

            using (var bad = await operatorClient.PutAsJsonAsync("/api/subscriptions/bad", new
            {
                id = "bad",
                kind = "json-webhook",
                displayName = "Bad",
                configuration = new { url = "ftp://x", secret = "c2hvcnQ=" },
                filter = new { agencies = new[] { "*" }, statuses = new[] { 11 }, owners = new[] { "x" } },
                delivery = new { maxAttempts = 0 },
            }))
            {
                Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
                var fields = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray()
                    .Select(e => e.GetProperty("field").GetString()).ToList();
                Assert.Contains("kind", fields);
                Assert.Contains("filter.agencies[0]", fields);
                Assert.Contains("filter.statuses[0]", fields);
                Assert.Contains("filter.owners", fields);
            }

            using (var wrongSettings = await operatorClient.PutAsJsonAsync("/api/subscriptions/bad", new
            {
                id = "bad",
                kind = "signed-webhook",
                displayName = "Bad",
                configuration = new { url = "ftp://x", secret = "c2hvcnQ=" },
                delivery = new { maxAttempts = 0, batchSize = 5000 },
            }))
            {
                Assert.Equal(HttpStatusCode.UnprocessableEntity, wrongSettings.StatusCode);
                var body = await wrongSettings.Content.ReadAsStringAsync();
                Assert.Contains("configuration.url", body, StringComparison.Ordinal);
                Assert.Contains("configuration.secret", body, StringComparison.Ordinal);
                Assert.DoesNotContain("c2hvcnQ=", body, StringComparison.Ordinal);
            }

            using (var wrongDelivery = await operatorClient.PutAsJsonAsync("/api/subscriptions/bad", new
            {
                id = "bad",
                kind = "signed-webhook",
                displayName = "Bad",
                configuration = new { url = "http://127.0.0.1:9/events", secret = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) },
                delivery = new { maxAttempts = 0, batchSize = 5000 },
            }))
            {
                Assert.Equal(HttpStatusCode.UnprocessableEntity, wrongDelivery.StatusCode);
                var fields = (await wrongDelivery.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray()
                    .Select(e => e.GetProperty("field").GetString()).ToList();
                Assert.Equal(["delivery.maxAttempts", "delivery.batchSize"], fields);
            }

            Assert.Equal(0L, await ScalarAsync(db, "select count(*) from subscription"));

            await using var subscriber = await WebhookSubscriber.StartAsync();
            using (var created = await operatorClient.PutAsJsonAsync("/api/subscriptions/copy", subscriber.Registration("copy")))
            {
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                Assert.DoesNotContain(subscriber.Secret, await created.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            using (var again = await operatorClient.PutAsJsonAsync("/api/subscriptions/copy", subscriber.Registration("copy")))
            {
                Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            }

            // Stored encrypted; the same registration again changes nothing and is logged once.
            var stored = (string)(await ScalarObjectAsync(db, "select configuration from subscription where id = 'copy'"))!;
            Assert.DoesNotContain(subscriber.Secret, stored, StringComparison.Ordinal);
            Assert.Contains("$protected", stored, StringComparison.Ordinal);
            Assert.Equal(1L, await ScalarAsync(db, "select count(*) from exchange_entry where connector_id = 'subscription:copy' and action like 'subscription.%'"));
            Assert.DoesNotContain(subscriber.Secret, await operatorClient.GetStringAsync("/api/subscriptions"), StringComparison.Ordinal);

            // Only operators maintain subscriptions.
            using (var refused = await provinceAdmin.PutAsJsonAsync("/api/subscriptions/mine", subscriber.Registration("mine")))
            {
                Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            }

            using var path = await operatorClient.PutAsJsonAsync("/api/subscriptions/other", subscriber.Registration("copy"));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, path.StatusCode);
            using var unknown = await operatorClient.GetAsync("/api/subscriptions/none/deliveries");
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            using var badStatus = await operatorClient.GetAsync("/api/subscriptions/copy/deliveries?status=lost");
            Assert.Equal(HttpStatusCode.BadRequest, badStatus.StatusCode);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    internal static Dictionary<string, string> Settings(NpgsqlDataSource db) => new()
    {
        ["ConnectionStrings__Hub"] = db.ConnectionString,
        ["Hub__Bus__DispatchInterval"] = "00:00:00.200",
        ["Hub__Subscriptions__DeliveryInterval"] = "00:00:00.200",
        ["Hub__Subscriptions__RefreshInterval"] = "00:00:00",
        ["Hub__Audit__SealInterval"] = "01:00:00",
    };

    internal static ChangeBatch Workload()
    {
        var changes = new List<DossierChange>();
        var steps = new List<DossierStep>();
        for (var d = 0; d < 18; d++)
        {
            var province = d < 12 ? "H56" : "H57";
            var id = $"{province}-{d:00}";
            NationalStatus[] path = [NationalStatus.Received, NationalStatus.Processing, NationalStatus.Resolved];
            for (var i = 0; i < path.Length; i++)
            {
                changes.Add(Changes.Change("sim", id, (d * 10) + i, path[i]) with { AgencyCode = $"000.00.15.{province}", DossierCode = $"000.00.15.{province}-{id}" });
                steps.Add(Changes.Step("sim", id, (d * 10) + i, path[i], $"Step {i}"));
            }
        }

        return new ChangeBatch { Dossiers = changes, Steps = steps };
    }

    internal static async Task PutAsync(HttpClient client, object registration)
    {
        var id = JsonSerializer.SerializeToElement(registration).GetProperty("id").GetString();
        using var response = await client.PutAsJsonAsync($"/api/subscriptions/{id}?reason=test", registration);
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    internal static async Task<JsonElement> SubscriptionAsync(HttpClient client, string id) =>
        await client.GetFromJsonAsync<JsonElement>($"/api/subscriptions/{id}");

    internal static async Task<List<JsonElement>> DeliveriesAsync(HttpClient client, string id, string status) =>
        [.. (await client.GetFromJsonAsync<JsonElement>($"/api/subscriptions/{id}/deliveries?status={status}&limit=500")).EnumerateArray()];

    internal static async Task<long> StoredEventCountAsync(NpgsqlDataSource db) =>
        await ScalarAsync(db, "select (select count(*) from dossier_change) + (select count(*) from dossier_step)");

    internal static async Task<long> ScalarAsync(NpgsqlDataSource db, string sql) => (long)(await ScalarObjectAsync(db, sql))!;

    private static async Task<object?> ScalarObjectAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        return await command.ExecuteScalarAsync();
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {timeout} for {what}.");
            }

            await Task.Delay(100);
        }
    }
}
