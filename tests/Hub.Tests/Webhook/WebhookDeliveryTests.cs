using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Core.Audit;
using Hub.Core.Sync;
using Hub.Tests.Audit;
using static Hub.Tests.Webhook.Batches;

namespace Hub.Tests.Webhook;

/// <summary>Deliveries the hub accepts, over real HTTP to the real hub process.</summary>
[Collection(WebhookHubCollection.Name)]
public class WebhookDeliveryTests(WebhookHub hub)
{
    [Fact]
    public async Task A_signed_batch_to_a_connector_registered_from_a_file_is_stored_and_counted_and_a_re_signed_retry_stores_nothing_twice()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var owner = Owner();
        var body = Body(
            [Dossier(tag, "a", 0, "2", owner), Dossier(tag, "a", 10, "4", owner), Dossier(tag, "b", 0, "2", owner)],
            [Step("a", 5, "received at the one-stop desk")]);
        var signedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        using var response = await hub.PostSignedAsync(WebhookHub.FileConnectorId, WebhookHub.FileKey, body, signedAt);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(4, reply.GetProperty("received").GetInt32());
        Assert.Equal(3, reply.GetProperty("stored").GetInt32());
        Assert.Equal(0, reply.GetProperty("unchanged").GetInt32());
        Assert.Equal(1, reply.GetProperty("stepsStored").GetInt32());
        Assert.Equal(0, reply.GetProperty("quarantined").GetArrayLength());

