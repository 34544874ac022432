using Hub.Core.Identity;
using Hub.Worker.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Hub.Worker.Dashboard;

/// <summary>Settings of the dashboard (<c>Hub:Dashboard</c>).</summary>
public sealed class DashboardOptions
{
    public const string Section = "Hub:Dashboard";

    /// <summary>How often an open overview refreshes itself from the hub.</summary>
    public TimeSpan RefreshInterval { get; set; } = DefaultRefreshInterval;

    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The operations dashboard under <c>/ui</c>: server-rendered pages for operators, province-admins and auditors, signed in with
/// their API key once, then by a session cookie that only <c>/ui</c> accepts (the API takes keys and tokens only, so a
/// cookie never authorises an API call from another site). Each request re-checks the key the session was opened
/// with: a revoked or expired key, or a disabled principal, ends the session at once, and changed roles apply at once.
/// Every dashboard role reads dossiers and indicators (scoped as the API scopes them); the connector pages are for
/// operators and province-admins, the subscription pages for operators, the audit view of exchange-log entries (with
/// payloads) for auditors. A page a
/// signed-in principal's roles do not open answers 403 (<c>/ui/denied</c>); the overview sends auditors to the lookup.
/// </summary>
public static class DashboardExtensions
{
    /// <summary>The cookie scheme of dashboard sessions.</summary>
    public const string Scheme = "HubSession";

    /// <summary>The policy of every dashboard page but the log-in: a dashboard role.</summary>
    public const string Policy = "dashboard";

    /// <summary>The policy of the connector pages and their actions: operators and province-admins.</summary>
    public const string ConnectorsPolicy = "dashboard-connectors";

    /// <summary>The policy of the subscription pages and their actions: operators.</summary>
    public const string OperatorsPolicy = "dashboard-operators";

    /// <summary>The policy of the audit view (exchange-log entries and their payloads): auditors.</summary>
    public const string AuditPolicy = "dashboard-audit";

    /// <summary>The roles that may sign in to the dashboard.</summary>
    public static IReadOnlyList<string> SignInRoles { get; } = [Roles.Operator, Roles.ProvinceAdmin, Roles.Auditor];

    /// <summary>Where the dashboard lives.</summary>
    public const string PathPrefix = "/ui";

    /// <summary>Registers the session cookie and the pages; call after <c>AddHubIdentity</c>.</summary>
    public static IHostApplicationBuilder AddHubDashboard(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DashboardOptions>()
            .Bind(builder.Configuration.GetSection(DashboardOptions.Section))
            .Validate(o => o.RefreshInterval >= TimeSpan.FromSeconds(1) && o.RefreshInterval <= TimeSpan.FromMinutes(10),
                "Hub:Dashboard:RefreshInterval must be between one second and ten minutes.")
            .ValidateOnStart();
        builder.Services.AddAuthentication().AddCookie(Scheme, o =>
        {
            o.Cookie.Name = "hub_session";
            o.Cookie.Path = PathPrefix;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            o.LoginPath = PathPrefix + "/login";
            o.AccessDeniedPath = PathPrefix + "/denied";
            o.Events.OnValidatePrincipal = ValidateAsync;
            o.Events.OnRedirectToAccessDenied = context =>
            {
                // Only Hangfire's pages refuse a signed-in principal (they are the operators'): a 403, not the log-in page again.
                if (context.Request.Path.StartsWithSegments(JobsDashboard.Path, StringComparison.Ordinal))
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                }
                else
                {
                    context.Response.Redirect(context.RedirectUri);
                }

                return Task.CompletedTask;
            };
        });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireRole(SignInRoles))
            .AddPolicy(ConnectorsPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireRole(Roles.Operator, Roles.ProvinceAdmin))
            .AddPolicy(OperatorsPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireRole(Roles.Operator))
            .AddPolicy(AuditPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireRole(Roles.Auditor))
            .AddPolicy(JobsDashboard.Policy, JobsDashboard.AddPolicy);
        builder.Services.AddRazorPages(o =>
        {
            o.Conventions.AuthorizeFolder("/Ui", Policy);
            o.Conventions.AuthorizePage("/Ui/Connector", ConnectorsPolicy);
            o.Conventions.AuthorizePage("/Ui/Exchange", AuditPolicy);
            o.Conventions.AuthorizePage("/Ui/Subscriptions", OperatorsPolicy);
            o.Conventions.AuthorizePage("/Ui/Subscription", OperatorsPolicy);
            o.Conventions.AllowAnonymousToPage("/Ui/Login");
            o.Conventions.AllowAnonymousToPage("/Ui/Denied");
        });
        return builder;
    }

    /// <summary>Serves the pages, and Hangfire's dashboard for operators.</summary>
    public static WebApplication MapHubDashboard(this WebApplication app)
    {
        app.MapRazorPages();
        app.MapJobsDashboard();
        return app;
    }

    /// <summary>Whether the signed-in principal may use the connector pages (an operator or a province-admin).</summary>
    public static bool MayUseConnectors(System.Security.Claims.ClaimsPrincipal user) =>
        HubUser.Of(user) is { } principal && (principal.Has(Roles.Operator) || principal.Has(Roles.ProvinceAdmin));

    /// <summary>Whether the signed-in principal is an auditor (the audit view, payloads).</summary>
    public static bool IsAuditor(System.Security.Claims.ClaimsPrincipal user) => HubUser.Of(user)?.Has(Roles.Auditor) == true;

    /// <summary>The session's principal as the store has it now, or the end of the session.</summary>
    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var keyId = context.Principal?.FindFirst(ApiKeyAuthenticationHandler.KeyClaim)?.Value;
        var store = context.HttpContext.RequestServices.GetRequiredService<IdentityStore>();
        var check = keyId is null ? null : await store.CheckSessionKeyAsync(keyId, context.HttpContext.RequestAborted);
        if (check?.Principal is not { } principal)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
            return;
        }

        context.ReplacePrincipal(HubUser.For(principal, Scheme, keyId));
    }
}
