using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Worker.Identity;
using Hub.Worker.Sync;

namespace Hub.Worker.Api;

/// <summary>
/// What the teams who register connectors need before anything is stored: the connector kinds with the JSON Schema of
/// their configuration, and a validation of a whole registration that names every problem with its field.
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
        return app;
    }

    private static IResult ListKinds(ConnectorKinds kinds) =>
        Results.Ok(kinds.All.OrderBy(k => k.Name, StringComparer.Ordinal).Select(k => new ConnectorKindView(
            k.Name,
            k.Description,
            k is Hub.Connectors.IPullConnectorKind ? "pull" : "push",
            ConnectorValidation.SchemaOf(k) is { } schema ? MarkSecretsWriteOnly(schema) : null)));

    /// <summary>Stores nothing: 200 <c>{"valid": true}</c>, or 422 problem details with every problem in <c>errors</c>.</summary>
    private static IResult Validate(JsonElement registration, ConnectorValidation validation)
    {
        var errors = validation.Validate(registration, out _);
        return errors.Count == 0 ? Results.Ok(new { valid = true }) : Invalid(errors);
    }

    /// <summary>The 422 problem details of an invalid registration, with every problem in <c>errors</c>.</summary>
    internal static IResult Invalid(IReadOnlyList<FieldError> errors) => Results.Problem(
        statusCode: StatusCodes.Status422UnprocessableEntity,
        title: "The connector registration is invalid",
        detail: errors.Count == 1 ? "1 problem was found." : $"{errors.Count} problems were found.",
        extensions: new Dictionary<string, object?> { ["valid"] = false, ["errors"] = errors });

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
