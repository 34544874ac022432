using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Core.Audit;
using Hub.Core.Identity;
using Hub.Core.Sync;
using Hub.Worker.Identity;
using Hub.Worker.Sync;

namespace Hub.Worker.Api;

/// <summary>
/// What the teams who register connectors need: the connector kinds with the JSON Schema of their configuration, a
/// validation of a whole registration that names every problem with its field, and the registration itself. A
/// province-admin registers, changes, submits, activates, pauses, retires and deletes the connectors of its agencies;
/// an operator approves them (not the one who submitted) and may do everything else too. Every change is an
/// administrative entry of the exchange log with who and why (<c>?reason=</c>; required for lifecycle steps).
/// </summary>
public static class ConnectorRegistrationApi
{
    public static WebApplication MapConnectorRegistrationApi(this WebApplication app)
    {
        app.MapGet("/api/connector-kinds", ListKinds)
            .RequireAuthorization(HubPolicies.Connectors)
            .WithSummary("The connector kinds with the JSON Schema of their configuration (secrets writeOnly).");
        app.MapPost("/api/connectors/validate", Validate)
            .RequireAuthorization(HubPolicies.Connectors)
            .WithSummary("Checks a connector registration field by field; stores nothing.")
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        var api = app.MapGroup("/api/connectors").RequireAuthorization(HubPolicies.Connectors);
        api.MapPost("/", CreateAsync)
            .WithSummary("Registers a connector as a draft of its agency (validated as /validate does).")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        api.MapGet("/{id}", GetAsync).WithSummary("One connector: its lifecycle, cursor and last run; never its configuration.");
        api.MapPut("/{id}", UpdateAsync)
            .WithSummary("Changes a connector's registration; a submitted or approved one goes back to draft; ?reprocess=true re-processes the quarantine after a mapping change.")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        api.MapDelete("/{id}", DeleteAsync)
            .WithSummary("Deletes a connector that has never run; one with history is retired instead.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/{id}/lifecycle/{step}", StepAsync)
            .WithSummary("A lifecycle step with a reason: submit, return, approve (operators), activate, pause, resume or retire.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/{id}/mappings", MappingsAsync).WithSummary("Every version of the connector's mapping, newest first.");
        return app;
    }

    private static async Task<IResult> CreateAsync(
        JsonElement body, HttpContext http, ConnectorValidation validation, ConnectorCatalog catalog, SyncLedger ledger, CancellationToken cancellationToken)
    {
        var (actor, reason, actorProblem) = Actors.Of(http);
        if (actorProblem is not null)
        {
            return BadReason(actorProblem);
        }

        if (Refusal(body, validation) is { } invalid)
        {
            return invalid;
        }

        var registration = body.Deserialize<ConnectorRegistration>(ConnectorCatalog.Json)!;
        if (!ConnectorAccess.MayOwn(http, registration.Agency))
        {
            return NotYourAgency(registration.Agency);
        }

        return await Guarded(registration.Id, async () =>
        {
            await catalog.CreateAsync(registration, actor, reason, cancellationToken);
            var state = await catalog.GetAsync(registration.Id, cancellationToken);
            return Results.Created($"/api/connectors/{registration.Id}", await ConnectorsApi.ViewAsync(state!, ledger, cancellationToken));
        });
    }

    private static async Task<IResult> GetAsync(string id, HttpContext http, ConnectorCatalog catalog, SyncLedger ledger, CancellationToken cancellationToken)
    {
        var (state, denied) = await ConnectorAccess.FindAsync(http, id, catalog, cancellationToken);
        return denied ?? Results.Ok(await ConnectorsApi.ViewAsync(state!, ledger, cancellationToken));
    }

