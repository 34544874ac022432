using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hub.Simulator.Generation;
using Hub.Simulator.Vendor;
using Microsoft.Extensions.Primitives;

namespace Hub.Simulator;

/// <summary>
/// The vendor REST API of a simulated province, as minimal-API endpoints under <c>/{SourceSystem}</c>:
/// the OAuth2 token endpoint, the revisions feed, a health check and the simulator's own counters.
/// </summary>
public static class SimulatorEndpoints
{
    /// <summary>The revisions feed, below the province's prefix.</summary>
    public const string RevisionsPath = "/api/v1/dossiers/revisions";

    /// <summary>The vendor's health check, below the province's prefix (no token needed).</summary>
    public const string HealthPath = "/api/v1/health";

    /// <summary>The simulator's counters, below the province's prefix (and for all provinces at the host's root).</summary>
    public const string StatsPath = "/_sim/stats";

    /// <summary>The <c>updatedFrom</c> format: the vendor's own cursor format, Vietnam time without a zone.</summary>
    public const string UpdatedFromFormat = "yyyy-MM-dd HH:mm:ss";

    private enum Endpoint
    {
        Token,
        Feed,
        Health,
    }

    /// <summary>Maps the province's endpoints under <c>/{SourceSystem}</c>.</summary>
    public static RouteGroupBuilder MapSimulatedProvince(this IEndpointRouteBuilder endpoints, SimulatedProvince province)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(province);
        var group = endpoints.MapGroup("/" + province.SourceSystem);
        group.MapPost(province.Options.TokenPath, ctx => GuardedAsync(province, ctx, Endpoint.Token, TokenAsync));
        group.MapGet(RevisionsPath, ctx => GuardedAsync(province, ctx, Endpoint.Feed, FeedAsync));
        group.MapGet(HealthPath, ctx => GuardedAsync(province, ctx, Endpoint.Health, HealthAsync));
        group.MapGet(StatsPath, ctx => WriteJsonAsync(ctx, StatusCodes.Status200OK, w => WriteStats(w, province)));
        return group;
    }

    /// <summary>The counters of a province as the stats endpoint writes them.</summary>
    internal static void WriteStats(Utf8JsonWriter w, SimulatedProvince province)
    {
        var stats = province.Stats;
        w.WriteStartObject();
        w.WriteString("sourceSystem", province.SourceSystem);
        w.WriteNumber("requests", stats.Requests);
        w.WriteNumber("feedRequests", stats.FeedRequests);
        w.WriteNumber("tokenRequests", stats.TokenRequests);
        w.WriteNumber("tokensIssued", stats.TokensIssued);
        w.WriteNumber("unauthorized", stats.Unauthorized);
        w.WriteNumber("pagesServed", stats.PagesServed);
        w.WriteNumber("itemsServed", stats.ItemsServed);
        w.WriteNumber("revisionsServed", stats.RevisionsServed);
        w.WritePropertyName("faultsInjected");
        w.WriteStartObject();
        foreach (var (kind, count) in stats.FaultsInjected)
        {
            w.WriteNumber(JsonNamingPolicy.CamelCase.ConvertName(kind.ToString()), count);
        }

        w.WriteEndObject();
        w.WritePropertyName("feed");
        w.WriteStartObject();
        w.WriteNumber("revisions", province.RevisionCount);
        w.WriteNumber("visibleRevisions", province.Revisions.Count(r => r.UpdatedAt <= province.TimeProvider.GetUtcNow()));
        w.WriteNumber("duplicatesInjected", province.DuplicatesInjected);
        w.WritePropertyName("malformedInjected");
        w.WriteStartObject();
        foreach (var (kind, count) in province.MalformedInjected)
        {
            w.WriteNumber(JsonNamingPolicy.CamelCase.ConvertName(kind.ToString()), count);
        }

        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The faults every endpoint shares, in order: unreachable, latency, down.</summary>
    private static async Task GuardedAsync(SimulatedProvince province, HttpContext ctx, Endpoint endpoint, Func<SimulatedProvince, HttpContext, Task> handler)
    {
        var stats = province.Stats;
        stats.CountRequest();
        var feedNumber = 0L;
        if (endpoint == Endpoint.Feed)
        {
            feedNumber = stats.CountFeedRequest();
        }
        else if (endpoint == Endpoint.Token)
        {
            stats.CountTokenRequest();
        }

        var faults = province.Faults.Current;
        if (faults.Unreachable)
        {
            stats.CountFault(FaultKind.Unreachable);
            ctx.Abort();
            return;
        }

        var delay = faults.Latency;
        if (faults.LatencyJitter > TimeSpan.Zero)
        {
            delay += faults.LatencyJitter * province.NextFaultDraw();
        }

        if (delay > TimeSpan.Zero)
        {
            stats.CountFault(FaultKind.Latency);
            if (!await DelayAsync(delay, province, ctx))
            {
                return;
            }
        }

        var down = faults.Down || (faults.DownAfterFeedRequests is { } limit
            && (endpoint == Endpoint.Feed ? feedNumber > limit : stats.FeedRequests >= limit));
        if (down)
        {
            stats.CountFault(FaultKind.Down);
            await ErrorAsync(ctx, StatusCodes.Status503ServiceUnavailable, "service_unavailable", "The one-stop system is down for maintenance.");
            return;
        }

        await handler(province, ctx);
    }

    private static async Task HealthAsync(SimulatedProvince province, HttpContext ctx) =>
        await WriteJsonAsync(ctx, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("status", "UP");
            w.WriteEndObject();
        });

    /// <summary>OAuth2 client credentials (RFC 6749 §4.4), client authentication by form fields or HTTP Basic.</summary>
    private static async Task TokenAsync(SimulatedProvince province, HttpContext ctx)
    {
        if (!ctx.Request.HasFormContentType)
        {
            await ErrorAsync(ctx, StatusCodes.Status400BadRequest, "invalid_request", "The body must be application/x-www-form-urlencoded.");
            return;
        }

        IFormCollection form;
        try
        {
            form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
        }
        catch (InvalidDataException e)
        {
            await ErrorAsync(ctx, StatusCodes.Status400BadRequest, "invalid_request", e.Message);
            return;
        }

        if (form["grant_type"] != "client_credentials")
        {
            await ErrorAsync(ctx, StatusCodes.Status400BadRequest, "unsupported_grant_type", "Only grant_type=client_credentials is supported.");
            return;
        }

        var (clientId, clientSecret) = BasicCredentials(ctx.Request.Headers.Authorization) ?? (form["client_id"].ToString(), form["client_secret"].ToString());
        if (!FixedTimeEquals(clientId, province.Options.ClientId) || !FixedTimeEquals(clientSecret, province.Options.ClientSecret))
        {
            province.Stats.CountUnauthorized();
            ctx.Response.Headers.WWWAuthenticate = "Basic realm=\"one-stop\"";
            await ErrorAsync(ctx, StatusCodes.Status401Unauthorized, "invalid_client", "Client authentication failed.");
            return;
        }

        var now = province.TimeProvider.GetUtcNow();
        var lifetime = province.Options.TokenLifetime;
        var token = province.Tokens.Issue(now + lifetime, now);
        province.Stats.CountTokenIssued();
        ctx.Response.Headers.CacheControl = "no-store";
        await WriteJsonAsync(ctx, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("access_token", token);
            w.WriteString("token_type", "Bearer");
            w.WriteNumber("expires_in", (long)lifetime.TotalSeconds);
            w.WriteString("scope", "dossier.read");
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// The revisions feed: bearer token, then the request-level faults (500, 429, hang), then the query, then one
    /// page of the visible feed (position time at or before the province's now, at or after <c>updatedFrom</c>).
    /// </summary>
    private static async Task FeedAsync(SimulatedProvince province, HttpContext ctx)
    {
        var now = province.TimeProvider.GetUtcNow();
        if (!await AuthorizedAsync(province, ctx, now))
        {
            return;
        }

        var faults = province.Faults.Current;
        var stats = province.Stats;
        if (faults.ServerErrorRate + faults.TooManyRequestsRate + faults.TimeoutRate > 0)
        {
            var draw = province.NextFaultDraw();
            if (draw < faults.ServerErrorRate)
            {
                stats.CountFault(FaultKind.ServerError);
                await ErrorAsync(ctx, StatusCodes.Status500InternalServerError, "internal_server_error", "Simulated server error.");
                return;
            }

            draw -= faults.ServerErrorRate;
            if (draw < faults.TooManyRequestsRate)
            {
                stats.CountFault(FaultKind.TooManyRequests);
                ctx.Response.Headers.RetryAfter = faults.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                await ErrorAsync(ctx, StatusCodes.Status429TooManyRequests, "too_many_requests", "Rate limit exceeded.");
                return;
            }

            draw -= faults.TooManyRequestsRate;
            if (draw < faults.TimeoutRate)
            {
                stats.CountFault(FaultKind.Timeout);
                if (await DelayAsync(faults.HangTime, province, ctx))
                {
                    await ErrorAsync(ctx, StatusCodes.Status504GatewayTimeout, "gateway_timeout", "Upstream timed out.");
                }

                return;
            }
        }

        var query = ParseQuery(province, ctx.Request.Query, out var error);
        if (query is null)
        {
            await ErrorAsync(ctx, StatusCodes.Status400BadRequest, "invalid_request", error!);
            return;
        }

        var feed = province.Feed();
        var visibleEnd = feed.UpperBound(now.UtcTicks);
        var first = query.UpdatedFrom is { } from ? Math.Min(feed.LowerBound(from.UtcTicks), visibleEnd) : 0;
        long start = query.Token switch
        {
            { } token when token.Generation == feed.Generation => token.Index,
            { } token => feed.LowerBound(token.PositionTicks),
            null => first + query.Skip,
        };
        start = Math.Clamp(start, first, visibleEnd);
        var end = (int)Math.Min(start + query.Size, visibleEnd);
        var page = feed.Entries.AsSpan((int)start, end - (int)start).ToArray();
        if (faults.ShuffleWithinPage && page.Length > 1)
        {
            new Random(Mix.Seed(province.Options.Seed, start, 5)).Shuffle(page);
            stats.CountFault(FaultKind.Shuffle);
        }

        var revisions = 0;
        foreach (var entry in page)
        {
            switch (entry.Kind)
            {
                case FeedItemKind.Real:
                    revisions++;
                    break;
                case FeedItemKind.Duplicate:
                    revisions++;
                    stats.CountFault(FaultKind.Duplicate);
                    break;
                default:
                    stats.CountFault(SimulatedProvince.ToMalformedKind(entry.Kind) switch
                    {
                        MalformedKind.UnparseableDate => FaultKind.UnparseableDate,
                        MalformedKind.MissingCode => FaultKind.MissingCode,
                        _ => FaultKind.UnknownStatus,
                    });
                    break;
            }
        }

        var nextToken = province.Options.PagingMode == PagingMode.NextToken && end < visibleEnd
            ? PageToken.Encode(new PageToken(feed.Generation, end, feed.PositionTicks(end)))
            : null;

        ctx.Response.StatusCode = StatusCodes.Status200OK;
        ctx.Response.ContentType = "application/json; charset=utf-8";

        // Tests that compare what the hub logged with what was served keep the page whole, to hash exactly those bytes.
        var keep = stats.KeepPageDigests ? new MemoryStream() : null;
        await using (var w = new Utf8JsonWriter((Stream?)keep ?? ctx.Response.Body, VendorJson.WriterOptions))
        {
            w.WriteStartObject();
            w.WritePropertyName("content");
            w.WriteStartArray();
            foreach (var entry in page)
            {
                VendorJson.WriteItem(w, province.Revisions[entry.Revision], province.Options.AgencyPrefix, entry.Kind);
                if (w.BytesPending > 64 * 1024)
                {
                    await w.FlushAsync(ctx.RequestAborted);
                }
            }

            w.WriteEndArray();
            w.WritePropertyName("pageable");
            w.WriteStartObject();
            w.WriteNumber("pageNumber", (start - first) / query.Size);
            w.WriteNumber("pageSize", query.Size);
            w.WriteNumber("offset", start - first);
            w.WriteEndObject();
            w.WriteNumber("totalElements", visibleEnd - first);
            w.WriteBoolean("last", end >= visibleEnd);
            if (nextToken is null)
            {
                w.WriteNull("nextPageToken");
            }
            else
            {
                w.WriteString("nextPageToken", nextToken);
            }

            w.WriteEndObject();
            await w.FlushAsync(ctx.RequestAborted);
        }

        if (keep is not null)
        {
            stats.KeepPageDigest(keep.GetBuffer().AsSpan(0, (int)keep.Length));
            await ctx.Response.Body.WriteAsync(keep.GetBuffer().AsMemory(0, (int)keep.Length), ctx.RequestAborted);
        }

        stats.CountPage(page.Length, revisions);
    }

    private sealed record FeedQuery(DateTimeOffset? UpdatedFrom, long Skip, int Size, PageToken? Token);

    private static FeedQuery? ParseQuery(SimulatedProvince province, IQueryCollection query, out string? error)
    {
        error = null;
        DateTimeOffset? from = null;
        if (query.TryGetValue("updatedFrom", out var rawFrom) && !StringValues.IsNullOrEmpty(rawFrom))
        {
            if (!DateTime.TryParseExact(rawFrom.ToString(), UpdatedFromFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
            {
                error = $"updatedFrom must be {UpdatedFromFormat} in Vietnam time (UTC+07:00), got '{rawFrom}'.";
                return null;
            }

            from = new DateTimeOffset(local, ProvinceGenerator.Vietnam);
        }

        var options = province.Options;
        if (options.PagingMode == PagingMode.PageSize)
        {
            return Whole(query, "page", 0, out var page, ref error) && Size(query, "size", options, out var size, ref error)
                ? new FeedQuery(from, page * size, size, null)
                : null;
        }

        if (options.PagingMode == PagingMode.OffsetLimit)
        {
            return Whole(query, "offset", 0, out var offset, ref error) && Size(query, "limit", options, out var limit, ref error)
                ? new FeedQuery(from, offset, limit, null)
                : null;
        }

        if (!Size(query, "size", options, out var tokenPageSize, ref error))
        {
            return null;
        }

        PageToken? token = null;
        if (query.TryGetValue("pageToken", out var rawToken) && !StringValues.IsNullOrEmpty(rawToken))
        {
            token = PageToken.Decode(rawToken.ToString());
            if (token is null)
            {
                error = "pageToken is not a token this API issued.";
                return null;
            }
        }

        return new FeedQuery(from, 0, tokenPageSize, token);
    }

    private static bool Whole(IQueryCollection query, string name, long fallback, out long value, ref string? error)
    {
        value = fallback;
        if (!query.TryGetValue(name, out var raw) || StringValues.IsNullOrEmpty(raw))
        {
            return true;
        }

        if (long.TryParse(raw.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out value) && value < int.MaxValue)
        {
            return true;
        }

        error = $"{name} must be a whole number of 0 or more, got '{raw}'.";
        return false;
    }

    private static bool Size(IQueryCollection query, string name, ProvinceOptions options, out int value, ref string? error)
    {
        if (!Whole(query, name, options.PageSize, out var raw, ref error))
        {
            value = 0;
            return false;
        }

        if (raw < 1)
        {
            error = $"{name} must be at least 1.";
            value = 0;
            return false;
        }

        value = (int)Math.Min(raw, options.MaxPageSize);
        return true;
    }

    private static async Task<bool> AuthorizedAsync(SimulatedProvince province, HttpContext ctx, DateTimeOffset now)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            province.Stats.CountUnauthorized();
            ctx.Response.Headers.WWWAuthenticate = "Bearer realm=\"one-stop\"";
            await ErrorAsync(ctx, StatusCodes.Status401Unauthorized, "unauthorized", "A bearer token is required.");
            return false;
        }

        if (!province.Tokens.IsValid(header[Scheme.Length..].Trim(), now))
        {
            province.Stats.CountUnauthorized();
            ctx.Response.Headers.WWWAuthenticate = "Bearer realm=\"one-stop\", error=\"invalid_token\"";
            await ErrorAsync(ctx, StatusCodes.Status401Unauthorized, "invalid_token", "The access token is unknown or expired.");
            return false;
        }

        return true;
    }

    private static (string Id, string Secret)? BasicCredentials(StringValues authorization)
    {
        if (!AuthenticationHeaderValue.TryParse(authorization.ToString(), out var header)
            || !header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is null)
        {
            return null;
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? null : (Uri.UnescapeDataString(decoded[..colon]), Uri.UnescapeDataString(decoded[(colon + 1)..]));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool FixedTimeEquals(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));

    /// <summary>Waits; false when the client went away or the server is stopping first.</summary>
    private static async Task<bool> DelayAsync(TimeSpan delay, SimulatedProvince province, HttpContext ctx)
    {
        var stopping = ctx.RequestServices.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, stopping);
        try
        {
            await Task.Delay(delay, province.TimeProvider, cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            // No answer at all: the client is gone, or the server is stopping and drops the connection.
            ctx.Abort();
            return false;
        }
    }

    private static Task ErrorAsync(HttpContext ctx, int status, string error, string description) =>
        WriteJsonAsync(ctx, status, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", error);
            w.WriteString("error_description", description);
            w.WriteEndObject();
        });

    internal static async Task WriteJsonAsync(HttpContext ctx, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, VendorJson.WriterOptions))
        {
            write(w);
        }

        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        ctx.Response.ContentLength = buffer.WrittenCount;
        await ctx.Response.Body.WriteAsync(buffer.WrittenMemory, ctx.RequestAborted);
    }
}
