using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors;
using Hub.Connectors.BuiltIn;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hub.Tests.Connectors.RestPull;

/// <summary>Configurations, contexts and runs for the rest-pull tests.</summary>
public static class RestPullKit
{
    public static readonly RestPullConnectorKind Kind = new();

    /// <summary>A configuration for <paramref name="route"/> of the tenant with page/size paging, no auth and no cursor.</summary>
    public static JsonObject Config(SourceTenant tenant, string route = "/paged", int pageSize = 5) => new()
    {
        ["baseUrl"] = tenant.BaseUrl.AbsoluteUri,
        ["path"] = route,
        ["itemsPath"] = route switch
        {
            "/offset" => "data.items",
            "/tokens" => "items",
            _ => "content",
        },
        ["pageSize"] = pageSize,
        ["paging"] = route switch
        {
            "/offset" => new JsonObject { ["type"] = "offsetLimit" },
            "/tokens" => new JsonObject { ["type"] = "nextToken" },
            _ => new JsonObject { ["type"] = "pageSize", ["lastPath"] = "last" },
        },
    };

    /// <summary>The cursor on the feed's <c>updatedDate</c>, sent as <c>updatedFrom</c> in the server's format.</summary>
    public static JsonObject Cursor(string? lookback = null, string? initial = null)
    {
        var cursor = new JsonObject
        {
            ["param"] = "updatedFrom",
            ["field"] = "updatedDate",
            ["format"] = "yyyy-MM-dd HH:mm:ss",
            ["timeZone"] = "+07:00",
        };
        if (lookback is not null)
        {
            cursor["lookback"] = lookback;
        }

        if (initial is not null)
        {
            cursor["initial"] = initial;
        }

        return cursor;
    }

    public static JsonObject With(this JsonObject config, string name, JsonNode? value)
    {
        config[name] = value;
        return config;
    }

    public static ConnectorContext Context(JsonObject config, HttpClient? http = null, TimeProvider? time = null) => new(
        "test-connector",
        "H56",
        JsonSerializer.SerializeToElement(config),
        http ?? SharedHttp,
        NullLogger.Instance,
        time ?? TimeProvider.System);

    /// <summary>The plain client the tests give connectors in place of the hub's resilient one.</summary>
    public static readonly HttpClient SharedHttp = new();

    public static IPullSource Source(JsonObject config, HttpClient? http = null, TimeProvider? time = null) =>
        Kind.CreateSource(Context(config, http, time));

    /// <summary>Pulls pages from <paramref name="cursor"/> until the source says there are no more.</summary>
    public static async Task<List<PullPage>> RunAsync(IPullSource source, string? cursor, int maxPages = 50)
    {
        var pages = new List<PullPage>();
        while (true)
        {
            var page = await source.PullAsync(cursor, CancellationToken.None);
            pages.Add(page);
            cursor = page.Cursor;
            if (!page.HasMore)
            {
                return pages;
            }

            Assert.True(pages.Count < maxPages, "The run does not end.");
        }
    }

    public static async Task<List<PullPage>> RunAsync(JsonObject config, string? cursor = null, TimeProvider? time = null)
    {
        await using var source = Source(config, time: time);
        return await RunAsync(source, cursor);
    }

    public static IEnumerable<string> Ids(this IEnumerable<PullPage> pages) => pages.SelectMany(p => p.Records).Select(Id);

    public static string Id(RawRecord record) => record.Payload.GetProperty("id").GetString()!;

    public static JsonElement CursorJson(string? cursor) => JsonDocument.Parse(cursor!).RootElement;

    /// <summary>The <c>from</c> of a cursor, as an instant.</summary>
    public static DateTimeOffset? From(string? cursor) =>
        CursorJson(cursor).TryGetProperty("from", out var from) ? from.GetDateTimeOffset() : null;

    public static async Task<ConnectorException> FailsAsync(JsonObject config, string? cursor = null, HttpClient? http = null)
    {
        await using var source = Source(config, http);
        return await Assert.ThrowsAsync<ConnectorException>(() => source.PullAsync(cursor, CancellationToken.None));
    }
}

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