    private static async Task<IResult> UpdateAsync(
        string id, bool? reprocess, JsonElement body, HttpContext http, ConnectorValidation validation, ConnectorCatalog catalog, SyncLedger ledger,
        SyncScheduler scheduler, ExchangeLog log, TimeProvider time, CancellationToken cancellationToken)
    {
        var (actor, reason, actorProblem) = Actors.Of(http);
        if (actorProblem is not null)
        {
            return BadReason(actorProblem);
        }

        var (stored, denied) = await ConnectorAccess.FindAsync(http, id, catalog, cancellationToken);
        if (denied is not null || stored is null)
        {
            return denied ?? ConnectorAccess.NotFound(id);
        }

        if (Refusal(body, validation) is { } invalid)
        {
            return invalid;
        }

        // Checked before anything changes: the re-processing must be possible for the change to go with it.
        if (reprocess == true && stored.Lifecycle is not (ConnectorLifecycle.Active or ConnectorLifecycle.Paused))
        {
            return Results.Problem(
                title: "Nothing to re-process",
                detail: $"Connector '{id}' is {ConnectorCatalog.Name(stored.Lifecycle)}: only an active or paused connector's quarantine is re-processed; change it without ?reprocess=true.",
                statusCode: StatusCodes.Status409Conflict);
        }

        var registration = body.Deserialize<ConnectorRegistration>(ConnectorCatalog.Json)!;
        if (registration.Id != id)
        {
            return Invalid([new FieldError("id", $"is '{registration.Id}' but the URL names connector '{id}'", "the id of the connector in the URL: ids never change")]);
        }

        if (!ConnectorAccess.MayOwn(http, registration.Agency))
        {
            return NotYourAgency(registration.Agency);
        }

        return await Guarded(id, async () =>
        {
            var actions = await catalog.UpdateAsync(registration, actor, reason, cancellationToken);
            var state = (await catalog.GetAsync(id, cancellationToken))!;

            // A new mapping version can map what the earlier one quarantined: queued at once when asked.
            string? reprocessJobId = null;
            if (reprocess == true && actions.Contains("mapping.changed"))
            {
                var (jobId, _, refused) = await ConnectorsApi.QueueAsync(state, SyncTrigger.Reprocess, actor, reason, scheduler, log, time, cancellationToken);
                if (refused is not null)
                {
                    return refused;
                }

                reprocessJobId = jobId;
            }

            return Results.Ok(new { actions, reprocessJobId, connector = await ConnectorsApi.ViewAsync(state, ledger, cancellationToken) });
        });
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext http, ConnectorCatalog catalog, CancellationToken cancellationToken)
    {
        var (actor, reason, actorProblem) = Actors.Of(http);
        if (actorProblem is not null)
        {
            return BadReason(actorProblem);
        }

        if ((await ConnectorAccess.FindAsync(http, id, catalog, cancellationToken)).Denied is { } denied)
        {
            return denied;
        }

        return await Guarded(id, async () =>
        {
            await catalog.DeleteAsync(id, actor, reason, cancellationToken);
            return Results.NoContent();
        });
    }

    private static async Task<IResult> StepAsync(
        string id, string step, HttpContext http, ConnectorCatalog catalog, SyncLedger ledger, CancellationToken cancellationToken)
    {
        var (actor, reason, actorProblem) = Actors.Of(http);
        if (actorProblem is not null || reason is null)
        {
            return BadReason(actorProblem ?? $"A lifecycle step needs a reason: add ?{Actors.ReasonParameter}=… saying why.");
        }

        if ((await ConnectorAccess.FindAsync(http, id, catalog, cancellationToken)).Denied is { } denied)
        {
            return denied;
        }

        if (!ConnectorCatalog.Steps.TryGetValue(step, out var lifecycleStep))
        {
            return Results.Problem(
                title: "Unknown lifecycle step",
                detail: $"'{step}' is not a lifecycle step; the steps are {string.Join(", ", ConnectorCatalog.Steps.Keys)}.",
                statusCode: StatusCodes.Status404NotFound);
        }

        var isOperator = HubUser.Of(http.User)?.Has(Roles.Operator) == true;
        return await Guarded(id, async () =>
        {
            await catalog.StepAsync(id, lifecycleStep, actor, isOperator, reason, cancellationToken);
            var state = await catalog.GetAsync(id, cancellationToken);
            return Results.Ok(await ConnectorsApi.ViewAsync(state!, ledger, cancellationToken));
        });
    }

    private static async Task<IResult> MappingsAsync(string id, HttpContext http, ConnectorCatalog catalog, CancellationToken cancellationToken) =>
        (await ConnectorAccess.FindAsync(http, id, catalog, cancellationToken)).Denied
            ?? Results.Ok(await catalog.MappingVersionsAsync(id, cancellationToken));

