using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authorization;

namespace Hub.Worker.Api;

/// <summary>Request limits (<c>Hub:Limits</c>): rates here, body sizes in <see cref="RequestLimits"/>.</summary>
public sealed class LimitOptions
{
    public const string Section = "Hub:Limits";

    /// <summary>Requests per minute of one authenticated principal (all its keys together).</summary>
    public int PermitsPerMinute { get; set; } = 600;

    /// <summary>Requests per minute from one address without a principal: missing or refused keys, portal log-ins.</summary>
    public int AnonymousPermitsPerMinute { get; set; } = 1200;

    /// <summary>
    /// The largest request body, in bytes, of any endpoint that states no larger limit of its own (the pushes do). API
    /// calls send small JSON documents; Kestrel's default (30 MB) would let any caller make the hub buffer that much.
    /// </summary>
    public long MaxRequestBodyBytes { get; set; } = DefaultMaxRequestBodyBytes;

    public const long DefaultMaxRequestBodyBytes = 1024 * 1024;
}

/// <summary>
/// One fixed window per principal, and per remote address for calls without one (missing or refused keys, portal
/// log-ins), so that one caller cannot crowd out the others or guess keys; health checks and signed pushes are not
/// limited here. A refused call gets 429 with problem details and <c>Retry-After</c>.
/// </summary>
public static class RateLimits
{
    public static IHostApplicationBuilder AddHubRateLimits(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(LimitOptions.Section).Get<LimitOptions>() ?? new LimitOptions();
        if (options.PermitsPerMinute < 1 || options.AnonymousPermitsPerMinute < 1)
        {
            throw new InvalidOperationException("Hub:Limits:PermitsPerMinute and Hub:Limits:AnonymousPermitsPerMinute must be at least 1.");
        }

        builder.Services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                // Health checks, and pushes that prove who sends them by their own means (a province back-filling
                // sends thousands a minute from one address), are not limited here; log-ins to the portal adapter are.
                var open = http.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null;
                if (http.Request.Path.StartsWithSegments("/health") || (open && !http.Request.Path.StartsWithSegments("/portal/login")))
                {
                    return RateLimitPartition.GetNoLimiter("unlimited");
                }

                var (key, permits) = http.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } principal
                    ? ("principal:" + principal, options.PermitsPerMinute)
                    : ("address:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown"), options.AnonymousPermitsPerMinute);
                return RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = permits,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                });
            });
            o.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                var who = http.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } id ? $"principal '{id}'" : "this address";
                var permits = http.User.Identity?.IsAuthenticated == true ? options.PermitsPerMinute : options.AnonymousPermitsPerMinute;
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = $"{who} made more than {permits} requests in a minute; retry after {seconds} s.",
                    },
                });
            };
        });
        return builder;
    }
}
