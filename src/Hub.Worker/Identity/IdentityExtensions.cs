using Hub.Core.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Identity;

/// <summary>Settings of the hub's identities (<c>Hub:Identity</c>).</summary>
public sealed class IdentityOptions
{
    public const string Section = "Hub:Identity";

    /// <summary>
    /// The key of the first admin, used on the first start only (while no principal holds the admin role): at least 32
    /// characters, e.g. <c>openssl rand -hex 32</c>. The admin then creates real principals and keys, and this one expires.
    /// </summary>
    public string? BootstrapAdminKey { get; set; }

    /// <summary>How long the bootstrap key is valid from the first start.</summary>
    public TimeSpan BootstrapKeyLifetime { get; set; } = DefaultBootstrapKeyLifetime;

    public static readonly TimeSpan DefaultBootstrapKeyLifetime = TimeSpan.FromDays(7);

    /// <summary>Bearer tokens from an external identity provider; <c>null</c> (the default) turns them off.</summary>
    public JwtOptions? Jwt { get; set; }
}

/// <summary>The authorization policies, one per role (deny by default: a policy lets in only the roles it names).</summary>
public static class HubPolicies
{
    /// <summary>Manages principals and keys.</summary>
    public const string Admin = "admin";

    /// <summary>Central operations.</summary>
    public const string Operator = "operator";

    /// <summary>Reads the exchange log, evidence and raw payloads.</summary>
    public const string Auditor = "auditor";

    /// <summary>Maintains connectors: operators everywhere, province-admins for their agencies (checked per connector).</summary>
    public const string Connectors = "connectors";

    /// <summary>Watches: operators and auditors (read the store and the exchange log's entries).</summary>
    public const string Monitor = "monitor";

    /// <summary>Reads aggregated indicators: operators and auditors everywhere, province-admins for their agencies (checked per row).</summary>
    public const string Indicators = "indicators";

    /// <summary>Any authenticated principal.</summary>
    public const string Authenticated = "authenticated";
}

/// <summary>Registration of identities: the store, API-key authentication, the policies and the bootstrap admin.</summary>
public static class IdentityExtensions
{
    /// <summary>Registers identities; call after <c>AddHubDatabase</c> (the bootstrap admin is written once the schema is there).</summary>
    public static IHostApplicationBuilder AddHubIdentity(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IdentityOptions>()
            .Bind(builder.Configuration.GetSection(IdentityOptions.Section))
            .Validate(o => o.BootstrapAdminKey is null || (o.BootstrapAdminKey.Length >= ApiKeys.MinBootstrapKeyLength && !o.BootstrapAdminKey.Any(char.IsWhiteSpace)),
                $"Hub:Identity:BootstrapAdminKey must be at least {ApiKeys.MinBootstrapKeyLength} characters without spaces (for example `openssl rand -hex 32`).")
            .Validate(o => o.BootstrapKeyLifetime > TimeSpan.Zero && o.BootstrapKeyLifetime <= IdentityStore.MaxKeyLifetime,
                "Hub:Identity:BootstrapKeyLifetime must be positive and at most 366 days.")
            .Validate(o => o.Jwt is null || o.BootstrapAdminKey is null || !JwtBearerRegistration.LooksLikeJwt(o.BootstrapAdminKey),
                "Hub:Identity:BootstrapAdminKey must not have the form of a JWT (three dot-separated parts) while Hub:Identity:Jwt is set.")
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IdentityOptions>, JwtOptionsValidation>();
        builder.Services.AddSingleton<IdentityStore>();

        // JWT bearer tokens only when configured; otherwise API keys alone, as the default scheme.
        var jwt = builder.Configuration.GetSection(JwtOptions.Section).Get<JwtOptions>() is not null;
        var scheme = jwt ? JwtBearerRegistration.DispatchScheme : ApiKeyAuthenticationHandler.SchemeName;
        var authentication = builder.Services.AddAuthentication(scheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        if (jwt)
        {
            authentication.AddJwt();
        }

        builder.Services.AddAuthorizationBuilder()
            // Deny by default: an endpoint that names no policy (and is not marked open) needs an authenticated caller.
            .SetFallbackPolicy(new AuthorizationPolicyBuilder(scheme).RequireAuthenticatedUser().Build())
            .AddPolicy(HubPolicies.Admin, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin))
            .AddPolicy(HubPolicies.Operator, p => p.RequireAuthenticatedUser().RequireRole(Roles.Operator))
            .AddPolicy(HubPolicies.Auditor, p => p.RequireAuthenticatedUser().RequireRole(Roles.Auditor))
            .AddPolicy(HubPolicies.Monitor, p => p.RequireAuthenticatedUser().RequireRole(Roles.Operator, Roles.Auditor))
            .AddPolicy(HubPolicies.Connectors, p => p.RequireAuthenticatedUser().RequireRole(Roles.Operator, Roles.ProvinceAdmin))
            .AddPolicy(HubPolicies.Indicators, p => p.RequireAuthenticatedUser().RequireRole(Roles.Operator, Roles.Auditor, Roles.ProvinceAdmin))
            .AddPolicy(HubPolicies.Authenticated, p => p.RequireAuthenticatedUser());
        builder.Services.AddHostedService<BootstrapAdmin>();
        return builder;
    }
}

/// <summary>Lists every problem of the <c>Hub:Identity:Jwt</c> settings at start-up.</summary>
internal sealed class JwtOptionsValidation : IValidateOptions<IdentityOptions>
{
    public ValidateOptionsResult Validate(string? name, IdentityOptions options) =>
        options.Jwt?.Problems() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}

/// <summary>Creates the bootstrap admin from configuration on the first start.</summary>
/// <remarks>The store is resolved at start, after the hub's database (registered before) has started.</remarks>
internal sealed partial class BootstrapAdmin(IOptions<IdentityOptions> options, IServiceProvider services, ILogger<BootstrapAdmin> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.BootstrapAdminKey is not { } key)
        {
            return;
        }

        var store = services.GetRequiredService<IdentityStore>();
        if (await store.EnsureBootstrapAdminAsync(key, options.Value.BootstrapKeyLifetime, cancellationToken))
        {
            LogCreated(logger, options.Value.BootstrapKeyLifetime);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Created principal 'bootstrap-admin' with the key from Hub:Identity:BootstrapAdminKey, valid for {Lifetime}: create real principals and keys with it, then remove the setting")]
    private static partial void LogCreated(ILogger logger, TimeSpan lifetime);
}
