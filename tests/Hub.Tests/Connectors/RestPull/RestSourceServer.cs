using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hub.Tests.Connectors.RestPull;

/// <summary>
/// A vendor-style REST source on loopback (Kestrel), shared by the rest-pull tests. Each test works in a tenant of its
/// own (<c>/t/{id}/...</c>) with its own items, credentials, counters and request log.
/// </summary>
/// <remarks>
/// Routes of a tenant: <c>paged</c> (page/size, Spring-style <c>content</c> and <c>last</c>), <c>offset</c>
/// (offset/limit, items at <c>data.items</c>), <c>tokens</c> (pageToken/size, <c>items</c> and <c>nextPageToken</c>),
/// <c>oauth/token</c>, <c>login</c>, <c>status/{code}</c>, <c>not-json</c>, <c>no-items</c>, <c>slow</c>. The data routes
/// filter on <c>updatedFrom</c> (inclusive), written <c>yyyy-MM-dd HH:mm:ss</c> in Vietnam time or ISO 8601 with offset,
/// and order by update time then id.
/// </remarks>
public sealed class RestSourceServer
{
    private static readonly Lazy<Task<RestSourceServer>> Instance = new(StartAsync);
    private static readonly TimeSpan Vietnam = TimeSpan.FromHours(7);

    private readonly ConcurrentDictionary<string, SourceTenant> _tenants = new();

    private RestSourceServer(Uri address)
    {
        Address = address;
    }

    /// <summary>The server's root, such as <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Address { get; }

    public static Task<RestSourceServer> SharedAsync() => Instance.Value;

    /// <summary>A new tenant holding <paramref name="items"/> items, one minute apart from 2025-11-18 00:00 UTC, the 6th and 7th at the same second.</summary>
    public SourceTenant NewTenant(int items = 23)
    {
        var tenant = new SourceTenant(Guid.NewGuid().ToString("N")[..12], Address);
        var start = new DateTimeOffset(2025, 11, 18, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < items; i++)
        {
            tenant.Add($"D{i:000}", start.AddMinutes(i == 6 ? 5 : i));
        }

        _tenants[tenant.Id] = tenant;
        return tenant;
    }

    private static async Task<RestSourceServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        RestSourceServer? server = null;
        SourceTenant Tenant(HttpContext http) => server!._tenants[(string)http.Request.RouteValues["tenant"]!];

