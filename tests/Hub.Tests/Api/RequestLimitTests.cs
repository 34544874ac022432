using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hub.Tests.Webhook;
using static Hub.Tests.Webhook.Batches;

namespace Hub.Tests.Api;

/// <summary>
/// Request body limits on a real hub with the default settings (the webhook test hub): 1 MiB for the API in general,
/// 413 problem details beyond it whether the length is announced or the body comes chunked, and pushes that state a
/// larger limit of their own.
/// </summary>
[Collection(WebhookHubCollection.Name)]
public class RequestLimitTests(WebhookHub hub)
{
    private const int GeneralLimit = 1024 * 1024;

    /// <summary>A JSON object of exactly <paramref name="size"/> bytes.</summary>
    private static byte[] JsonOfSize(int size)
    {
        const string Prefix = "{\"pad\":\"";
        const string Suffix = "\"}";
        return Encoding.UTF8.GetBytes(Prefix + new string('x', size - Prefix.Length - Suffix.Length) + Suffix);
    }

    private static HttpContent Content(byte[] body, bool chunked)
    {
        HttpContent content = chunked ? new StreamContent(new UnknownLengthStream(body)) : new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_json_body_over_the_general_limit_gets_413_problem_details_naming_the_limit(bool chunked)
    {
        using var response = await PostOverLimitAsync(Content(JsonOfSize(GeneralLimit + 1), chunked));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(413, problem.GetProperty("status").GetInt32());
        Assert.Contains($"POST /api/connectors/validate is larger than {GeneralLimit} bytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    // Kestrel counts a chunked body a little above its payload against the limit (measured here: a chunked body of the
    // limit less 64 bytes is refused, less 1 KiB is read), so the chunked case leaves a margin.
    [Theory]
    [InlineData(false, 64)]
    [InlineData(true, 4096)]
    public async Task A_json_body_just_under_the_general_limit_gets_its_normal_answer(bool chunked, int margin)
    {
        using var response = await hub.Process.Client.PostAsync("/api/connectors/validate", Content(JsonOfSize(GeneralLimit - margin), chunked));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{(int)response.StatusCode} {text[..Math.Min(500, text.Length)]}");
        Assert.False(JsonDocument.Parse(text).RootElement.GetProperty("valid").GetBoolean());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_webhook_batch_above_the_general_limit_but_under_the_connectors_own_is_stored(bool chunked)
    {
        var connector = await hub.RegisterAsync(chunked ? "big-chunked" : "big");
        // Three dossiers with a large unmapped field: 2.4 MiB, under the default maxBodyBytes (10 MiB).
        var padding = new string('p', 800 * 1024);
        var body = Body([.. Enumerable.Range(0, 3).Select(i => Dossier(connector.Id, $"b{i}", i, "2", padding))]);
        Assert.True(body.Length > 2 * GeneralLimit);

        using var response = await hub.PostSignedAsync(connector.Id, connector.Key, body, chunked: chunked);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        Assert.Equal(3, JsonDocument.Parse(text).RootElement.GetProperty("stored").GetInt32());
    }

    [Fact]
    public async Task An_api_call_under_the_limit_still_works_after_a_refused_one()
    {
        using (var refused = await PostOverLimitAsync(Content(JsonOfSize(GeneralLimit + 4096), chunked: false)))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        }

        using var me = await hub.Process.Client.GetFromJsonAsync<JsonDocument>("/api/me");
        Assert.Equal(hub.Process.PrincipalId, me!.RootElement.GetProperty("id").GetString());
    }

    /// <summary>
    /// Posts a body the hub refuses, asking first (<c>Expect: 100-continue</c>), as a client sending a large body should:
    /// the hub answers 413 before the body is sent, so the client is not still writing when the connection closes.
    /// </summary>
    private Task<HttpResponseMessage> PostOverLimitAsync(HttpContent content) =>
        hub.Process.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/connectors/validate") { Content = content, Headers = { ExpectContinue = true } });

    /// <summary>A stream whose length the client cannot know, so the body is sent chunked.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
