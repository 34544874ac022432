using System.Security.Claims;
using System.Text.Encodings.Web;
using Hub.Core.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Identity;

/// <summary>
/// Authenticates a caller by the API key it presents (<c>Authorization: Bearer &lt;key&gt;</c> or <c>X-Api-Key</c>), and
/// answers a missing, unknown, revoked or expired key (401) or a role that does not allow the call (403) with a
/// problem-details body that says which.
/// </summary>
public sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, IdentityStore store,
    IOptions<IdentityOptions> identity)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "ApiKey";

    /// <summary>The header that may carry the key instead of <c>Authorization</c>.</summary>
    public const string KeyHeader = "X-Api-Key";

    /// <summary>The agency code a province-admin grant is for, one claim per grant.</summary>
    public const string AgencyClaim = "hub:agency";

    /// <summary>The id of the key that authenticated the call.</summary>
    public const string KeyClaim = "hub:key";

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? key = null;
        if (Request.Headers.TryGetValue(KeyHeader, out var header))
        {
            key = header.ToString().Trim();
        }
        else if (Request.Headers.Authorization.ToString() is { Length: > 0 } authorization)
        {
            if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return Fail("the Authorization header is not 'Bearer <API key>'");
            }

            key = authorization["Bearer ".Length..].Trim();
        }

        if (key is null)
        {
            return AuthenticateResult.NoResult();
        }

        if (key.Length is 0 or > 512)
        {
            return Fail("the API key is empty or longer than 512 characters");
        }

        var result = await store.AuthenticateAsync(key, Context.RequestAborted);
        if (result.Principal is not { } principal)
        {
            return Fail(result.Failure!);
        }

        return AuthenticateResult.Success(new AuthenticationTicket(HubUser.For(principal, SchemeName, result.KeyId), SchemeName));
    }

    private AuthenticateResult Fail(string why)
    {
        Context.Items[HubUser.FailureItem] = why;
        LogRefused(Logger, Request.Method, Request.Path, why);
        return AuthenticateResult.Fail(why);
    }

    /// <inheritdoc />
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var why = Context.Items.TryGetValue(HubUser.FailureItem, out var failure) ? (string)failure! : "no API key was presented";
        Response.Headers.WWWAuthenticate = "Bearer";
        return HubUser.WriteProblemAsync(Context, StatusCodes.Status401Unauthorized, "Not authenticated",
            $"{Request.Method} {Request.Path} needs an API key (Authorization: Bearer <key> or {KeyHeader}){(identity.Value.Jwt is null ? "" : " or a bearer token from the identity provider")}: {why}.");
    }

    /// <inheritdoc />
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var who = Context.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "the caller";
        var roles = Context.User.FindAll(ClaimTypes.Role).Select(c => c.Value).ToList();
        return HubUser.WriteProblemAsync(Context, StatusCodes.Status403Forbidden, "Not allowed",
            $"{who} (roles: {(roles.Count == 0 ? "none" : string.Join(", ", roles))}) may not {Request.Method} {Request.Path}.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused {Method} {Path}: {Why}")]
    private static partial void LogRefused(ILogger logger, string method, string path, string why);
}

/// <summary>The hub's principal behind a call, rebuilt from its claims.</summary>
public static class HubUser
{
    /// <summary>Where an authentication handler leaves why it refused a call, for its challenge.</summary>
    internal const string FailureItem = "hub:authentication-failure";

    /// <summary>
    /// The claims of a hub principal, whatever authenticated it: id, name, roles and agency grants from the hub's store
    /// (and the API key's id when a key did), so that policies and <see cref="Of"/> do not depend on the scheme.
    /// </summary>
    public static ClaimsPrincipal For(Principal principal, string authenticationType, string? keyId)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, principal.Id),
            new(ClaimTypes.Name, principal.DisplayName),
        };
        if (keyId is not null)
        {
            claims.Add(new Claim(ApiKeyAuthenticationHandler.KeyClaim, keyId));
        }

        claims.AddRange(principal.Grants.Select(g => g.Role).Distinct(StringComparer.Ordinal).Select(r => new Claim(ClaimTypes.Role, r)));
        claims.AddRange(principal.Agencies.Select(a => new Claim(ApiKeyAuthenticationHandler.AgencyClaim, a)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType, ClaimTypes.NameIdentifier, ClaimTypes.Role));
    }

    /// <summary>Answers a refused call with an RFC 9457 problem-details body.</summary>
    internal static Task WriteProblemAsync(HttpContext http, int status, string title, string detail)
    {
        http.Response.StatusCode = status;
        return http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        }).AsTask();
    }

    /// <summary>The authenticated principal, or <c>null</c>.</summary>
    public static Principal? Of(ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true || user.FindFirstValue(ClaimTypes.NameIdentifier) is not { } id)
        {
            return null;
        }

        var grants = user.FindAll(ClaimTypes.Role).Where(c => c.Value != Roles.ProvinceAdmin).Select(c => new RoleGrant(c.Value))
            .Concat(user.FindAll(ApiKeyAuthenticationHandler.AgencyClaim).Select(c => new RoleGrant(Roles.ProvinceAdmin, c.Value)))
            .ToList();
        return new Principal(id, user.FindFirstValue(ClaimTypes.Name) ?? id, grants);
    }
}
