using Hub.Core.Sync;
using Hub.Worker.Identity;

namespace Hub.Worker.Api;

/// <summary>
/// Who may reach a connector: operators reach every one; a province-admin reaches only the connectors of the agencies it
/// is granted (exactly those codes). A connector the caller may not reach is answered as if it did not exist (404), so that
/// a province cannot learn which connectors other provinces have; the answer says so.
/// </summary>
public static class ConnectorAccess
{
    /// <summary>Whether the caller may read and maintain <paramref name="registration"/>.</summary>
    public static bool MayReach(HttpContext http, ConnectorRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(registration);
        return HubUser.Of(http.User) is { } principal && principal.MayManageAgency(registration.Agency);
    }

    /// <summary>Whether the caller may give a connector to <paramref name="agency"/> (register it there, or move it there).</summary>
    public static bool MayOwn(HttpContext http, string? agency)
    {
        ArgumentNullException.ThrowIfNull(http);
        return HubUser.Of(http.User) is { } principal && principal.MayManageAgency(agency);
    }

    /// <summary>The answer for a connector that does not exist or that the caller may not reach: the same 404.</summary>
    public static IResult NotFound(string id) => Results.Problem(
        title: "Connector not found",
        detail: $"No connector with id '{id}' is registered to an agency you maintain.",
        statusCode: StatusCodes.Status404NotFound);

    /// <summary>
    /// The connector <paramref name="id"/> when it exists and the caller may reach it; otherwise the 404 to answer.
    /// </summary>
    public static async Task<(ConnectorState? State, IResult? Denied)> FindAsync(
        HttpContext http, string id, ConnectorCatalog catalog, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var state = await catalog.GetAsync(id, cancellationToken);
        return state is not null && MayReach(http, state.Registration) ? (state, null) : (null, NotFound(id));
    }
}
