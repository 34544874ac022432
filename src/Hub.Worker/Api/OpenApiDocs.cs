using System.Text.Json.Nodes;
using Hub.Worker.Identity;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;

namespace Hub.Worker.Api;

/// <summary>
/// The HTTP API described by a generated OpenAPI document (<c>/openapi/v1.json</c>) with a browsable UI
/// (<c>/docs</c>): every mapped endpoint, the API-key scheme, which operations need a key, an example of every request
/// body (the tests send each one and check the hub takes it), and problem-details examples of the errors.
/// </summary>
public static class OpenApiDocs
{
    /// <summary>Where the document is served.</summary>
    public const string DocumentPath = "/openapi/v1.json";

    private const string SchemeId = "ApiKey";

    public static IServiceCollection AddHubOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Hub: the dossier-status integration hub",
                    Version = "v1",
                    Description = "Connectors, the central dossier-status store, the tamper-evident exchange log and identities. "
                        + "Errors are RFC 9457 problem details. Every operation but health and the self-authenticated pushes needs an API key.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[SchemeId] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "hub_<id>_<secret>",
                    Description = $"An API key, as 'Authorization: Bearer <key>' (or the {ApiKeyAuthenticationHandler.KeyHeader} header); "
                        + "when the hub is configured for it (Hub:Identity:Jwt), a JWT from the identity provider whose subject is a hub principal.",
                };
                return Task.CompletedTask;
            });
            o.AddOperationTransformer((operation, context, _) =>
            {
                AddExamples(operation, $"{context.Description.HttpMethod} /{context.Description.RelativePath?.TrimEnd('/')}");
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<IAllowAnonymous>().Any())
                {
                    return Task.CompletedTask;
                }

                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, context.Document)] = [] });
                operation.Responses ??= new OpenApiResponses();
                operation.Responses.TryAdd("401", Problem(
                    "No API key, or an unknown, revoked or expired one (problem details saying which).",
                    401, "Unauthorized", "This route needs an API key: send 'Authorization: Bearer <key>' or the X-Api-Key header."));
                operation.Responses.TryAdd("403", Problem(
                    "The key's roles do not allow this operation (problem details naming them).",
                    403, "Forbidden", "it@h56 (roles: province-admin) may not POST /api/exchange/checkpoints."));
                return Task.CompletedTask;
            });
        });

    /// <summary>Examples of request bodies, by <c>METHOD /route</c>.</summary>
    private static readonly Dictionary<string, (string MediaType, Func<JsonNode> Example)> RequestExamples = new(StringComparer.OrdinalIgnoreCase)
    {
        ["POST /api/connectors"] = ("application/json", Registration),
        ["PUT /api/connectors/{id}"] = ("application/json", Registration),
        ["POST /api/connectors/validate"] = ("application/json", Registration),
        ["POST /api/connectors/check"] = ("application/json", Registration),
        ["POST /api/connectors/preview"] = ("application/json", Registration),
        ["POST /api/connectors/{id}/maintenance"] = ("application/json", () => new JsonObject
        {
            ["from"] = "2027-01-10T22:00:00+07:00",
            ["to"] = "2027-01-11T02:00:00+07:00",
            ["reason"] = "the province moves its one-stop system to a new server",
        }),
        ["PUT /api/subscriptions/{id}"] = ("application/json", () => new JsonObject
        {
            ["id"] = "moj-civil-status",
            ["kind"] = "signed-webhook",
            ["displayName"] = "Ministry of Justice: civil-status dossiers of H56",
            ["configuration"] = new JsonObject
            {
                ["url"] = "https://events.moj.example.gov.vn/hub",
                ["secret"] = "u9cFnr54aTRQ+3pH9mVVZKLCE0/o2tJ4iHNAF0I6mqA=",
            },
            ["filter"] = new JsonObject
            {
                ["agencies"] = new JsonArray("*.H56"),
                ["procedures"] = new JsonArray("1.001612"),
                ["statuses"] = new JsonArray(2, 4, 9, 10),
            },
            ["delivery"] = new JsonObject { ["maxAttempts"] = 8, ["retryBaseDelay"] = "00:00:10", ["maxRetryDelay"] = "00:30:00", ["batchSize"] = 100 },
        }),
        ["POST /api/principals"] = ("application/json", () => new JsonObject
        {
            ["id"] = "it@h56",
            ["displayName"] = "H56 provincial IT team",
            ["roles"] = new JsonArray(new JsonObject { ["role"] = "province-admin", ["agency"] = "H56" }),
            ["reason"] = "the team connects the province's one-stop system",
        }),
        ["PUT /api/principals/{id}/roles"] = ("application/json", () => new JsonObject
        {
            ["roles"] = new JsonArray(new JsonObject { ["role"] = "province-admin", ["agency"] = "H56" }, new JsonObject { ["role"] = "province-admin", ["agency"] = "H57" }),
            ["reason"] = "the team also runs H57's system",
        }),
        ["POST /api/principals/{id}/keys"] = ("application/json", () => new JsonObject
        {
            ["description"] = "deployment pipeline of the H56 team",
            ["expiresAt"] = "2027-06-30T00:00:00+07:00",
            ["reason"] = "automated registration",
        }),
    };

    private static JsonNode Registration()
    {
        using var stream = typeof(OpenApiDocs).Assembly.GetManifestResourceStream("Hub.Worker.Api.Examples.connector-registration.json")
            ?? throw new InvalidOperationException("The registration example is not embedded.");
        return JsonNode.Parse(stream)!;
    }

    private static void AddExamples(OpenApiOperation operation, string key)
    {
        if (RequestExamples.TryGetValue(key, out var example))
        {
            if (operation.RequestBody is not OpenApiRequestBody body)
            {
                body = new OpenApiRequestBody { Required = true };
                operation.RequestBody ??= body;
            }

            body.Content ??= new Dictionary<string, OpenApiMediaType>();
            if (!body.Content.TryGetValue(example.MediaType, out var media))
            {
                media = new OpenApiMediaType();
                body.Content[example.MediaType] = media;
            }

            media.Example = example.Example();
        }

        // Every problem-details answer the endpoint declares gets an example of the form.
        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (response.Content?.TryGetValue("application/problem+json", out var problem) == true && problem.Example is null
                && int.TryParse(status, out var code))
            {
                problem.Example = ProblemExample(code, "The request was refused", "What was wrong, where and why, in words the caller can act on.");
            }
        }
    }

    private static OpenApiResponse Problem(string description, int status, string title, string detail) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            ["application/problem+json"] = new() { Example = ProblemExample(status, title, detail) },
        },
    };

    private static JsonObject ProblemExample(int status, string title, string detail) => new()
    {
        ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.5",
        ["title"] = title,
        ["status"] = status,
        ["detail"] = detail,
        ["traceId"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
    };

    /// <summary>Serves the document and the UI, both open (they describe the API, they give no access to it).</summary>
    public static WebApplication MapHubOpenApi(this WebApplication app)
    {
        app.MapOpenApi(DocumentPath).AllowAnonymous();
        return app;
    }

    /// <summary>The UI at <c>/docs</c>, ahead of authentication (its static files are not endpoints).</summary>
    public static WebApplication UseHubApiDocs(this WebApplication app)
    {
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint(DocumentPath, "Hub v1");
            o.RoutePrefix = "docs";
            o.DocumentTitle = "Hub API";
        });
        return app;
    }
}
