using System.Globalization;

namespace Hub.Worker.Api;

/// <summary>
/// Who did an API call and why, as the exchange log records administrative actions. The hub does not authenticate API
/// callers yet: the actor is what the <c>X-Hub-Actor</c> header says (unverified), else <c>anonymous@&lt;remote ip&gt;</c>.
/// Real identities replace this one rule when authentication comes.
/// </summary>
public static class Actors
{
    /// <summary>The header a caller names itself in.</summary>
    public const string Header = "X-Hub-Actor";

    /// <summary>The query parameter that says why.</summary>
    public const string ReasonParameter = "reason";

    /// <summary>The longest actor accepted, in characters.</summary>
    public const int MaxActorLength = 200;

    /// <summary>The longest reason accepted, in characters.</summary>
    public const int MaxReasonLength = 1000;

    /// <summary>The actor and reason of a call, or the problem with what the caller sent.</summary>
    public static (string Actor, string? Reason, string? Problem) Of(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        string actor;
        if (http.Request.Headers.TryGetValue(Header, out var named))
        {
            actor = named.ToString().Trim();
            if (Invalid(actor, MaxActorLength) is { } problem)
            {
                return ("", null, $"The {Header} header {problem}.");
            }
        }
        else
        {
            actor = "anonymous@" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        }

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
