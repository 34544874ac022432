using Hub.Connectors;
using static Hub.Tests.Connectors.RestPull.RestPullKit;

namespace Hub.Tests.Connectors.RestPull;

public class RestPullPagingTests
{
    public static TheoryData<string> Routes => new() { "/paged", "/offset", "/tokens" };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_run_returns_every_item_exactly_once_in_feed_order(string route)
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);

        var pages = await RunAsync(Config(tenant, route, pageSize: 5).With("cursor", Cursor()));

        Assert.Equal(tenant.AllIds, pages.Ids());
        Assert.Equal(5, pages.Count);
        Assert.All(pages[..^1], p => Assert.True(p.HasMore));
        Assert.All(pages.SelectMany(p => p.Records), r => Assert.Equal(RawRecordKind.Dossier, r.Kind));
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_feed_that_fills_its_last_page_ends_without_losing_items(string route)
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 20);

        var pages = await RunAsync(Config(tenant, route, pageSize: 5));

        Assert.Equal(tenant.AllIds, pages.Ids());
        Assert.False(pages[^1].HasMore);
    }

    [Fact]
    public async Task Without_lastPath_a_short_page_ends_the_run()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 12);
        var config = Config(tenant, "/paged", pageSize: 5);
        config["paging"] = new System.Text.Json.Nodes.JsonObject { ["type"] = "pageSize", ["pageParam"] = "page", ["sizeParam"] = "size" };

        var pages = await RunAsync(config);

        Assert.Equal(3, pages.Count);
        Assert.Equal(tenant.AllIds, pages.Ids());
        Assert.Equal(["0", "1", "2"], tenant.Requests.Select(r => r.Query["page"]));
        Assert.All(tenant.Requests, r => Assert.Equal("5", r.Query["size"]));
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_run_resumed_from_any_page_cursor_skips_nothing(string route)
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);
        var config = Config(tenant, route, pageSize: 5).With("cursor", Cursor());
        var full = await RunAsync(config);

        for (var stored = 0; stored < full.Count - 1; stored++)
        {
            // Pages up to `stored` are in the store with their cursor; the process died; a new run resumes.
            var resumed = await RunAsync(config, full[stored].Cursor);

            var seen = full.Take(stored + 1).Ids().Concat(resumed.Ids()).ToList();
            Assert.Equal(tenant.AllIds, seen);
            Assert.Equal(full[^1].Cursor, resumed[^1].Cursor);
        }
    }

    [Fact]
    public async Task A_page_token_the_source_no_longer_accepts_restarts_the_runs_query_from_its_first_page()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);
        var config = Config(tenant, "/tokens", pageSize: 5).With("cursor", Cursor());
        var first = await RunAsync(config);
        var midRun = first[2].Cursor;

        tenant.ExpirePageTokens();
        var resumed = await RunAsync(config, midRun);

        // Everything is read again from the first page: repeats, no gap, and the run still ends on the greatest time.
        Assert.Equal(tenant.AllIds, resumed.Ids());
        Assert.Equal(first[^1].Cursor, resumed[^1].Cursor);
    }
}
