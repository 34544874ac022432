using System.Text.Json.Serialization;
using Hub.Core.Sync;
using Hub.Worker.Api;
using Hub.Worker.Identity;

namespace Hub.Worker.Alerts;

/// <summary>
/// Connector freshness and maintenance windows. Operators reach every connector, a province-admin those of its agencies
/// (<see cref="ConnectorAccess"/>; another agency's connector is answered 404 and left out of the freshness list).
/// Setting and cancelling a window are administrative entries of the exchange log with the caller and the reason.
/// </summary>
public static class AlertsApi
{
    /// <summary>A connector's freshness as the API shows it.</summary>
    public sealed record FreshnessView(
        string ConnectorId, string DisplayName, string Kind, string? Agency, ConnectorLifecycle Lifecycle, string? Schedule, string TimeZone,
        FreshnessState State, TimeSpan? Interval, DateTimeOffset? LastSuccessAt, DateTimeOffset? DueAt, DateTimeOffset? LateAt,
        DateTimeOffset? FailingAt, DateTimeOffset? Since, string Why, bool InMaintenance);

    /// <summary>A maintenance window to set.</summary>
    /// <param name="From">Its start, with its offset.</param>
    /// <param name="To">Its end (excluded), with its offset.</param>
    /// <param name="Reason">Why.</param>
    public sealed record MaintenanceRequest(DateTimeOffset? From, DateTimeOffset? To, string? Reason);

    public static IServiceCollection AddAlertsApi(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(o =>
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter<FreshnessState>(System.Text.Json.JsonNamingPolicy.CamelCase)));

    public static WebApplication MapAlertsApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/connectors").RequireAuthorization(HubPolicies.Connectors);
        api.MapGet("/freshness", FreshnessAsync)
            .WithSummary("Each connector the caller maintains with its freshness against its own schedule: state, interval, last successful run, due time and why.");
        api.MapGet("/{id}/maintenance", ListAsync).WithSummary("The connector's maintenance windows that have not ended.");
        api.MapPost("/{id}/maintenance", AddAsync)
            .WithSummary("Sets a maintenance window: the connector's alerts are muted while it covers now.")
            .Accepts<MaintenanceRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapDelete("/{id}/maintenance/{windowId:long}", CancelAsync)
            .WithSummary("Cancels a maintenance window (?reason= required).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    private static async Task<IResult> FreshnessAsync(
        HttpContext http, ConnectorCatalog catalog, SyncLedger ledger, MaintenanceWindows windows, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var muted = await windows.CoveredAsync(now, cancellationToken);
        return Results.Ok((await Freshness.JudgeAllAsync(catalog, ledger, now, cancellationToken))
            .Where(j => ConnectorAccess.MayReach(http, j.Connector.Registration))
            .Select(j =>
            {
                var (c, f) = j;
                var r = c.Registration;
                return new FreshnessView(r.Id, r.DisplayName, r.Kind, r.Agency, c.Lifecycle, r.Schedule, r.TimeZone, f.State, f.Interval, f.LastSuccessAt,
                    f.DueAt, f.LateAt, f.FailingAt, f.Since, f.Why, muted.Contains(r.Id));
            }));
    }

    private static async Task<IResult> ListAsync(string id, HttpContext http, ConnectorCatalog catalog, MaintenanceWindows windows, CancellationToken cancellationToken) =>
        (await ConnectorAccess.FindAsync(http, id, catalog, cancellationToken)).Denied
            ?? Results.Ok(await windows.ListAsync(id, cancellationToken));

    private static async Task<IResult> AddAsync(
        string id, MaintenanceRequest? body, HttpContext http, ConnectorCatalog catalog, MaintenanceWindows windows, TimeProvider time, CancellationToken cancellationToken)
    {
        if ((await ConnectorAccess.FindAsync(http, id, catalog, cancellationToken)).Denied is { } denied)
        {
            return denied;
        }

        var (actor, _, actorProblem) = Actors.Of(http);
        var reason = body?.Reason?.Trim();
        var problems = new List<string>();
        if (actorProblem is not null)
        {
            problems.Add(actorProblem);
        }

        if (body?.From is null || body.To is null)
        {
            problems.Add("'from' and 'to' are required: ISO-8601 times with their offset, for example 2027-01-10T22:00:00+07:00.");
        }
        else if (body.To <= body.From)
        {
            problems.Add("'to' must be after 'from'.");
        }
        else if (body.To <= time.GetUtcNow())
        {
            problems.Add("the window has already ended ('to' is in the past).");
        }

        if (string.IsNullOrEmpty(reason))
        {
            problems.Add("'reason' is required: say why alerts are muted.");
        }
        else if (reason.Length > Actors.MaxReasonLength || reason.Any(char.IsControl))
        {
            problems.Add($"'reason' must be at most {Actors.MaxReasonLength} characters without control characters.");
        }

        if (problems.Count > 0)
        {
            return Results.Problem(title: "Bad maintenance window", detail: string.Join(" ", problems), statusCode: StatusCodes.Status400BadRequest);
        }

        var window = await windows.AddAsync(id, body!.From!.Value, body.To!.Value, reason!, actor, cancellationToken);
        return Results.Created($"/api/connectors/{id}/maintenance/{window.Id}", window);
    }

    private static async Task<IResult> CancelAsync(
        string id, long windowId, HttpContext http, ConnectorCatalog catalog, MaintenanceWindows windows, CancellationToken cancellationToken)
    {
        if ((await ConnectorAccess.FindAsync(http, id, catalog, cancellationToken)).Denied is { } denied)
        {
            return denied;
        }

        var (actor, reason, actorProblem) = Actors.Of(http);
        if (actorProblem is not null || reason is null)
        {
            return Results.Problem(title: "Bad actor or reason", detail: actorProblem ?? $"Cancelling a window needs a reason: add ?{Actors.ReasonParameter}=… saying why.",
                statusCode: StatusCodes.Status400BadRequest);
        }

        return await windows.CancelAsync(id, windowId, actor, reason, cancellationToken)
            ? Results.NoContent()
            : Results.Problem(title: "Maintenance window not found", detail: $"Connector '{id}' has no open maintenance window {windowId}.",
                statusCode: StatusCodes.Status404NotFound);
    }
}
