using Hub.Core.Identity;
using Hub.Worker.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Hub.Worker.Dashboard;

/// <summary>
/// The operations dashboard under <c>/ui</c>: server-rendered pages for operators and province-admins, signed in with
/// their API key once, then by a session cookie that only <c>/ui</c> accepts (the API takes keys and tokens only, so a
/// cookie never authorises an API call from another site). Each request re-checks the key the session was opened
/// with: a revoked or expired key, or a disabled principal, ends the session at once, and changed roles apply at once.
/// </summary>
public static class DashboardExtensions
{
    /// <summary>The cookie scheme of dashboard sessions.</summary>
    public const string Scheme = "HubSession";

    /// <summary>The policy of every dashboard page but the log-in.</summary>
    public const string Policy = "dashboard";

    /// <summary>Where the dashboard lives.</summary>
    public const string PathPrefix = "/ui";

    /// <summary>Registers the session cookie and the pages; call after <c>AddHubIdentity</c>.</summary>
    public static IHostApplicationBuilder AddHubDashboard(this IHostApplicationBuilder builder)
    {
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
            o.AccessDeniedPath = PathPrefix + "/login";
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
        builder.Services.AddAuthorizationBuilder().AddPolicy(Policy, p => p
            .AddAuthenticationSchemes(Scheme)
            .RequireAuthenticatedUser()
            .RequireRole(Roles.Operator, Roles.ProvinceAdmin))
            .AddPolicy(JobsDashboard.Policy, JobsDashboard.AddPolicy);
        builder.Services.AddRazorPages(o =>
        {
            o.Conventions.AuthorizeFolder("/Ui", Policy);
            o.Conventions.AllowAnonymousToPage("/Ui/Login");
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
