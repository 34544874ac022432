using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hub.Contracts;

namespace Hub.Connectors.BuiltIn.Webhook;

/// <summary>
/// The <c>signed-webhook</c> subscriber kind: posts published events as JSON to the subscriber's URL, signed with
/// HMAC-SHA256 over the timestamp and the body exactly as json-webhook connectors check it, so one hub can feed
/// another. A 2xx reply takes every event of the request; 408, 429 and 5xx replies, timeouts and connection failures
/// are retried; any other reply refuses the events for good.
/// </summary>
public sealed class SignedWebhookSubscriberKind : ISubscriberConnectorKind
{
    /// <summary>The kind's name, as subscriptions refer to it.</summary>
    public const string KindName = "signed-webhook";

    /// <summary>Event type of a status change in the body.</summary>
    public const string StatusChangedType = "dossier-status-changed";

    /// <summary>Event type of a step in the body.</summary>
    public const string StepAddedType = "dossier-step-added";

    /// <summary>The header that carries each request's own id (a retry is a new request with a new id; events keep theirs).</summary>
    public const string DeliveryHeader = "X-Hub-Delivery";

    private static readonly Lazy<string> Schema = new(() =>
    {
        using var stream = typeof(SignedWebhookSubscriberKind).Assembly.GetManifestResourceStream("Hub.Connectors.BuiltIn.Webhook.signed-webhook.schema.json")
            ?? throw new InvalidOperationException("The signed-webhook configuration schema is not embedded in the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <inheritdoc />
    public string Name => KindName;

    /// <inheritdoc />
    public string Description => "Posts published dossier events as signed JSON (HMAC-SHA256 over timestamp and body) to a subscriber's URL.";

    /// <inheritdoc />
    public string ConfigurationSchema => Schema.Value;

    /// <inheritdoc />
    public IReadOnlyList<string> CheckConfiguration(JsonElement configuration) => ConfigurationProblems.Of(SignedWebhookSettings.Parse, configuration);

    /// <inheritdoc />
    public ISubscriberSink CreateSink(SubscriberContext context) => new SignedWebhookSink(SignedWebhookSettings.Parse(context.Configuration), context);
}

/// <summary>A signed-webhook subscription's configuration, read and checked.</summary>
internal sealed record SignedWebhookSettings(Uri Url, byte[] Secret, string SignatureHeader, string TimestampHeader, int EventsPerRequest)
{
    public const int DefaultEventsPerRequest = 100;

    private static readonly string[] Known = ["url", "secret", "signatureHeader", "timestampHeader", "eventsPerRequest"];

    /// <summary>Reads a configuration, or throws a <see cref="ConnectorException"/> that lists every problem (never the secret).</summary>
    public static SignedWebhookSettings Parse(JsonElement configuration) =>
        ConfigurationProblems.Parse(SignedWebhookSubscriberKind.KindName, configuration, Read);

    private static SignedWebhookSettings? Read(JsonElement root, List<string> problems)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"(root): must be a JSON object, not {JsonWebhookSettings.Describe(root.ValueKind)}");
        }
        else
        {
            problems.AddRange(root.EnumerateObject().Where(p => !Known.Contains(p.Name, StringComparer.Ordinal))
                .Select(p => $"{p.Name}: is not a setting here (expected one of: {string.Join(", ", Known)})"));
        }

        Uri? url = null;
        byte[]? secret = null;
        string? signatureHeader = null, timestampHeader = null;
        var perRequest = DefaultEventsPerRequest;
        if (root.ValueKind == JsonValueKind.Object)
        {
            var text = JsonWebhookSettings.String(root, "url", problems);
            if (text is null && !JsonWebhookSettings.Present(root, "url", out _))
            {
                problems.Add("url: is required (the subscriber's endpoint, an absolute http or https URL)");
            }
            else if (text is not null && (!Uri.TryCreate(text, UriKind.Absolute, out url) || url.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(url.UserInfo)))
            {
                problems.Add("url: must be an absolute http or https URL without credentials in it");
                url = null;
            }

            secret = JsonWebhookSettings.Key(root, "secret", required: true, problems);
            signatureHeader = JsonWebhookSettings.HeaderName(root, "signatureHeader", JsonWebhookSettings.DefaultSignatureHeader, problems);
            timestampHeader = JsonWebhookSettings.HeaderName(root, "timestampHeader", JsonWebhookSettings.DefaultTimestampHeader, problems);
            if (signatureHeader is not null && string.Equals(signatureHeader, timestampHeader, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add("timestampHeader: must differ from signatureHeader");
            }

            if (JsonWebhookSettings.Present(root, "eventsPerRequest", out var count)
                && (count.ValueKind != JsonValueKind.Number || !count.TryGetInt32(out perRequest) || perRequest is < 1 or > 1000))
            {
                problems.Add("eventsPerRequest: must be a whole number from 1 to 1000");
            }
        }

        return problems.Count > 0 || url is null || secret is null || signatureHeader is null || timestampHeader is null
            ? null
            : new SignedWebhookSettings(url, secret, signatureHeader, timestampHeader, perRequest);
    }

    public override string ToString() =>
        $"SignedWebhookSettings {{ Url = {Url}, Secret = ***, SignatureHeader = {SignatureHeader}, TimestampHeader = {TimestampHeader}, EventsPerRequest = {EventsPerRequest} }}";
}

/// <summary>Posts a batch in requests of at most <see cref="SignedWebhookSettings.EventsPerRequest"/> events, in order, each signed.</summary>
internal sealed class SignedWebhookSink(SignedWebhookSettings settings, SubscriberContext context) : ISubscriberSink
{
    /// <summary>The most reply bytes kept for the exchange log.</summary>
    private const int MaxReplyBytes = 64 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<DeliveryReport> DeliverAsync(IReadOnlyList<OutboundEvent> events, CancellationToken cancellationToken)
    {
        var outcomes = new Dictionary<Guid, DeliveryOutcome>();
        var exchanges = new List<DeliveryExchange>();
        foreach (var chunk in events.Chunk(settings.EventsPerRequest))
        {
            var (outcome, exchange) = await PostAsync(chunk, cancellationToken);
            exchanges.Add(exchange);
            foreach (var e in chunk)
            {
                outcomes[e.EventId] = outcome;
            }
        }

        return new DeliveryReport(outcomes, exchanges);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task<(DeliveryOutcome, DeliveryExchange)> PostAsync(OutboundEvent[] chunk, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            events = chunk.Select(e => new
            {
                type = e.Message is DossierStatusChanged ? SignedWebhookSubscriberKind.StatusChangedType : SignedWebhookSubscriberKind.StepAddedType,
                data = e.Message,
            }),
        }, Json);
        var timestamp = context.Time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(settings.TimestampHeader, timestamp);
        request.Headers.TryAddWithoutValidation(settings.SignatureHeader, "sha256=" + Convert.ToHexStringLower(Mac(timestamp, body)));
        request.Headers.TryAddWithoutValidation(SignedWebhookSubscriberKind.DeliveryHeader, Guid.NewGuid().ToString());
        var ids = chunk.Select(e => e.EventId).ToList();
        var dossiers = chunk.Select(e => e.DossierCode).Distinct(StringComparer.Ordinal).ToList();
        try
        {
            using var response = await context.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var reply = await ReadCappedAsync(response.Content, cancellationToken);
            var code = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return (DeliveryOutcome.Ok, new DeliveryExchange("webhook", ids, dossiers, "application/json", body, null, code, reply, true, null));
            }

            var retryable = code is 408 or 429 or >= 500;
            var reason = $"POST {settings.Url.GetLeftPart(UriPartial.Path)} answered HTTP {code} {response.ReasonPhrase}"
                + (retryable ? "" : "; the subscriber refused the events, so they are not retried");
            return (DeliveryOutcome.Failed(reason, retryable), new DeliveryExchange("webhook", ids, dossiers, "application/json", body, null, code, reply, false, reason));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // No reply: a connection failure, a timeout, an open circuit or a rate limit of the subscription's own pipeline.
            var reason = $"POST {settings.Url.GetLeftPart(UriPartial.Path)} failed without a reply: {e.GetType().Name}: {e.Message}";
            return (DeliveryOutcome.Failed(reason), new DeliveryExchange("webhook", ids, dossiers, "application/json", body, null, null, ReadOnlyMemory<byte>.Empty, false, reason));
        }
    }

    private byte[] Mac(string timestamp, byte[] body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, settings.Secret);
        hmac.AppendData(Encoding.ASCII.GetBytes(timestamp));
        hmac.AppendData("."u8);
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }

    private static async Task<byte[]> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxReplyBytes];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
        }

        return buffer[..total];
    }

    public override string ToString() => settings.ToString();
}