        var tenantRoutes = app.MapGroup("/t/{tenant}");
        tenantRoutes.MapGet("/paged", (HttpContext http) => Data(Tenant(http), http, (tenant, items) =>
        {
            var page = Int(http, "page");
            var size = Int(http, "size");
            var slice = items.Skip(page * size).Take(size).ToList();
            return new JsonObject
            {
                ["content"] = Array(slice),
                ["pageable"] = new JsonObject { ["pageNumber"] = page, ["pageSize"] = size },
                ["totalElements"] = items.Count,
                ["last"] = (page + 1) * size >= items.Count,
            };
        }));
        tenantRoutes.MapGet("/offset", (HttpContext http) => Data(Tenant(http), http, (tenant, items) =>
        {
            var slice = items.Skip(Int(http, "offset")).Take(Int(http, "limit")).ToList();
            return new JsonObject { ["data"] = new JsonObject { ["items"] = Array(slice), ["total"] = items.Count } };
        }));
        tenantRoutes.MapGet("/tokens", (HttpContext http) => Data(Tenant(http), http, (tenant, items) =>
        {
            // A page token is the tenant's token generation and an offset: expiring tokens bumps the generation.
            var offset = 0;
            if (http.Request.Query.TryGetValue("pageToken", out var token))
            {
                var parts = token.ToString().Split('-');
                if (parts.Length != 2 || parts[0] != $"g{tenant.PageTokenGeneration}")
                {
                    return null;
                }

                offset = int.Parse(parts[1], CultureInfo.InvariantCulture);
            }

            var size = Int(http, "size");
            var slice = items.Skip(offset).Take(size).ToList();
            var reply = new JsonObject { ["items"] = Array(slice) };
            if (offset + size < items.Count)
            {
                reply["nextPageToken"] = $"g{tenant.PageTokenGeneration}-{offset + size}";
            }

            return reply;
        }));
        tenantRoutes.MapPost("/oauth/token", async (HttpContext http) =>
        {
            var tenant = Tenant(http);
            Interlocked.Increment(ref tenant.TokenRequestCount);
            if (tenant.TokenEndpointStatus is { } forced)
            {
                return Results.StatusCode(forced);
            }

            var form = await http.Request.ReadFormAsync();
            if (form["grant_type"] != "client_credentials" || form["client_id"] != SourceTenant.ClientId || form["client_secret"] != SourceTenant.ClientSecret)
            {
                return Results.Json(new JsonObject { ["error"] = "invalid_client", ["error_description"] = "Invalid client credentials" }, statusCode: 401);
            }

            var accessToken = $"at-{Guid.NewGuid():N}";
            tenant.AccessTokens[accessToken] = true;
            return Results.Json(new JsonObject { ["access_token"] = accessToken, ["expires_in"] = tenant.TokenLifetimeSeconds, ["token_type"] = "Bearer" });
        });
        tenantRoutes.MapPost("/login", async (HttpContext http) =>
        {
            var tenant = Tenant(http);
            Interlocked.Increment(ref tenant.LoginCount);
            using var body = await JsonDocument.ParseAsync(http.Request.Body);
            var root = body.RootElement;
            if (!root.TryGetProperty(tenant.LoginUserField, out var user) || user.GetString() != SourceTenant.Username
                || !root.TryGetProperty(tenant.LoginPasswordField, out var password) || password.GetString() != SourceTenant.Password)
            {
                // The national portal's style: 200 with an error code and no session.
                return Results.Json(new JsonObject { ["error_code"] = "-1", ["message"] = "Sai tên đăng nhập hoặc mật khẩu" });
            }

            var session = Guid.NewGuid().ToString();
            tenant.Sessions[session] = true;
            return Results.Json(new JsonObject { ["error_code"] = 0, ["message"] = "Thành công", ["result"] = new JsonObject { ["session"] = session } });
        });
        tenantRoutes.MapGet("/status/{code:int}", (int code) => Results.StatusCode(code));
        tenantRoutes.MapGet("/not-json", () => Results.Content("<html><body>Maintenance</body></html>", "text/html"));
        tenantRoutes.MapGet("/no-items", () => Results.Json(new JsonObject { ["content"] = new JsonObject(), ["last"] = true }));
        tenantRoutes.MapGet("/bad-cursor-field", () => Results.Json(new JsonObject
        {
            ["content"] = new JsonArray(new JsonObject { ["id"] = "X1", ["updatedDate"] = "18/11/2025 14:31" }),
        }));
        tenantRoutes.MapGet("/slow", async (HttpContext http) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), http.RequestAborted);
            return Results.Json(new JsonObject { ["content"] = new JsonArray() });
        });

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server = new RestSourceServer(new Uri(address.TrimEnd('/') + "/"));
        return server;
    }

    /// <summary>Authenticates, logs and filters a data call, then lets the route cut its page; a <c>null</c> page is a refused page token (400).</summary>
    private static IResult Data(SourceTenant tenant, HttpContext http, Func<SourceTenant, IReadOnlyList<SourceItem>, JsonObject?> page)
    {
        var request = http.Request;
        tenant.Requests.Enqueue(new SourceRequest(
            request.Path,
            request.QueryString.Value ?? "",
            request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal),
            request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));

        if (!tenant.IsAuthorized(request))
        {
            return Results.StatusCode(401);
        }

        if (tenant.ForbidData)
        {
            return Results.StatusCode(403);
        }

        IReadOnlyList<SourceItem> items = tenant.Items();
        if (request.Query.TryGetValue("updatedFrom", out var fromText))
        {
            var from = ParseFrom(fromText.ToString());
            items = items.Where(i => i.Updated >= from).ToList();
        }

        var reply = page(tenant, items);
        return reply is null ? Results.Json(new JsonObject { ["error"] = "page token expired" }, statusCode: 400) : Results.Json(reply);
    }

    private static DateTimeOffset ParseFrom(string text) =>
        DateTime.TryParseExact(text, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var local)
            ? new DateTimeOffset(local, Vietnam)
            : DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    private static int Int(HttpContext http, string name) => int.Parse(http.Request.Query[name].ToString(), CultureInfo.InvariantCulture);

    private static JsonArray Array(IEnumerable<SourceItem> items) => new(items.Select(i => (JsonNode)i.ToJson()).ToArray());
}

