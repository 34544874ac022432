using Hub.Worker.Dashboard;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Hub.Worker.Pages.Ui;

/// <summary>
/// Where the session cookie sends a signed-in principal whose roles do not open the page it asked for: a 403 that says
/// so. Open to anyone, so that a session whose roles were all taken away does not loop between refusals.
/// </summary>
public sealed class DeniedModel : PageModel
{
    public async Task<IActionResult> OnGetAsync()
    {
        // The page allows anonymous callers, so the session is read here only to show the header of a signed-in principal.
        if ((await HttpContext.AuthenticateAsync(DashboardExtensions.Scheme)).Principal is { } user)
        {
            HttpContext.User = user;
        }

        Response.StatusCode = StatusCodes.Status403Forbidden;
        return Page();
    }
}
