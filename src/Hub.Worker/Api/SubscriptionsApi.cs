using System.Text.Json;
using Hub.Core.Delivery;
using Hub.Core.Sync;
using Hub.Worker.Identity;
using Hub.Worker.Subscribers;
using Hub.Worker.Sync;

namespace Hub.Worker.Api;

/// <summary>
/// Subscriptions and their deliveries: operators register subscriptions, watch each one's deliveries (pending,
/// failed, delivered, dead-lettered) and replay its dead letters; auditors may read. Registrations and replays are
/// administrative entries of the exchange log with who and why (<c>?reason=</c>).
/// </summary>
public static class SubscriptionsApi
{
    /// <summary>The most deliveries one page lists.</summary>
    public const int MaxPage = 500;

    public static WebApplication MapSubscriptionsApi(this WebApplication app)
    {
        var read = app.MapGroup("/api/subscriptions").RequireAuthorization(HubPolicies.Monitor);
        read.MapGet("/", ListAsync).WithSummary("Every subscription with its filters and the count of its deliveries in each state; never its configuration.");
        read.MapGet("/{id}", GetAsync).WithSummary("One subscription with the count of its deliveries in each state.");
        read.MapGet("/{id}/deliveries", DeliveriesAsync)
            .WithSummary("A subscription's deliveries, newest first: ?status=pending|failed|delivered|dead (dead: the dead-letter list), ?before= an id, ?limit= (1-500, 100).");

        var write = app.MapGroup("/api/subscriptions").RequireAuthorization(HubPolicies.Operator);
        write.MapPut("/{id}", PutAsync)
            .WithSummary("Registers a subscription or replaces its registration (validated field by field).")
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        write.MapPost("/{id}/replay", ReplayAsync)
            .WithSummary("Puts dead-lettered deliveries back to pending with a fresh retry budget: all of them, or body {\"ids\": [...]}.");
        return app;
    }

    /// <summary>A subscription as the API shows it.</summary>
    public sealed record SubscriptionView(
        string Id, string Kind, string DisplayName, bool Active, SubscriptionFilter Filter, DeliverySettings Delivery,
        IReadOnlyDictionary<string, long> Deliveries, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    /// <summary>Which dead letters to replay.</summary>
    public sealed record ReplayRequest(IReadOnlyList<long>? Ids);

    private static async Task<IResult> ListAsync(SubscriptionCatalog catalog, Deliveries deliveries, CancellationToken cancellationToken)
    {
        var views = new List<SubscriptionView>();
        foreach (var state in await catalog.ListAsync(cancellationToken))
        {
            views.Add(await ViewAsync(state, deliveries, cancellationToken));
        }

        return Results.Ok(views);
    }

    private static async Task<IResult> GetAsync(string id, SubscriptionCatalog catalog, Deliveries deliveries, CancellationToken cancellationToken) =>
        await catalog.GetAsync(id, cancellationToken) is { } state
            ? Results.Ok(await ViewAsync(state, deliveries, cancellationToken))
            : NotFound(id);

    private static async Task<IResult> DeliveriesAsync(
        string id, string? status, long? before, int? limit, SubscriptionCatalog catalog, Deliveries deliveries, CancellationToken cancellationToken)
    {
        DeliveryStatus? state = null;
        if (status is not null)
        {
            if (!Enum.TryParse<DeliveryStatus>(status, ignoreCase: true, out var parsed) || int.TryParse(status, out _))
            {
                return Results.Problem(title: "Bad status", statusCode: StatusCodes.Status400BadRequest,
                    detail: $"'{status}' is not a delivery state: pending, failed, delivered or dead.");
            }

            state = parsed;
        }

        if (limit is < 1 or > MaxPage)
        {
            return Results.Problem(title: "Bad limit", statusCode: StatusCodes.Status400BadRequest, detail: $"limit must be between 1 and {MaxPage} (it is {limit}).");
        }

        if (await catalog.GetAsync(id, cancellationToken) is null)
        {
            return NotFound(id);
        }

        var page = await deliveries.ListAsync(id, state, before, limit ?? 100, cancellationToken);
        return Results.Ok(page.Select(d => new
        {
            d.Id,
            d.EventId,
            d.EventKind,
            d.DossierCode,
            Status = Deliveries.Name(d.Status),
            d.Attempts,
            d.NextAttemptAt,
            d.LastAttemptAt,
            d.LastError,
            d.DeliveredAt,
            d.Superseded,
            d.CreatedAt,
        }));
    }

    private static async Task<IResult> PutAsync(
        string id, JsonElement body, HttpContext http, SubscriptionValidation validation, SubscriptionCatalog catalog, SubscriptionRouter router,
        Deliveries deliveries, CancellationToken cancellationToken)
    {
        var (actor, reason, problem) = Actors.Of(http);
        if (problem is not null)
        {
            return Results.Problem(title: "Bad actor or reason", detail: problem, statusCode: StatusCodes.Status400BadRequest);
        }

        var errors = validation.Validate(body, out var registration).ToList();
        if (registration is not null && registration.Id != id)
        {
            errors.Add(new FieldError("id", $"'{registration.Id}' differs from the id in the path ('{id}')", "the id of the path"));
        }

        if (errors.Count > 0 || registration is null)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status422UnprocessableEntity,
                title: "The subscription registration is invalid",
                detail: errors.Count == 1 ? "1 problem was found." : $"{errors.Count} problems were found.",
                extensions: new Dictionary<string, object?> { ["valid"] = false, ["errors"] = errors });
        }

