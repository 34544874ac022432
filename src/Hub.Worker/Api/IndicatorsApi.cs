using Hub.Core.Identity;
using Hub.Core.Store;
using Hub.Worker.Identity;

namespace Hub.Worker.Api;

/// <summary>
/// National indicators per agency and procedure, from the stored data (<see cref="NationalIndicators"/>): on-time rate
/// by the rule of Decision 766, overdue dossiers now, online and online-payment shares. Aggregates only, no dossier.
/// Operators and auditors see every agency; a province-admin sees only the agencies it is granted.
/// </summary>
public static class IndicatorsApi
{
    public static WebApplication MapIndicatorsApi(this WebApplication app)
    {
        app.MapGet("/api/indicators", ComputeAsync)
            .RequireAuthorization(HubPolicies.Indicators)
            .WithSummary("National indicators per agency (and per procedure with by=procedure): on-time rate, overdue now, online shares.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    private static async Task<IResult> ComputeAsync(
        string? agency, string? by, HttpContext http, NationalIndicators indicators, TimeProvider time, CancellationToken cancellationToken)
    {
        if (by is not (null or "agency" or "procedure"))
        {
            return Results.Problem(title: "Bad grouping", detail: $"'by' is '{by}': give 'agency' (the default) or 'procedure'.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (agency is not null && !AgencyCodes.IsValid(agency))
        {
            return Results.Problem(title: "Bad agency", detail: $"'agency' is '{agency}', not {AgencyCodes.Expected}.", statusCode: StatusCodes.Status400BadRequest);
        }

        var principal = HubUser.Of(http.User)!;
        var central = principal.Has(Roles.Operator) || principal.Has(Roles.Auditor);
        if (!central && agency is not null && !principal.Agencies.Contains(agency, StringComparer.Ordinal))
        {
            return Results.Problem(title: "Forbidden", detail: $"You do not maintain agency '{agency}'.", statusCode: StatusCodes.Status403Forbidden);
        }

        var rows = await indicators.ComputeAsync(new IndicatorQuery { Agency = agency, ByProcedure = by == "procedure" }, time.GetUtcNow(), cancellationToken);
        return Results.Ok(central ? rows : rows.Where(r => r.Agency is not null && principal.Agencies.Contains(r.Agency, StringComparer.Ordinal)));
    }
}
