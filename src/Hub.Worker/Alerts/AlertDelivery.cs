using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Polly.Timeout;

namespace Hub.Worker.Alerts;

/// <summary>What the webhook receives for each alert fired or resolved.</summary>
/// <param name="Alert">The rule.</param>
/// <param name="ConnectorId">The connector; <c>null</c> for a rule about the hub itself.</param>
/// <param name="State">The state that made it fire.</param>
/// <param name="Since">When the condition began, where known.</param>
/// <param name="Message">What is wrong, in words.</param>
/// <param name="FiredAt">When the hub fired it.</param>
/// <param name="Resolved">Whether this is the notice that the condition ended.</param>
/// <param name="ResolvedAt">When it ended.</param>
public sealed record AlertPayload(
    string Alert, string? ConnectorId, string State, DateTimeOffset? Since, string Message, DateTimeOffset FiredAt, bool Resolved, DateTimeOffset? ResolvedAt);

/// <summary>
/// Posts alerts to <see cref="AlertOptions.WebhookUrl"/> as JSON, through the resilience pipeline of the
/// <see cref="ClientName"/> client (attempt timeout, jittered retries of transient failures, total timeout), signed with
/// HMAC-SHA256 when <see cref="AlertOptions.Secret"/> is set.
/// </summary>
public sealed class AlertDelivery(IHttpClientFactory clients, IOptions<AlertOptions> options)
{
    /// <summary>The named HTTP client (and resilience pipeline) of deliveries.</summary>
    public const string ClientName = "hub-alerts";

    /// <summary>The header of the body's signature.</summary>
    public const string SignatureHeader = "X-Hub-Signature";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The payload of an alert's firing or resolution.</summary>
    public static AlertPayload Payload(AlertRecord alert, bool resolved)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return new(alert.Rule, alert.ConnectorId.Length == 0 ? null : alert.ConnectorId, alert.State, alert.Since, alert.Message, alert.FiredAt,
            resolved, resolved ? alert.ResolvedAt : null);
    }

    /// <summary>The signature header's value for a body: <c>sha256=</c> and the lower-case hex HMAC-SHA256 under the secret.</summary>
    public static string Sign(byte[] body, string secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>Posts one alert; <c>null</c> when the receiver took it (2xx), otherwise why not.</summary>
    public async Task<string?> PostAsync(AlertRecord alert, bool resolved, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.WebhookUrl is not { } url)
        {
            return "no webhook is configured (Hub:Alerts:WebhookUrl)";
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(Payload(alert, resolved), Json);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        if (!string.IsNullOrEmpty(settings.Secret))
        {
            request.Headers.Add(SignatureHeader, Sign(body, settings.Secret));
        }

        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, cancellationToken);
            return response.IsSuccessStatusCode
                ? null
                : string.Create(CultureInfo.InvariantCulture, $"the receiver answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return $"the receiver could not be reached: {e.Message}";
        }
    }
}