        var saved = await catalog.SaveAsync(registration, actor, reason, cancellationToken);
        router.Invalidate();
        var view = await ViewAsync((await catalog.GetAsync(id, cancellationToken))!, deliveries, cancellationToken);
        return saved == SubscriptionSave.Created ? Results.Created($"/api/subscriptions/{id}", view) : Results.Ok(view);
    }

    private static async Task<IResult> ReplayAsync(
        string id, HttpContext http, SubscriptionCatalog catalog, Deliveries deliveries, CancellationToken cancellationToken)
    {
        var (actor, reason, problem) = Actors.Of(http);
        if (problem is not null)
        {
            return Results.Problem(title: "Bad actor or reason", detail: problem, statusCode: StatusCodes.Status400BadRequest);
        }

        ReplayRequest? request = null;
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                request = await JsonSerializer.DeserializeAsync<ReplayRequest>(http.Request.Body, ConnectorCatalog.Json, cancellationToken);
            }
            catch (JsonException e)
            {
                return Results.Problem(title: "Bad replay request", statusCode: StatusCodes.Status400BadRequest,
                    detail: $"The body must be {{\"ids\": [delivery ids]}} or empty (every dead letter): {e.Message}");
            }
        }

        if (await catalog.GetAsync(id, cancellationToken) is null)
        {
            return NotFound(id);
        }

        var replayed = await deliveries.ReplayAsync(id, request?.Ids, actor, reason, cancellationToken);
        return Results.Ok(new { replayed });
    }

    private static async Task<SubscriptionView> ViewAsync(SubscriptionState state, Deliveries deliveries, CancellationToken cancellationToken)
    {
        var r = state.Registration;
        var counts = await deliveries.CountsAsync(r.Id, cancellationToken);
        return new SubscriptionView(r.Id, r.Kind, r.DisplayName, r.Active, r.Filter, r.Delivery,
            counts.ToDictionary(c => Deliveries.Name(c.Key), c => c.Value), state.CreatedAt, state.UpdatedAt);
    }

    private static IResult NotFound(string id) =>
        Results.Problem(title: "Not found", detail: $"No subscription is registered with id '{id}'.", statusCode: StatusCodes.Status404NotFound);
}
