using System.Globalization;
using System.Security.Claims;

namespace Hub.Worker.Api;

/// <summary>
/// Who did an API call and why, as the exchange log records administrative actions: the authenticated principal's id
/// (from its API key), and the <c>reason</c> query parameter. Calls to the few open endpoints (health, pushes
/// authenticated by their own signatures) have no principal: their actor is <c>anonymous@&lt;remote ip&gt;</c>.
/// </summary>
public static class Actors
{
    /// <summary>The query parameter that says why.</summary>
    public const string ReasonParameter = "reason";

    /// <summary>The longest reason accepted, in characters.</summary>
    public const int MaxReasonLength = 1000;

    /// <summary>The actor and reason of a call, or the problem with what the caller sent.</summary>
    public static (string Actor, string? Reason, string? Problem) Of(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var actor = http.User.Identity?.IsAuthenticated == true && http.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } id
            ? id
            : "anonymous@" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");

        string? reason = null;
        if (http.Request.Query.TryGetValue(ReasonParameter, out var given))
        {
            reason = given.ToString().Trim();
            if (Invalid(reason, MaxReasonLength) is { } problem)
            {
                return ("", null, $"The '{ReasonParameter}' query parameter {problem}.");
            }
        }

        return (actor, reason, null);
    }

    private static string? Invalid(string value, int maxLength) =>
        value.Length == 0 ? "is empty"
        : value.Length > maxLength ? string.Create(CultureInfo.InvariantCulture, $"is {value.Length} characters long, more than {maxLength}")
        : value.Any(char.IsControl) ? "holds control characters"
        : null;
}
