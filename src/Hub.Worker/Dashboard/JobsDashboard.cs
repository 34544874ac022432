using Hangfire.Dashboard;
using Hub.Core.Identity;
using Hub.Worker.Sync;
using Microsoft.AspNetCore.Authorization;

namespace Hub.Worker.Dashboard;

/// <summary>
/// Hangfire's own dashboard (queues, recurring schedules, failed jobs, servers) at <c>/ui/hangfire</c>, for operators
/// only and only inside a dashboard session: the session cookie's path is <c>/ui</c>, so it applies here, and the
/// endpoint's policy authenticates that cookie scheme alone, so an API key in a header opens nothing (docs/decisions/0015).
/// </summary>
/// <remarks>
/// Mapped with Hangfire's ASP.NET Core middleware rather than <c>MapHangfireDashboard</c>: that one wants Hangfire's
/// global configuration (<c>AddHangfire</c>) and the storage when the routes are mapped, while the hub creates its storage
/// at start, after its database is up (<see cref="SyncScheduler"/>). Its scripts and styles are embedded in Hangfire and
/// served from this path; its POST actions (retry, delete, trigger) need the antiforgery token that Razor Pages' antiforgery
/// service issues, and the session cookie is SameSite=Strict besides.
/// </remarks>
public static class JobsDashboard
{
    /// <summary>Where Hangfire's dashboard is served.</summary>
    public const string Path = DashboardExtensions.PathPrefix + "/hangfire";

    /// <summary>The policy of Hangfire's dashboard: a dashboard session of an operator.</summary>
    public const string Policy = "dashboard-jobs";

    /// <summary>The policy: the session cookie's scheme only, and the operator role.</summary>
    internal static void AddPolicy(AuthorizationPolicyBuilder policy) => policy
        .AddAuthenticationSchemes(DashboardExtensions.Scheme)
        .RequireAuthenticatedUser()
        .RequireRole(Roles.Operator);

    /// <summary>Maps Hangfire's dashboard under <see cref="Path"/>; 404 in a process whose scheduler is off.</summary>
    public static IEndpointConventionBuilder MapJobsDashboard(this WebApplication app)
    {
        var options = new Hangfire.DashboardOptions
        {
            AppPath = DashboardExtensions.PathPrefix,
            DashboardTitle = "Hub jobs",
            DisplayStorageConnectionString = false,
            // The endpoint's policy decides who gets in; Hangfire's default filter (local requests only) would refuse everyone else.
            Authorization = [],
            AsyncAuthorization = [],
            // Every viewer the policy lets in is an operator; should the policy ever widen, only operators still act.
            IsReadOnlyFunc = context => !context.GetHttpContext().User.IsInRole(Roles.Operator),
        };
        var branch = ((IEndpointRouteBuilder)app).CreateApplicationBuilder();
        branch.UsePathBase(Path);
        // The scheduler is resolved per request, not here: building it loads the connector plugins, whose failure must
        // stop the hub inside app.Run with its reason, not while the routes are mapped.
        branch.Run(http => http.RequestServices.GetRequiredService<SyncScheduler>().Storage is { } storage
            // The storage exists once the scheduler started; the middleware holds nothing else, so it is made per request.
            ? new AspNetCoreDashboardMiddleware(NotFoundAsync, storage, options, DashboardRoutes.Routes).Invoke(http)
            : NotFoundAsync(http));
        return app.Map(Path + "/{**path}", branch.Build())
            .RequireAuthorization(Policy)
            .ExcludeFromDescription();
    }

    private static Task NotFoundAsync(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }
}
