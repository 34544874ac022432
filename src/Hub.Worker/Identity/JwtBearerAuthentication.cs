using System.Globalization;
using System.Security.Cryptography;
using Hub.Core.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hub.Worker.Identity;

/// <summary>
/// Bearer tokens (JWT) from an external identity provider (<c>Hub:Identity:Jwt</c>), off unless configured. The
/// provider authenticates, the hub authorises: the token's subject must be an enabled principal of the hub, whose roles
/// and agency grants come from the hub's store.
/// </summary>
public sealed class JwtOptions
{
    public const string Section = "Hub:Identity:Jwt";

    /// <summary>The <c>iss</c> every token must carry.</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> every token must carry: the hub's name at the identity provider.</summary>
    public string? Audience { get; set; }

    /// <summary>The provider's base address: its signing keys are read from OpenID Connect discovery (and its JWKS).</summary>
    public string? Authority { get; set; }

    /// <summary>Whether discovery must use HTTPS; only a loopback test provider may turn this off.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Instead of <see cref="Authority"/>: a PEM file of the provider's public keys (RSA or EC), for offline deployments.</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>The claim that holds the hub principal's id.</summary>
    public string SubjectClaim { get; set; } = "sub";

    /// <summary>Tolerated clock difference with the provider for <c>exp</c> and <c>nbf</c>.</summary>
    public TimeSpan ClockSkew { get; set; } = DefaultClockSkew;

    public static readonly TimeSpan DefaultClockSkew = TimeSpan.FromMinutes(1);

    /// <summary>Everything wrong with these settings.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Issuer))
        {
            problems.Add($"{Section}:Issuer is required");
        }

        if (string.IsNullOrWhiteSpace(Audience))
        {
            problems.Add($"{Section}:Audience is required");
        }

        if (string.IsNullOrWhiteSpace(Authority) == string.IsNullOrWhiteSpace(SigningKeyFile))
        {
            problems.Add($"{Section} needs exactly one of Authority (OpenID Connect discovery) and SigningKeyFile (PEM public keys)");
        }
        else if (!string.IsNullOrWhiteSpace(Authority))
        {
            if (!Uri.TryCreate(Authority, UriKind.Absolute, out var authority) || (authority.Scheme != Uri.UriSchemeHttps && authority.Scheme != Uri.UriSchemeHttp))
            {
                problems.Add($"{Section}:Authority '{Authority}' is not an absolute http(s) address");
            }
            else if (authority.Scheme != Uri.UriSchemeHttps && RequireHttpsMetadata)
            {
                problems.Add($"{Section}:Authority '{Authority}' must be https (RequireHttpsMetadata is true)");
            }
        }
        else
        {
            try
            {
                JwtSigningKeys.Load(SigningKeyFile!);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                problems.Add($"{Section}:SigningKeyFile: {e.Message}");
            }
        }

        if (string.IsNullOrWhiteSpace(SubjectClaim))
        {
            problems.Add($"{Section}:SubjectClaim must not be empty");
        }

        if (ClockSkew < TimeSpan.Zero || ClockSkew > TimeSpan.FromMinutes(5))
        {
            problems.Add($"{Section}:ClockSkew must be between 0 and 5 minutes");
        }

        return problems;
    }
}

/// <summary>Reads the public keys that sign the provider's tokens from a PEM file.</summary>
public static class JwtSigningKeys
{
    /// <summary>Every public key in the file (several during a key rotation), RSA or EC.</summary>
    /// <exception cref="CryptographicException">A block is not a public key, or the file holds none.</exception>
    public static IReadOnlyList<SecurityKey> Load(string path)
    {
        var pem = File.ReadAllText(path);
        var keys = new List<SecurityKey>();
        var rest = pem.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label].ToString();
            var block = rest[fields.Location].ToString();
            rest = rest[fields.Location.End..];
            if (label is not ("PUBLIC KEY" or "RSA PUBLIC KEY"))
            {
                // A private key has no place in the hub's settings: refuse it rather than use its public half.
                throw new CryptographicException($"'{path}' holds a '{label}' block: only public keys (PUBLIC KEY, RSA PUBLIC KEY) belong here");
            }

