using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Hub.Worker.Api;

/// <summary>
/// Request body sizes: <see cref="LimitOptions.MaxRequestBodyBytes"/> (1 MiB) for every endpoint, and a larger limit
/// stated by each endpoint that receives large bodies (<see cref="WithBodyLimit"/>), consistent with its own checks. An
/// over-limit body gets 413 with problem details saying the limit, whether its length was announced or it came chunked.
/// </summary>
public static class RequestLimits
{
    /// <summary>The smallest general limit accepted: the smallest JSON calls must still fit.</summary>
    public const long MinRequestBodyBytes = 1024;

    /// <summary>Sets the server's body limit from <c>Hub:Limits:MaxRequestBodyBytes</c>.</summary>
    public static IHostApplicationBuilder AddHubRequestLimits(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(LimitOptions.Section).Get<LimitOptions>() ?? new LimitOptions();
        if (options.MaxRequestBodyBytes < MinRequestBodyBytes)
        {
            throw new InvalidOperationException($"Hub:Limits:MaxRequestBodyBytes must be at least {MinRequestBodyBytes}.");
        }

        // Kestrel applies it to every request, and the endpoint routing middleware replaces it with an endpoint's
        // IRequestSizeLimitMetadata before anything reads the body.
        builder.Services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        return builder;
    }

    /// <summary>States the largest body this endpoint accepts, instead of the general limit.</summary>
    public static RouteHandlerBuilder WithBodyLimit(this RouteHandlerBuilder endpoint, long maxBytes) =>
        endpoint.WithMetadata(new RequestSizeLimitAttribute(maxBytes));

    /// <summary>
    /// Answers an over-limit body with 413 and problem details: at once when the announced length is over the limit (the
    /// endpoint does not run), and when the server stops a chunked body at the limit while the endpoint reads it (thrown
    /// as <see cref="Microsoft.AspNetCore.Http.BadHttpRequestException"/>, or turned into a bare 413 by minimal APIs' body binding).
    /// </summary>
    public static WebApplication UseHubRequestLimits(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            var feature = http.Features.Get<IHttpMaxRequestBodySizeFeature>();
            var limit = feature?.MaxRequestBodySize;
            if (limit is { } max && http.Request.ContentLength > max)
            {
                await TooLargeAsync(http, max);
                return;
            }

            try
            {
                await next(http);
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge && !http.Response.HasStarted)
            {
                http.Response.Clear();
                await TooLargeAsync(http, feature?.MaxRequestBodySize ?? limit);
                return;
            }

            if (http.Response.StatusCode == StatusCodes.Status413PayloadTooLarge && !http.Response.HasStarted)
            {
                await TooLargeAsync(http, feature?.MaxRequestBodySize ?? limit);
            }
        });
        return app;
    }

    private static Task TooLargeAsync(HttpContext http, long? limit)
    {
        http.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        // The rest of the body is not read: the connection is not reused.
        http.Response.Headers.Connection = "close";
        var bound = limit is { } max ? $"{max.ToString(CultureInfo.InvariantCulture)} bytes" : "what it accepts";
        return http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status413PayloadTooLarge,
                Title = "Request body too large",
                Detail = $"The body of {http.Request.Method} {http.Request.Path} is larger than {bound}, the limit of this endpoint; send a smaller one.",
            },
        }).AsTask();
    }
}