/// <summary>How a tenant's data routes want to be authenticated.</summary>
public enum SourceAuth
{
    None,
    ApiKey,
    OAuth2,
    SessionBearer,
    SessionHeader,
    SessionQuery,
}

/// <summary>One item of a tenant's feed.</summary>
public sealed record SourceItem(string Id, DateTimeOffset Updated)
{
    /// <summary>The vendor's shape: UTC with a basic-format offset, as in the vendor search-page sample.</summary>
    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["code"] = $"H56.14-251118-{Id}",
        ["dossierStatus"] = new JsonObject { ["id"] = 2, ["name"] = "Đang xử lý" },
        ["applicant"] = new JsonObject { ["data"] = new JsonObject { ["fullname"] = "Phạm Minh Đức" } },
        ["updatedDate"] = Updated.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'+0000'", CultureInfo.InvariantCulture),
    };
}

/// <summary>A data call as the server saw it.</summary>
public sealed record SourceRequest(string Path, string RawQuery, IReadOnlyDictionary<string, string> Query, IReadOnlyDictionary<string, string> Headers);

/// <summary>One test's corner of the server.</summary>
public sealed class SourceTenant(string id, Uri serverAddress)
{
    public const string ApiKey = "k-7f3a9c";
    public const string ClientId = "hub-h56";
    public const string ClientSecret = "s3cret-client-value";
    public const string Username = "h56_motcua";
    public const string Password = "p@ss-word-value";

    private readonly List<SourceItem> _items = [];

#pragma warning disable CA1051 // Counters updated with Interlocked.
    public int TokenRequestCount;
    public int LoginCount;
#pragma warning restore CA1051

    public string Id { get; } = id;

    /// <summary>The tenant's root, to use as a connector's baseUrl.</summary>
    public Uri BaseUrl { get; } = new(serverAddress, $"t/{id}");

    public SourceAuth Auth { get; set; } = SourceAuth.None;

    public int TokenLifetimeSeconds { get; set; } = 300;

    public int? TokenEndpointStatus { get; set; }

    public bool ForbidData { get; set; }

    /// <summary>Serve the feed newest first, as a source that ignores the requested order would.</summary>
    public bool NewestFirst { get; set; }

    public string LoginUserField { get; set; } = "username";

    public string LoginPasswordField { get; set; } = "password";

    public int PageTokenGeneration { get; private set; }

    public ConcurrentDictionary<string, bool> AccessTokens { get; } = new();

    public ConcurrentDictionary<string, bool> Sessions { get; } = new();

    public ConcurrentQueue<SourceRequest> Requests { get; } = new();

    public IReadOnlyList<string> AllIds => Items().Select(i => i.Id).ToList();

    public void Add(string itemId, DateTimeOffset updated)
    {
        lock (_items)
        {
            _items.Add(new SourceItem(itemId, updated));
        }
    }

    public IReadOnlyList<SourceItem> Items()
    {
        lock (_items)
        {
            var ordered = _items.OrderBy(i => i.Updated).ThenBy(i => i.Id, StringComparer.Ordinal);
            return (NewestFirst ? ordered.Reverse() : ordered).ToList();
        }
    }

    /// <summary>Forgets every access token and session: the next data call with one gets a 401.</summary>
    public void RevokeCredentials()
    {
        AccessTokens.Clear();
        Sessions.Clear();
    }

    /// <summary>Page tokens handed out so far are refused from now on (400).</summary>
    public void ExpirePageTokens() => PageTokenGeneration++;

    public bool IsAuthorized(HttpRequest request)
    {
        string? Bearer() => request.Headers.Authorization.ToString() is { } value && value.StartsWith("Bearer ", StringComparison.Ordinal) ? value[7..] : null;
        return Auth switch
        {
            SourceAuth.None => true,
            SourceAuth.ApiKey => request.Headers["X-API-Key"] == ApiKey,
            SourceAuth.OAuth2 => Bearer() is { } token && AccessTokens.ContainsKey(token),
            SourceAuth.SessionBearer => Bearer() is { } session && Sessions.ContainsKey(session),
            SourceAuth.SessionHeader => Sessions.ContainsKey(request.Headers["X-Session"].ToString()),
            SourceAuth.SessionQuery => Sessions.ContainsKey(request.Query["session"].ToString()),
            _ => false,
        };
    }
}
