using System.Security.Claims;
using Hub.Core.Identity;

namespace Hub.Worker.Identity;

/// <summary>
/// Principals and their API keys, for admins (<c>/api/principals</c>, <c>/api/keys</c>), and <c>/api/me</c> for anyone
/// authenticated. A key is returned once, when it is created; every change is an administrative exchange-log entry
/// naming the admin who made it.
/// </summary>
public static class IdentityApi
{
    public static WebApplication MapIdentityApi(this WebApplication app)
    {
        app.MapGet("/api/me", (ClaimsPrincipal user) => HubUser.Of(user) is { } me
            ? Results.Ok(new MeView(me.Id, me.DisplayName, [.. me.Grants.Select(GrantView.From)], user.FindFirstValue(ApiKeyAuthenticationHandler.KeyClaim)))
            : Results.Unauthorized()).RequireAuthorization(HubPolicies.Authenticated);

        var principals = app.MapGroup("/api/principals").RequireAuthorization(HubPolicies.Admin);
        principals.MapGet("/", async (IdentityStore store, CancellationToken ct) =>
            Results.Ok((await store.ListPrincipalsAsync(ct)).Select(PrincipalView.From)));
        principals.MapPost("/", CreateAsync);
        principals.MapGet("/{id}", GetAsync);
        principals.MapPut("/{id}/roles", SetRolesAsync);
        principals.MapPost("/{id}/disable", DisableAsync);
        principals.MapPost("/{id}/keys", CreateKeyAsync);
        app.MapPost("/api/keys/{keyId}/revoke", RevokeAsync).RequireAuthorization(HubPolicies.Admin);
        return app;
    }

    private static async Task<IResult> CreateAsync(PrincipalRequest request, ClaimsPrincipal user, IdentityStore store, CancellationToken cancellationToken) =>
        await RunAsync(async () =>
        {
            var created = await store.CreatePrincipalAsync(
                request.Id ?? "", request.DisplayName ?? "", Grants(request.Roles), Actor(user), request.Reason, cancellationToken);
            return Results.Created($"/api/principals/{created.Id}", PrincipalView.From(created));
        });

    private static async Task<IResult> GetAsync(string id, IdentityStore store, CancellationToken cancellationToken)
    {
        if (await store.GetPrincipalAsync(id, cancellationToken) is not { } principal)
        {
            return NotFound(id);
        }

        var keys = await store.ListKeysAsync(id, cancellationToken);
        return Results.Ok(new PrincipalDetailView(PrincipalView.From(principal), [.. keys.Select(KeyView.From)]));
    }

    private static async Task<IResult> SetRolesAsync(string id, RolesRequest request, ClaimsPrincipal user, IdentityStore store, CancellationToken cancellationToken) =>
        await RunAsync(async () => Results.Ok(PrincipalView.From(
            await store.SetGrantsAsync(id, Grants(request.Roles), Actor(user), request.Reason, cancellationToken))));

    private static async Task<IResult> DisableAsync(string id, string? reason, ClaimsPrincipal user, IdentityStore store, CancellationToken cancellationToken) =>
        await RunAsync(async () =>
        {
            if (string.IsNullOrWhiteSpace(reason))
            {
                return Problem(StatusCodes.Status400BadRequest, "Reason needed", $"Disabling principal '{id}' needs a 'reason' query parameter.");
            }

            var changed = await store.DisablePrincipalAsync(id, Actor(user), reason, cancellationToken);
            return Results.Ok(new { id, disabled = true, changed });
        });

    private static async Task<IResult> CreateKeyAsync(
        string id, KeyRequest request, HttpContext http, ClaimsPrincipal user, IdentityStore store, TimeProvider time, CancellationToken cancellationToken) =>
        await RunAsync(async () =>
        {
            var expiresAt = request.ExpiresAt ?? time.GetUtcNow().AddDays(90);
            var key = await store.CreateKeyAsync(id, request.Description ?? "", expiresAt, Actor(user), request.Reason, cancellationToken);
            http.Response.Headers.CacheControl = "no-store";
            return Results.Created($"/api/principals/{id}", new NewKeyView(key.Id, key.Key, key.PrincipalId, key.ExpiresAt,
                "This is the only time the key is shown: keep it in a secret store."));
        });

    private static async Task<IResult> RevokeAsync(string keyId, string? reason, ClaimsPrincipal user, IdentityStore store, CancellationToken cancellationToken) =>
        await RunAsync(async () =>
        {
            var changed = await store.RevokeKeyAsync(keyId, Actor(user), reason ?? "", cancellationToken);
            return Results.Ok(new { id = keyId, revoked = true, changed });
        });

    private static async Task<IResult> RunAsync(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (IdentityException e)
        {
            return e.Problem switch
            {
                IdentityProblem.NotFound => Problem(StatusCodes.Status404NotFound, "Not found", e.Message),
                IdentityProblem.Conflict => Problem(StatusCodes.Status409Conflict, "Conflict", e.Message),
                _ => Problem(StatusCodes.Status400BadRequest, "Invalid request", e.Message),
            };
        }
    }

    private static List<RoleGrant> Grants(IReadOnlyList<GrantView>? roles) => [.. (roles ?? []).Select(r => new RoleGrant(r.Role ?? "", r.Agency))];

    private static string Actor(ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier)!;

    private static IResult NotFound(string id) => Problem(StatusCodes.Status404NotFound, "Not found", $"No principal has id '{id}'.");

    private static IResult Problem(int status, string title, string detail) => Results.Problem(title: title, detail: detail, statusCode: status);

    internal sealed record PrincipalRequest(string? Id, string? DisplayName, IReadOnlyList<GrantView>? Roles, string? Reason);

    internal sealed record RolesRequest(IReadOnlyList<GrantView>? Roles, string? Reason);

    internal sealed record KeyRequest(string? Description, DateTimeOffset? ExpiresAt, string? Reason);

    internal sealed record GrantView(string? Role, string? Agency)
    {
        public static GrantView From(RoleGrant grant) => new(grant.Role, grant.AgencyCode);
    }

    internal sealed record PrincipalView(string Id, string DisplayName, IReadOnlyList<GrantView> Roles, bool Disabled)
    {
        public static PrincipalView From(Principal p) => new(p.Id, p.DisplayName, [.. p.Grants.Select(GrantView.From)], p.Disabled);
    }

    internal sealed record PrincipalDetailView(PrincipalView Principal, IReadOnlyList<KeyView> Keys);

    internal sealed record KeyView(string Id, string Description, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, string? RevokedReason, DateTimeOffset? LastUsedAt)
    {
        public static KeyView From(ApiKeyInfo k) => new(k.Id, k.Description, k.CreatedAt, k.CreatedBy, k.ExpiresAt, k.RevokedAt, k.RevokedReason, k.LastUsedAt);
    }

    internal sealed record NewKeyView(string Id, string Key, string Principal, DateTimeOffset ExpiresAt, string Note);

    internal sealed record MeView(string Id, string DisplayName, IReadOnlyList<GrantView> Roles, string? Key);
}
