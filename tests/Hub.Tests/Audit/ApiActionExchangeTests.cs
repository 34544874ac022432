using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Tests.Webhook;

namespace Hub.Tests.Audit;

/// <summary>Operators' actions through the API ("sync now", re-processing) are admin entries with who asked and why.</summary>
[Collection(WebhookHubCollection.Name)]
public class ApiActionExchangeTests(WebhookHub hub)
{
    [Theory]
    [InlineData("sync", "sync.requested")]
    [InlineData("quarantine/reprocess", "quarantine.reprocess-requested")]
    public async Task A_request_is_logged_with_the_actor_the_reason_and_the_job_and_the_reply_names_the_entry(string route, string action)
    {
        var connector = await hub.RegisterAsync("api-" + route.Split('/')[0]);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/connectors/{connector.Id}/{route}?reason=province%20asked%20by%20phone");

        using var response = await hub.Process.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobId").GetString();
        var entryId = long.Parse(response.Headers.GetValues("X-Hub-Exchange-Entry").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var entry = Assert.Single(await LogCheck.EntriesAsync(hub.Db, connector.Id), e => e.Action == action);
        Assert.Equal(entryId, entry.Id);
        // The actor is the principal whose API key made the call.
        Assert.Equal(("admin", "done", hub.Process.PrincipalId, "province asked by phone"), (entry.Kind, entry.Outcome, entry.Actor, entry.Reason));
        Assert.Equal(jobId, JsonDocument.Parse(entry.Detail!).RootElement.GetProperty("jobId").GetString());
    }

    [Fact]
    public async Task A_request_with_an_unusable_reason_is_refused_and_logs_nothing()
    {
        var connector = await hub.RegisterAsync("api-bad-reason");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/connectors/{connector.Id}/sync?reason={new string('a', 1001)}");

        using var response = await hub.Process.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(await LogCheck.EntriesAsync(hub.Db, connector.Id), e => e.Action == "sync.requested");
    }
}
