using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Hub.Connectors.BuiltIn.RestPull;

/// <summary>
/// Adds the source's credentials to data calls: a fixed API key, an OAuth2 client-credentials access token (cached
/// until shortly before it expires) or a session token from a login. A source lives for one run, and so does the cache.
/// </summary>
/// <remarks>Not thread-safe: a source serves one run, one page at a time.</remarks>
internal sealed class SourceAuthenticator(
    AuthSettings settings, SourceClient client, IReadOnlyDictionary<string, string> staticHeaders, TimeProvider time, ILogger logger, Action<SentRequest>? sent = null)
{
    /// <summary>Why the exchange log keeps neither the body nor the hash of a token request or a log-in.</summary>
    public const string CredentialsWithheld = "the body carries the connector's credentials; neither it nor its hash is kept";

    /// <summary>At most this long before the announced expiry, a token is renewed (clock skew, the call's own duration).</summary>
    public static readonly TimeSpan MaxRenewalMargin = TimeSpan.FromSeconds(30);

    private string? _token;
    private DateTimeOffset _renewAt = DateTimeOffset.MaxValue;

    /// <summary>Whether a refused data call can be retried with new credentials (a token or a session).</summary>
    public bool CanRenew => settings is OAuth2ClientCredentialsAuth or SessionLoginAuth;

    /// <summary>Forgets the cached token or session, after the source refused it.</summary>
    public void Invalidate() => _token = null;

    /// <summary>Obtains a token or session now when the scheme uses one, so that a check can tell authentication failures apart.</summary>
    public async Task AuthenticateAsync(CancellationToken cancellationToken)
    {
        switch (settings)
        {
            case OAuth2ClientCredentialsAuth oauth:
                await AccessTokenAsync(oauth, cancellationToken);
                break;
            case SessionLoginAuth login:
                await SessionTokenAsync(login, cancellationToken);
                break;
        }
    }

    /// <summary>Adds the credentials to a data call's headers or query.</summary>
    public async Task ApplyAsync(IDictionary<string, string> headers, IDictionary<string, string> query, CancellationToken cancellationToken)
    {
        switch (settings)
        {
            case ApiKeyAuth key:
                headers[key.Header] = key.Key;
                break;
            case OAuth2ClientCredentialsAuth oauth:
                headers["Authorization"] = "Bearer " + await AccessTokenAsync(oauth, cancellationToken);
                break;
            case SessionLoginAuth login:
                var session = await SessionTokenAsync(login, cancellationToken);
                if (login.TokenQuery is not null)
                {
                    query[login.TokenQuery] = session;
                }
                else if (login.TokenHeader is not null)
                {
                    headers[login.TokenHeader] = session;
                }
                else
                {
                    headers["Authorization"] = "Bearer " + session;
                }

                break;
        }
    }

    private async Task<string> AccessTokenAsync(OAuth2ClientCredentialsAuth oauth, CancellationToken cancellationToken)
    {
        if (_token is not null && time.GetUtcNow() < _renewAt)
        {
            return _token;
        }

        // RFC 6749, section 4.4.2, with the client authenticating in the body (client_secret_post).
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "client_credentials"),
            new("client_id", oauth.ClientId),
            new("client_secret", oauth.ClientSecret),
        };
        if (oauth.Scope is not null)
        {
            form.Add(new("scope", oauth.Scope));
        }

        using var content = new FormUrlEncodedContent(form);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Accept"] = "application/json" };
        var requestedAt = time.GetUtcNow();
        sent?.Invoke(new SentRequest(requestedAt, "POST", oauth.TokenUrl.AbsoluteUri) { ContentType = "application/x-www-form-urlencoded", Withheld = CredentialsWithheld });
        var reply = await client.PostAsync(oauth.TokenUrl, content, headers, cancellationToken);
        var where = $"The token endpoint {SourceClient.Where(oauth.TokenUrl)}";
        ThrowUnlessSuccess(reply, where, "refused the client credentials");

        using var json = reply.TryParseJson()
            ?? throw AuthFailure($"{where} answered {reply.StatusText} with a body that is not JSON.");
        var root = json.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("access_token", out var accessToken)
            || accessToken.ValueKind != JsonValueKind.String
            || string.IsNullOrEmpty(accessToken.GetString()))
        {
            throw AuthFailure($"{where} answered {reply.StatusText} without an access_token.");
        }

        _token = accessToken.GetString()!;
        _renewAt = ExpiresIn(root) is { } lifetime
            ? requestedAt + lifetime - Min(MaxRenewalMargin, lifetime / 10)
            : DateTimeOffset.MaxValue;
        logger.LogDebug("Obtained an access token from {TokenUrl}, renewed after {RenewAt:O}", SourceClient.Where(oauth.TokenUrl), _renewAt);
        return _token;
    }

    private async Task<string> SessionTokenAsync(SessionLoginAuth login, CancellationToken cancellationToken)
    {
        if (_token is not null)
        {
            return _token;
        }

        using var body = new MemoryStream();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString(login.UsernameField, login.Username);
            writer.WriteString(login.PasswordField, login.Password);
            writer.WriteEndObject();
        }

        using var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
        var headers = new Dictionary<string, string>(staticHeaders, StringComparer.OrdinalIgnoreCase);
        headers.TryAdd("Accept", "application/json");
        sent?.Invoke(new SentRequest(time.GetUtcNow(), "POST", login.LoginUrl.AbsoluteUri) { ContentType = "application/json", Withheld = CredentialsWithheld });
        var reply = await client.PostAsync(login.LoginUrl, content, headers, cancellationToken);
        var where = $"The login {SourceClient.Where(login.LoginUrl)}";
        ThrowUnlessSuccess(reply, where, "refused the username and password");

        using var json = reply.TryParseJson()
            ?? throw AuthFailure($"{where} answered {reply.StatusText} with a body that is not JSON.");
        if (!login.TokenPath.TryResolve(json.RootElement, out var token)
            || token.ValueKind is not (JsonValueKind.String or JsonValueKind.Number)
            || (token.ValueKind == JsonValueKind.String && string.IsNullOrEmpty(token.GetString())))
        {
            throw AuthFailure($"{where} answered {reply.StatusText} without a session token at '{login.TokenPath}' (wrong username or password, or a different tokenPath).");
        }

        _token = token.ValueKind == JsonValueKind.String ? token.GetString()! : token.GetRawText();
        logger.LogDebug("Logged in at {LoginUrl}", SourceClient.Where(login.LoginUrl));
        return _token;
    }

    private static void ThrowUnlessSuccess(SourceReply reply, string where, string refusal)
    {
        if (reply.IsSuccess)
        {
            return;
        }

        if (reply.IsTransient)
        {
            throw new ConnectorException(FailureSide.SourceUnreachable, retryable: true, $"{where} answered {reply.StatusText}.");
        }

        throw AuthFailure($"{where} {refusal}: {reply.StatusText}{OAuthError(reply)}.");
    }

    /// <summary>The OAuth2 error code of a refusal (RFC 6749, section 5.2), such as <c>invalid_client</c>: a fixed word, never a secret.</summary>
    private static string OAuthError(SourceReply reply)
    {
        using var json = reply.TryParseJson();
        return json?.RootElement is { ValueKind: JsonValueKind.Object } root
            && root.TryGetProperty("error", out var error)
            && error.ValueKind == JsonValueKind.String
            && error.GetString() is { Length: > 0 and <= 64 } code
            && code.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')
                ? $" (error '{code}')"
                : "";
    }

    /// <summary>The token's lifetime: <c>expires_in</c> seconds, a number or a numeric string; <c>null</c> when absent or unusable.</summary>
    private static TimeSpan? ExpiresIn(JsonElement root)
    {
        if (!root.TryGetProperty("expires_in", out var value))
        {
            return null;
        }

        double seconds;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number))
        {
            seconds = number;
        }
        else if (value.ValueKind == JsonValueKind.String
            && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
        {
            seconds = parsed;
        }
        else
        {
            return null;
        }

        return seconds > 0 && seconds < TimeSpan.MaxValue.TotalSeconds / 2 ? TimeSpan.FromSeconds(seconds) : null;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static ConnectorException AuthFailure(string message) => new(FailureSide.SourceAuth, retryable: false, message);
}
