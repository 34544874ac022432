using Hub.Core.Identity;
using Hub.Worker.Dashboard;
using Hub.Worker.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Hub.Worker.Pages.Ui;

/// <summary>Opens a dashboard session with an API key, and closes it.</summary>
public sealed partial class LoginModel(IdentityStore identities, ILogger<LoginModel> logger) : PageModel
{
    /// <summary>Why the last attempt failed, for the page.</summary>
    public string? Problem { get; private set; }

    /// <summary>Where to go once signed in (a dashboard path only).</summary>
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(string? key, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            Problem = "Paste an API key.";
            return Page();
        }

        var authentication = await identities.AuthenticateAsync(key.Trim(), cancellationToken);
        if (authentication.Principal is not { } principal)
        {
            LogRefused(logger, HttpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown", authentication.Failure ?? "unknown");
            Problem = $"This key does not sign in: {authentication.Failure}.";
            return Page();
        }

        if (!DashboardExtensions.SignInRoles.Any(principal.Has))
        {
            Problem = $"{principal.Id} is not an operator, a province-admin or an auditor: the dashboard is theirs.";
            return Page();
        }

        await HttpContext.SignInAsync(DashboardExtensions.Scheme, HubUser.For(principal, DashboardExtensions.Scheme, authentication.KeyId));
        LogSignedIn(logger, principal.Id, authentication.KeyId ?? "");
        var target = ReturnUrl is { } url && url.StartsWith(DashboardExtensions.PathPrefix + "/", StringComparison.Ordinal) && !url.StartsWith("//", StringComparison.Ordinal)
            ? url
            : DashboardExtensions.PathPrefix;
        return LocalRedirect(target);
    }

    public async Task<IActionResult> OnPostLogoutAsync()
    {
        await HttpContext.SignOutAsync(DashboardExtensions.Scheme);
        return RedirectToPage();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard sign-in refused from {Remote}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string remote, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dashboard session opened by {PrincipalId} with key {KeyId}")]
    private static partial void LogSignedIn(ILogger logger, string principalId, string keyId);
}
