using Hub.Worker.Identity;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;

namespace Hub.Worker.Api;

/// <summary>
/// The HTTP API described by a generated OpenAPI document (<c>/openapi/v1.json</c>) with a browsable UI
/// (<c>/docs</c>): every mapped endpoint, the API-key scheme, and which operations need a key.
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
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<IAllowAnonymous>().Any())
                {
                    return Task.CompletedTask;
                }

                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, context.Document)] = [] });
                operation.Responses ??= new OpenApiResponses();
                operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No API key, or an unknown, revoked or expired one (problem details saying which)." });
                operation.Responses.TryAdd("403", new OpenApiResponse { Description = "The key's roles do not allow this operation (problem details naming them)." });
                return Task.CompletedTask;
            });
        });

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