        // In the store, read back through the hub's own API.
        using var stored = await hub.Process.Client.GetAsync($"/api/dossiers/{tag}-a");
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        var dossier = JsonDocument.Parse(await stored.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(WebhookHub.FileSourceSystem, dossier.GetProperty("key").GetProperty("sourceSystem").GetString());
        Assert.Equal(4, dossier.GetProperty("current").GetProperty("status").GetInt32());
        Assert.Equal(2, dossier.GetProperty("history").GetArrayLength());
        Assert.Equal("received at the one-stop desk", Assert.Single(dossier.GetProperty("steps").EnumerateArray()).GetProperty("action").GetString());
        Assert.Equal(HttpStatusCode.OK, (await hub.Process.Client.GetAsync($"/api/dossiers/{tag}-b")).StatusCode);

        // The sender did not get the reply and sends the batch again, signed again: accepted, and nothing is stored twice.
        using var retry = await hub.PostSignedAsync(WebhookHub.FileConnectorId, WebhookHub.FileKey, body, signedAt + 1);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        var again = JsonDocument.Parse(await retry.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(4, again.GetProperty("received").GetInt32());
        Assert.Equal(0, again.GetProperty("stored").GetInt32());
        Assert.Equal(3, again.GetProperty("unchanged").GetInt32());
        Assert.Equal(0, again.GetProperty("stepsStored").GetInt32());

        await hub.LogEntryAsync($"Connector {WebhookHub.FileConnectorId}: webhook delivery accepted: 4 records, 3 changes stored");
        Assert.DoesNotContain(owner, hub.Process.Output, StringComparison.Ordinal);

        // Both deliveries are in the exchange log with the body as sent, the dossiers they touched and what was stored.
        var entries = await LogCheck.EntriesAsync(hub.Db, new ExchangeSearch { Dossier = $"{tag}-a" });
        Assert.Equal(2, entries.Count);
        Assert.All(entries, e =>
        {
            Assert.Equal(("message", "inbound", "json-webhook", "stored"), (e.Kind, e.Direction, e.Transport, e.Outcome));
            Assert.Equal((WebhookHub.FileConnectorId, "webhook-test/1"), (e.ConnectorId, e.MappingVersion));
            Assert.Equal([$"{tag}-a", $"{tag}-b"], e.Dossiers);
            Assert.Equal("application/json", e.ContentType);
        });
        Assert.Equal(body, await LogCheck.PayloadAsync(hub.Db, entries[0]));
        Assert.Equal([3, 0], entries.Select(e => JsonDocument.Parse(e.Detail!).RootElement.GetProperty("changesStored").GetInt32()));
        await LogCheck.SealAndVerifyAsync(hub.Process.Client, hub.Db);
    }

    [Fact]
    public async Task The_curl_and_openssl_example_of_the_README_delivers_a_batch()
    {
        var connector = await hub.RegisterAsync("readme");
        var work = Directory.CreateTempSubdirectory("hub-webhook-readme-");
        try
        {
            // Pretty-printed, with line breaks: the signature covers the file's exact bytes.
            var batch = Path.Combine(work.FullName, "batch.json");
            await File.WriteAllTextAsync(batch, JsonNode.Parse(Encoding.UTF8.GetString(Body([Dossier(connector.Id, "m1", 0, "4", Owner())])))!
                .ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            var script = string.Join('\n', WebhookReadme.Block("Sending a batch with curl and openssl", "sh")
                .Split('\n').Where(line => !line.StartsWith("SECRET=", StringComparison.Ordinal)));
            var start = new ProcessStartInfo("bash", ["-euo", "pipefail", "-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.Environment["SECRET"] = connector.Secret;
            start.Environment["URL"] = new Uri(hub.Process.BaseAddress, $"/api/connectors/{connector.Id}/webhook").AbsoluteUri;
            start.Environment["BODY"] = batch;
            using var bash = Process.Start(start)!;
            var output = await bash.StandardOutput.ReadToEndAsync();
            var errors = await bash.StandardError.ReadToEndAsync();
            await bash.WaitForExitAsync();

            Assert.True(bash.ExitCode == 0, errors);
            var reply = JsonDocument.Parse(output).RootElement;
            Assert.Equal(1, reply.GetProperty("stored").GetInt32());
            Assert.Equal(new StoredCounts(History: 1, Dossiers: 1, Steps: 0, Quarantined: 0, Deliveries: 1), await hub.CountsAsync(connector));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_bad_record_is_quarantined_with_its_reason_in_the_reply_while_the_others_are_stored()
    {
        var connector = await hub.RegisterAsync("quarantine");
        var owner = Owner();
        var body = Body(
            [Dossier(connector.Id, "q1", 0, "2", owner), Dossier(connector.Id, "q2", 0, "99", owner), Dossier(connector.Id, "q3", 0, "4", owner)],
            [Step("q1", 5, "checked"), new JsonObject { ["id"] = "q3", ["what"] = "a step without its time" }]);

        using var response = await hub.PostSignedAsync(connector.Id, connector.Key, body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(5, reply.GetProperty("received").GetInt32());
        Assert.Equal(2, reply.GetProperty("stored").GetInt32());
        Assert.Equal(1, reply.GetProperty("stepsStored").GetInt32());
        var quarantined = reply.GetProperty("quarantined").EnumerateArray().ToList();
        Assert.Equal(2, quarantined.Count);
        Assert.Equal("dossiers", quarantined[0].GetProperty("list").GetString());
        Assert.Equal(1, quarantined[0].GetProperty("index").GetInt32());
        Assert.StartsWith("unmapped code 99", quarantined[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("steps", quarantined[1].GetProperty("list").GetString());
        Assert.Equal(1, quarantined[1].GetProperty("index").GetInt32());
        Assert.Contains("StepTime", quarantined[1].GetProperty("reason").GetString(), StringComparison.Ordinal);

        Assert.Equal(new StoredCounts(History: 2, Dossiers: 2, Steps: 1, Quarantined: 2, Deliveries: 1), await hub.CountsAsync(connector));
        var kept = await new SyncLedger(hub.Db, TimeProvider.System).ListQuarantineAsync(connector.Id, openOnly: true, 0, 10, CancellationToken.None);
        Assert.Contains(kept, q => q.Kind == "dossier" && q.Reason.StartsWith("unmapped code 99", StringComparison.Ordinal) && q.Payload.Contains("\"q2\"", StringComparison.Ordinal));
        Assert.Contains(kept, q => q.Kind == "step" && q.Reason.Contains("StepTime", StringComparison.Ordinal));
    }

    [Fact]
    public async Task During_a_rotation_deliveries_signed_with_the_previous_secret_are_accepted_as_well_as_the_new_one()
    {
        var old = RandomNumberGenerator.GetBytes(32);
        var connector = await hub.RegisterAsync("rotation", c => c["previousSecret"] = Convert.ToBase64String(old));
        var owner = Owner();

        using var withOld = await hub.PostSignedAsync(connector.Id, old, Body([Dossier(connector.Id, "r1", 0, "2", owner)]));
        using var withNew = await hub.PostSignedAsync(connector.Id, connector.Key, Body([Dossier(connector.Id, "r2", 0, "2", owner)]));
        using var withOther = await hub.PostSignedAsync(connector.Id, RandomNumberGenerator.GetBytes(32), Body([Dossier(connector.Id, "r3", 0, "2", owner)]));

        Assert.Equal(HttpStatusCode.OK, withOld.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withNew.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withOther.StatusCode);
        Assert.Equal(new StoredCounts(History: 2, Dossiers: 2, Steps: 0, Quarantined: 0, Deliveries: 2), await hub.CountsAsync(connector));
        Assert.DoesNotContain(Convert.ToBase64String(old), hub.Process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deliveries_signed_longer_ago_than_the_tolerance_are_forgotten_when_a_new_one_arrives()
    {
        var connector = await hub.RegisterAsync("forget");
        var now = DateTimeOffset.UtcNow;
        var expired = RandomNumberGenerator.GetBytes(32);
        var recent = RandomNumberGenerator.GetBytes(32);
        await using (var insert = hub.Db.CreateCommand("insert into webhook_delivery values ($1, $2, $3, $3), ($1, $4, $5, $5)"))
        {
            insert.Parameters.Add(new() { Value = connector.Id });
            insert.Parameters.Add(new() { Value = expired });
            insert.Parameters.Add(new() { Value = now.AddHours(-2) });
            insert.Parameters.Add(new() { Value = recent });
            insert.Parameters.Add(new() { Value = now.AddMinutes(-4) });
            await insert.ExecuteNonQueryAsync();
        }

        using var response = await hub.PostSignedAsync(connector.Id, connector.Key, Body([Dossier(connector.Id, "f1", 0, "2", Owner())]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var select = hub.Db.CreateCommand("select digest from webhook_delivery where connector_id = $1");
        select.Parameters.Add(new() { Value = connector.Id });
        var digests = new List<byte[]>();
        await using (var reader = await select.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                digests.Add((byte[])reader[0]);
            }
        }

        Assert.Equal(2, digests.Count);
        Assert.DoesNotContain(digests, d => d.AsSpan().SequenceEqual(expired));
        Assert.Contains(digests, d => d.AsSpan().SequenceEqual(recent));
    }
}