    /// <summary>The registration's problems as a 422 answer, or none. The lifecycle, not the body, says whether a connector runs.</summary>
    private static IResult? Refusal(JsonElement body, ConnectorValidation validation)
    {
        var errors = validation.Validate(body, out _).ToList();
        if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("active", out _))
        {
            errors.Add(new FieldError("active", "is set by the connector's lifecycle through the API, not by its registration",
                "no 'active' property: use POST /api/connectors/{id}/lifecycle/{activate|pause|resume}"));
        }

        return errors.Count == 0 ? null : Invalid(errors);
    }

    /// <summary>A catalog call with its refusals as problem details: 404 unknown, 409 conflict, 403 not the caller's to take.</summary>
    private static async Task<IResult> Guarded(string id, Func<Task<IResult>> call)
    {
        try
        {
            return await call();
        }
        catch (UnknownConnectorException)
        {
            return ConnectorAccess.NotFound(id);
        }
        catch (ConnectorConflictException e)
        {
            return Results.Problem(title: "Conflict with the registered connector", detail: e.Message, statusCode: StatusCodes.Status409Conflict);
        }
        catch (UnauthorizedAccessException e)
        {
            return Results.Problem(title: "Forbidden", detail: e.Message, statusCode: StatusCodes.Status403Forbidden);
        }
    }

    private static IResult BadReason(string problem) =>
        Results.Problem(title: "Bad actor or reason", detail: problem, statusCode: StatusCodes.Status400BadRequest);

    private static IResult NotYourAgency(string? agency) => Results.Problem(
        title: "Forbidden",
        detail: agency is null
            ? "A connector without an agency is central and only operators maintain it; give 'agency', one you maintain."
            : $"You do not maintain agency '{agency}': connectors are registered to the agencies your province-admin grants name.",
        statusCode: StatusCodes.Status403Forbidden);

    /// <summary>422 problem details with every field problem in <c>errors</c>, as POST /api/connectors/validate answers.</summary>
    internal static IResult Invalid(IReadOnlyList<FieldError> errors) => Results.Problem(
        statusCode: StatusCodes.Status422UnprocessableEntity,
        title: "The connector registration is invalid",
        detail: errors.Count == 1 ? "1 problem was found." : $"{errors.Count} problems were found.",
        extensions: new Dictionary<string, object?> { ["valid"] = false, ["errors"] = errors });

    private static IResult ListKinds(ConnectorKinds kinds) =>
        Results.Ok(kinds.All.OrderBy(k => k.Name, StringComparer.Ordinal).Select(k => new ConnectorKindView(
            k.Name,
            k.Description,
            ConnectorKinds.Direction(k),
            ConnectorValidation.SchemaOf(k) is { } schema ? MarkSecretsWriteOnly(schema) : null)));

    /// <summary>Stores nothing: 200 <c>{"valid": true}</c>, or 422 problem details with every problem in <c>errors</c>.</summary>
    private static IResult Validate(JsonElement registration, ConnectorValidation validation)
    {
        var errors = validation.Validate(registration, out _);
        return errors.Count == 0 ? Results.Ok(new { valid = true }) : Invalid(errors);
    }

    /// <summary>
    /// Kinds mark secrets with <c>"x-secret": true</c>; API clients know JSON Schema's <c>"writeOnly": true</c>, which says
    /// the same: sent when registering, never returned.
    /// </summary>
    private static JsonNode MarkSecretsWriteOnly(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["x-secret"] is JsonValue secret && secret.TryGetValue<bool>(out var isSecret) && isSecret)
                {
                    obj["writeOnly"] = true;
                }

                foreach (var (_, child) in obj.ToList())
                {
                    if (child is not null)
                    {
                        MarkSecretsWriteOnly(child);
                    }
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    if (child is not null)
                    {
                        MarkSecretsWriteOnly(child);
                    }
                }

                break;
            default:
                break;
        }

        return node;
    }

    private sealed record ConnectorKindView(string Name, string Description, string Direction, JsonNode? ConfigurationSchema);
}