            keys.Add(ReadPublicKey(block, path));
        }

        return keys.Count > 0 ? keys : throw new CryptographicException($"'{path}' holds no PEM public key");
    }

    private static SecurityKey ReadPublicKey(string block, string path)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(block);
            if (rsa.KeySize < 2048)
            {
                throw new ArgumentException($"'{path}' holds an RSA key of {rsa.KeySize} bits: at least 2048 are needed");
            }

            return new RsaSecurityKey(rsa);
        }
        catch (CryptographicException)
        {
            // Not RSA: an EC key, below.
            rsa.Dispose();
        }
        catch (ArgumentException)
        {
            rsa.Dispose();
            throw;
        }

        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(block);
            return new ECDsaSecurityKey(ec);
        }
        catch (CryptographicException e)
        {
            ec.Dispose();
            throw new CryptographicException($"'{path}' holds a public key that is neither RSA nor EC: {e.Message}", e);
        }
    }
}

/// <summary>
/// The hub's side of JWT bearer authentication: maps a validated token's subject to the hub's principal (roles and
/// grants from the store) and answers refusals with problem details that say why, like <see cref="ApiKeyAuthenticationHandler"/>.
/// </summary>
public sealed partial class HubJwtBearerEvents(IdentityStore store, IOptions<IdentityOptions> options, ILogger<HubJwtBearerEvents> logger) : JwtBearerEvents
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = JwtBearerDefaults.AuthenticationScheme;

    // Hub principal ids are at most 100 characters; longer subjects cannot be principals (and are not looked up).
    private const int MaxSubjectLength = 100;

    private JwtOptions Jwt => options.Value.Jwt!;

    /// <inheritdoc />
    public override Task AuthenticationFailed(AuthenticationFailedContext context)
    {
        Refuse(context.HttpContext, Why(context.Exception, context.Request));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override async Task TokenValidated(TokenValidatedContext context)
    {
        var subject = context.Principal?.FindFirst(Jwt.SubjectClaim)?.Value;
        if (string.IsNullOrEmpty(subject))
        {
            context.Fail(Refuse(context.HttpContext, $"the token has no '{Jwt.SubjectClaim}' claim"));
            return;
        }

        var principal = subject.Length <= MaxSubjectLength ? await store.GetPrincipalAsync(subject, context.HttpContext.RequestAborted) : null;
        if (principal is null)
        {
            context.Fail(Refuse(context.HttpContext, $"the token's subject {Quote(subject)} is not a principal of the hub"));
        }
        else if (principal.Disabled)
        {
            context.Fail(Refuse(context.HttpContext, $"principal '{principal.Id}' is disabled"));
        }
        else
        {
            context.Principal = HubUser.For(principal, SchemeName, keyId: null);
        }
    }

    /// <inheritdoc />
    public override Task Challenge(JwtBearerChallengeContext context)
    {
        // The default challenge answers an empty 401; the hub's 401s say why, as problem details (RFC 9457). The reason
        // names no secret: token values are never echoed beyond the issuer and audience claims.
        context.HandleResponse();
        var http = context.HttpContext;
        var why = http.Items.TryGetValue(HubUser.FailureItem, out var failure) ? (string)failure! : "no valid bearer token was presented";
        http.Response.Headers.WWWAuthenticate = context.AuthenticateFailure is null ? "Bearer" : "Bearer error=\"invalid_token\"";
        return HubUser.WriteProblemAsync(http, StatusCodes.Status401Unauthorized, "Not authenticated",
            $"{http.Request.Method} {http.Request.Path} needs a valid bearer token from the identity provider or an API key: {why}.");
    }

    private string Refuse(HttpContext http, string why)
    {
        http.Items[HubUser.FailureItem] = why;
        LogRefused(logger, http.Request.Method, http.Request.Path, why);
        return why;
    }

    // The token as presented (already validated in form by the handler that failed it), to name its issuer and audience.
    private static JsonWebToken? Presented(HttpRequest request)
    {
        var token = request.Headers.Authorization.ToString().AsSpan("Bearer ".Length).Trim().ToString();
        try
        {
            return new JsonWebToken(token);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException)
        {
            return null;
        }
    }

    private string Why(Exception failure, HttpRequest request) => failure switch
    {
        SecurityTokenExpiredException e => $"the token expired at {Utc(e.Expires)}",
        SecurityTokenNotYetValidException e => $"the token is not valid before {Utc(e.NotBefore)}",
        SecurityTokenNoExpirationException => "the token has no expiry ('exp')",
        SecurityTokenInvalidLifetimeException => "the token's lifetime is not valid",
        SecurityTokenInvalidAudienceException => $"the token's audience {Quote(Presented(request) is { } token ? string.Join(", ", token.Audiences) : null)} is not '{Jwt.Audience}'",
        SecurityTokenInvalidIssuerException => $"the token's issuer {Quote(Presented(request)?.Issuer)} is not '{Jwt.Issuer}'",
        SecurityTokenSignatureKeyNotFoundException => "the token is not signed by a key the hub trusts",
        SecurityTokenInvalidSignatureException => "the token's signature is missing or not valid (unsigned tokens are refused)",
        SecurityTokenInvalidAlgorithmException => "the token's signing algorithm is not accepted",
        SecurityTokenMalformedException or ArgumentException => "the token is not a well-formed JWT",
        // OpenID Connect discovery or the JWKS could not be read (IDX20803): the provider's fault, not the caller's.
        InvalidOperationException => "the identity provider's signing keys could not be obtained",
        _ => $"the token is not valid ({failure.GetType().Name})",
    };

    private static string Utc(DateTime time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Quote(string? value) => value is null ? "(none)" : value.Length <= 100 ? $"'{value}'" : $"'{value[..100]}…'";

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused {Method} {Path}: {Why}")]
    private static partial void LogRefused(ILogger logger, string method, string path, string why);
}

/// <summary>Registration of the JWT scheme and the dispatch between it and API keys.</summary>
internal static class JwtBearerRegistration
{
    /// <summary>The default scheme when JWT is configured: sends each call to the handler its credential is for.</summary>
    public const string DispatchScheme = "ApiKeyOrJwt";

    // Asymmetric algorithms only: the hub holds public keys, never a shared secret.
    private static readonly string[] Algorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    public static void AddJwt(this AuthenticationBuilder authentication)
    {
        authentication.Services.AddSingleton<HubJwtBearerEvents>();
        authentication.Services.AddOptions<JwtBearerOptions>(HubJwtBearerEvents.SchemeName)
            .Configure<IOptions<IdentityOptions>>((o, identity) =>
            {
                var jwt = identity.Value.Jwt!;
                o.EventsType = typeof(HubJwtBearerEvents);
                o.MapInboundClaims = false;
                o.IncludeErrorDetails = false;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = jwt.Issuer,
                    ValidAudience = jwt.Audience,
                    ValidAlgorithms = Algorithms,
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    ClockSkew = jwt.ClockSkew,
                };
                if (!string.IsNullOrWhiteSpace(jwt.Authority))
                {
                    o.Authority = jwt.Authority;
                    o.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
                }
                else
                {
                    o.TokenValidationParameters.IssuerSigningKeys = JwtSigningKeys.Load(jwt.SigningKeyFile!);
                }
            });
        authentication.AddJwtBearer(HubJwtBearerEvents.SchemeName, _ => { });
        authentication.AddPolicyScheme(DispatchScheme, "API key or JWT", o =>
        {
            o.ForwardDefaultSelector = http => IsJwt(http.Request) ? HubJwtBearerEvents.SchemeName : ApiKeyAuthenticationHandler.SchemeName;
            // 403s name the principal and its roles whatever authenticated it.
            o.ForwardForbid = ApiKeyAuthenticationHandler.SchemeName;
        });
    }

    /// <summary>
    /// Whether a call presents a JWT: <c>Authorization: Bearer</c> with a compact JWS (three dot-separated parts, the
    /// last empty when unsigned, which the handler then refuses). API keys (<c>hub_…</c>, the bootstrap key, or any
    /// <c>X-Api-Key</c>) have no such form and stay with the API-key handler.
    /// </summary>
    public static bool IsJwt(HttpRequest request)
    {
        if (request.Headers.ContainsKey(ApiKeyAuthenticationHandler.KeyHeader))
        {
            return false;
        }

        var authorization = request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var token = authorization.AsSpan("Bearer ".Length).Trim();
        return LooksLikeJwt(token);
    }

    /// <summary>Whether a credential has the form of a compact JWS.</summary>
    public static bool LooksLikeJwt(ReadOnlySpan<char> token) =>
        !token.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal) && token.Count('.') == 2;
}
