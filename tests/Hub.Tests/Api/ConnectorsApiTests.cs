using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hub.Tests.Webhook;
using static Hub.Tests.Webhook.Batches;

namespace Hub.Tests.Api;

/// <summary>What operators read of connectors over HTTP: the list, runs and the quarantine, never secrets or payloads.</summary>
[Collection(WebhookHubCollection.Name)]
public class ConnectorsApiTests(WebhookHub hub)
{
    [Fact]
    public async Task Operators_see_connectors_their_runs_and_quarantined_records_with_reasons_but_no_secret_or_payload()
    {
        var connector = await hub.RegisterAsync("ops-view");
        const string owner = "Trần Thị Quarantine";
        using (var delivery = await hub.PostSignedAsync(connector.Id, connector.Key,
            Body([Dossier(connector.Id, "v1", 0, "2", owner), Dossier(connector.Id, "v2", 1, "77", owner)])))
        {
            Assert.Equal(HttpStatusCode.OK, delivery.StatusCode);
        }

        var listText = await hub.Process.Client.GetStringAsync("/api/connectors");
        var runs = await hub.Process.Client.GetFromJsonAsync<JsonElement>($"/api/connectors/{connector.Id}/runs");
        var quarantineText = await hub.Process.Client.GetStringAsync($"/api/connectors/{connector.Id}/quarantine");
        using var unknown = await hub.Process.Client.GetAsync("/api/connectors/no-such-connector/quarantine");

        var listed = JsonDocument.Parse(listText).RootElement.EnumerateArray().Single(c => c.GetProperty("id").GetString() == connector.Id);
        Assert.Equal("json-webhook", listed.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Array, runs.ValueKind);
        Assert.Equal(0, runs.GetArrayLength());
        var quarantined = Assert.Single(JsonDocument.Parse(quarantineText).RootElement.EnumerateArray());
        Assert.StartsWith("unmapped code 77", quarantined.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(owner, quarantineText, StringComparison.Ordinal);
        foreach (var text in new[] { listText, quarantineText })
        {
            Assert.DoesNotContain(Convert.ToBase64String(connector.Key), text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexString(connector.Key), text, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("no-such-connector", Encoding.UTF8.GetString(await unknown.Content.ReadAsByteArrayAsync()), StringComparison.Ordinal);
    }
}
