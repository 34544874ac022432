using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hub.Connectors.BuiltIn.Webhook;
using Hub.Contracts;
using Hub.Core.Delivery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hub.Tests.Infrastructure;

/// <summary>
/// A subscriber's webhook endpoint on loopback (real Kestrel): checks each post's HMAC signature over timestamp and
/// body, answers with the status the test sets (200 by default), and keeps what it took and what it refused.
/// </summary>
public sealed class WebhookSubscriber : IAsyncDisposable
{
    /// <summary>A fresh random key, base64, as a registration carries it.</summary>
    public string Secret { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private readonly WebApplication _app;

    private WebhookSubscriber(WebApplication app) => _app = app;

    /// <summary>The endpoint's URL.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>The status answered to every post; 200 takes the events.</summary>
    public int Status { get; set; } = StatusCodes.Status200OK;

    /// <summary>Every event taken (answered 2xx), in arrival order: its type and its data.</summary>
    public ConcurrentQueue<(string Type, JsonElement Data)> Events { get; } = new();

    /// <summary>Posts answered with a refusal, and the number of events each carried.</summary>
    public ConcurrentQueue<int> Refused { get; } = new();

    /// <summary>What the subscriber made of the events it took: each applied once by event id, as a consumer of the hub's events does.</summary>
    public SubscriberView View { get; } = new();

    /// <summary>Posts taken, and the number of events each carried.</summary>
    public ConcurrentQueue<int> Accepted { get; } = new();

    /// <summary>Posts whose signature did not match: must stay empty.</summary>
    public ConcurrentQueue<string> BadSignatures { get; } = new();

    /// <summary>The event ids taken, each once however often it came.</summary>
    public IReadOnlySet<Guid> EventIds => Events.Select(e => e.Data.GetProperty("eventId").GetGuid()).ToHashSet();

    public static async Task<WebhookSubscriber> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var subscriber = new WebhookSubscriber(app);
        app.MapPost("/events", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            var bytes = body.ToArray();
            var timestamp = http.Request.Headers["X-Hub-Timestamp"].ToString();
            var expected = "sha256=" + Convert.ToHexStringLower(
                HMACSHA256.HashData(Convert.FromBase64String(subscriber.Secret), (byte[])[.. Encoding.ASCII.GetBytes(timestamp + "."), .. bytes]));
            if (http.Request.Headers["X-Hub-Signature"].ToString() != expected)
            {
                subscriber.BadSignatures.Enqueue(timestamp);
                return Results.StatusCode(StatusCodes.Status401Unauthorized);
            }

            var events = JsonDocument.Parse(bytes).RootElement.GetProperty("events").EnumerateArray()
                .Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("data").Clone())).ToList();
            var status = subscriber.Status;
            if (status is < 200 or > 299)
            {
                subscriber.Refused.Enqueue(events.Count);
                return Results.Json(new { error = "refused by the test" }, statusCode: status);
            }

            foreach (var e in events)
            {
                subscriber.Events.Enqueue(e);
                if (e.Item1 == "dossier-status-changed")
                {
                    var changed = e.Item2.Deserialize<DossierStatusChanged>(Web)!;
                    subscriber.View.Apply(changed.EventId, changed);
                }
                else
                {
                    var step = e.Item2.Deserialize<DossierStepAdded>(Web)!;
                    subscriber.View.Apply(step.EventId, step);
                }
            }

            subscriber.Accepted.Enqueue(events.Count);

            return Results.Json(new { received = events.Count });
        });
        await app.StartAsync();
        subscriber.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/events");
        return subscriber;
    }

    /// <summary>A signed-webhook subscription's registration for this endpoint.</summary>
    public object Registration(string id, object? filter = null, object? delivery = null, object? resilience = null) => new
    {
        id,
        kind = "signed-webhook",
        displayName = "Test subscriber " + id,
        configuration = new { url = Url.ToString(), secret = Secret },
        filter,
        delivery,
        resilience,
    };

    /// <summary>
    /// A signed-webhook subscription for this endpoint, as the hub's catalog stores it: saved before the hubs start, it
    /// gets every event from the first one on.
    /// </summary>
    public SubscriptionRegistration Subscription(string id) => new()
    {
        Id = id,
        Kind = "signed-webhook",
        DisplayName = "Test subscriber " + id,
        Configuration = JsonSerializer.SerializeToElement(new { url = Url.ToString(), secret = Secret }),
        Delivery = new DeliverySettings { RetryBaseDelay = TimeSpan.FromMilliseconds(200), MaxRetryDelay = TimeSpan.FromSeconds(2), MaxAttempts = 100 },
    };

    /// <summary>Saves <see cref="Subscription"/> in the database of the hubs to come.</summary>
    public async Task SubscribeAsync(Npgsql.NpgsqlDataSource db, string id) =>
        await new SubscriptionCatalog(db, TestSecrets.For(db, new SignedWebhookSubscriberKind()), TimeProvider.System)
            .SaveAsync(Subscription(id), "test", null, CancellationToken.None);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
}
