using System.Text.Json.Nodes;
using static Hub.Tests.Connectors.RestPull.RestPullKit;

namespace Hub.Tests.Connectors.RestPull;

public class RestPullCursorTests
{
    private static readonly DateTimeOffset FeedStart = new(2025, 11, 18, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_last_page_collapses_the_cursor_to_the_greatest_update_time_seen()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);

        var pages = await RunAsync(Config(tenant).With("cursor", Cursor()));

        var last = CursorJson(pages[^1].Cursor);
        Assert.Equal(["from"], last.EnumerateObject().Select(p => p.Name));
        Assert.Equal(FeedStart.AddMinutes(22), From(pages[^1].Cursor));

        // Mid-run cursors keep the run's query and carry the greatest time seen so far.
        var second = CursorJson(pages[1].Cursor);
        Assert.Equal(2, second.GetProperty("page").GetInt32());
        Assert.Equal(FeedStart.AddMinutes(9), second.GetProperty("maxSeen").GetDateTimeOffset());
        Assert.False(second.TryGetProperty("from", out _));
    }

    [Fact]
    public async Task The_next_run_asks_from_the_greatest_time_inclusive_in_the_sources_format_and_zone()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);
        var config = Config(tenant).With("cursor", Cursor());
        var first = await RunAsync(config);
        tenant.Add("D100", FeedStart.AddMinutes(30));
        tenant.Add("D101", FeedStart.AddMinutes(31));
        while (tenant.Requests.TryDequeue(out _))
        {
        }

        var next = await RunAsync(config, first[^1].Cursor);

        // 00:22 UTC is 07:22 in Vietnam; the item at exactly that time comes again (inclusive), then the new ones.
        var request = Assert.Single(tenant.Requests);
        Assert.Equal("2025-11-18 07:22:00", request.Query["updatedFrom"]);
        Assert.Contains("updatedFrom=2025-11-18%2007%3A22%3A00", request.RawQuery, StringComparison.Ordinal);
        Assert.Equal(["D022", "D100", "D101"], next.Ids());
        Assert.Equal(FeedStart.AddMinutes(31), From(next[^1].Cursor));
    }

    [Fact]
    public async Task A_run_that_finds_nothing_new_keeps_its_lower_bound()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 3);
        var cursor = "{\"from\":\"2025-11-19T00:00:00+00:00\"}";

        var pages = await RunAsync(Config(tenant).With("cursor", Cursor(lookback: "00:05:00")), cursor);

        Assert.Empty(pages.Ids());
        Assert.Equal(new DateTimeOffset(2025, 11, 19, 0, 0, 0, TimeSpan.Zero), From(pages[^1].Cursor));
    }

    [Fact]
    public async Task Lookback_rereads_the_overlap_window_when_a_run_starts_but_never_moves_the_cursor_back()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);
        var config = Config(tenant).With("cursor", Cursor(lookback: "00:05:00"));
        var collapsed = "{\"from\":\"2025-11-18T00:22:00+00:00\"}";

        var pages = await RunAsync(config, collapsed);

        // 00:22 minus five minutes: 00:17 UTC, 07:17 in Vietnam.
        Assert.Equal("2025-11-18 07:17:00", tenant.Requests.First().Query["updatedFrom"]);
        Assert.Equal(["D017", "D018", "D019", "D020", "D021", "D022"], pages.Ids());
        Assert.Equal(FeedStart.AddMinutes(22), From(pages[^1].Cursor));
    }

    [Fact]
    public async Task Lookback_is_not_applied_again_when_a_run_resumes_mid_way()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);
        var config = Config(tenant, pageSize: 2).With("cursor", Cursor(lookback: "00:05:00"));
        var first = await RunAsync(config, "{\"from\":\"2025-11-18T00:15:00+00:00\"}");
        Assert.True(first.Count > 2);
        while (tenant.Requests.TryDequeue(out _))
        {
        }

        await RunAsync(config, first[0].Cursor);

        Assert.All(tenant.Requests, r => Assert.Equal("2025-11-18 07:10:00", r.Query["updatedFrom"]));
    }

    [Fact]
    public async Task A_resumed_run_still_collapses_to_the_greatest_time_of_the_whole_run()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);

        // A feed not in update order: the greatest time is on the first page, not the last.
        tenant.NewestFirst = true;
        var config = Config(tenant, pageSize: 5).With("cursor", Cursor());
        var full = await RunAsync(config);
        var resumed = await RunAsync(config, full[3].Cursor);

        Assert.Equal(FeedStart.AddMinutes(22), From(full[^1].Cursor));
        Assert.Equal(FeedStart.AddMinutes(22), From(resumed[^1].Cursor));
    }

    [Fact]
    public async Task A_resumed_run_never_collapses_below_the_stored_lower_bound()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);

        // Two days of lookback re-read the whole feed, all of it older than the stored bound.
        var config = Config(tenant, pageSize: 5).With("cursor", Cursor(lookback: "2.00:00:00"));
        var stored = "{\"from\":\"2025-11-19T00:00:00+00:00\"}";
        var full = await RunAsync(config, stored);
        var resumed = await RunAsync(config, full[2].Cursor);

        Assert.Equal(tenant.AllIds, full.Ids());
        Assert.Equal(From(stored), From(full[^1].Cursor));
        Assert.Equal(From(stored), From(resumed[^1].Cursor));
    }

    [Fact]
    public async Task The_first_run_starts_at_the_initial_value()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);

        var pages = await RunAsync(Config(tenant).With("cursor", Cursor(initial: "2025-11-18 07:20:00")));

        Assert.Equal("2025-11-18 07:20:00", tenant.Requests.First().Query["updatedFrom"]);
        Assert.Equal(["D020", "D021", "D022"], pages.Ids());
    }

    [Fact]
    public async Task Without_a_cursor_every_run_reads_the_whole_feed()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 7);
        var config = Config(tenant);
        var first = await RunAsync(config);

        var second = await RunAsync(config, first[^1].Cursor);

        Assert.Equal(tenant.AllIds, second.Ids());
        Assert.All(tenant.Requests, r => Assert.False(r.Query.ContainsKey("updatedFrom")));
    }

    [Fact]
    public async Task The_default_parameter_format_is_ISO_8601_with_the_zones_offset()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);
        var cursor = new JsonObject { ["param"] = "updatedFrom", ["field"] = "updatedDate", ["timeZone"] = "Asia/Ho_Chi_Minh" };

        var pages = await RunAsync(Config(tenant).With("cursor", cursor), "{\"from\":\"2025-11-18T00:20:30.250+00:00\"}");

        Assert.Equal("2025-11-18T07:20:30.250+07:00", tenant.Requests.First().Query["updatedFrom"]);
        Assert.Equal(["D021", "D022"], pages.Ids());
    }

    [Fact]
    public async Task A_cursor_field_in_a_custom_format_without_offset_is_read_in_the_configured_zone()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 4);
        var cursor = Cursor();
        cursor["field"] = "code";
        cursor["fieldFormat"] = "'H56.14-'yyMMdd'-D'fff";

        var pages = await RunAsync(Config(tenant).With("cursor", cursor));

        // "H56.14-251118-D003": 2025-11-18 00:00:00.003 in Vietnam time.
        Assert.Equal(new DateTimeOffset(2025, 11, 18, 0, 0, 0, 3, TimeSpan.FromHours(7)), From(pages[^1].Cursor));
    }
}
