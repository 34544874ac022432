using System.Diagnostics;
using System.Net;
using Hub.Simulator;

namespace Hub.Tests.Simulator;

/// <summary>Each fault of a simulated province, observed over HTTP; none of them changes the truth.</summary>
public sealed class SimulatorFaultTests
{
    private const string Name = "sim-faults";
    private static readonly DateTimeOffset End = new(2025, 11, 30, 0, 0, 0, TimeSpan.Zero);

    private static ProvinceOptions Province(PagingMode mode = PagingMode.PageSize, FaultOptions? faults = null, int dossiers = 300) => new()
    {
        SourceSystem = Name,
        AgencyPrefix = "H56",
        Dossiers = dossiers,
        Seed = 11,
        Start = End.AddDays(-20),
        End = End,
        RollbackShare = 0.05,
        PagingMode = mode,
        Faults = faults ?? new FaultOptions(),
    };

    [Fact]
    public async Task Server_errors_and_rate_limits_are_answered_as_set_and_switch_off_at_run_time()
    {
        await using var host = await SimulatorHost.StartAsync(Province(faults: new FaultOptions { ServerErrorRate = 1 }));
        var province = host[Name];
        using var client = VendorFeedClient.For(host, Name);

        using var serverError = await client.GetAsync("?size=5");
        province.Faults.ServerErrorRate = 0;
        province.Faults.TooManyRequestsRate = 1;
        province.Faults.RetryAfterSeconds = 2;
        using var tooMany = await client.GetAsync("?size=5");
        province.Faults.Clear();
        using var ok = await client.GetAsync("?size=5");

        Assert.Equal(HttpStatusCode.InternalServerError, serverError.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, tooMany.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), tooMany.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(1, province.Stats.Faults(FaultKind.ServerError));
        Assert.Equal(1, province.Stats.Faults(FaultKind.TooManyRequests));
    }

    [Fact]
    public async Task A_province_goes_down_and_comes_back()
    {
        await using var host = await SimulatorHost.StartAsync(Province());
        var province = host[Name];
        using var client = VendorFeedClient.For(host, Name);
        await client.TokenAsync();

        province.Faults.Down = true;
        using var feed = await client.GetAsync("?size=5");
        using var token = await client.RequestTokenAsync();
        using var health = await client.Http.GetAsync(client.Url("api/v1/health"));
        using var stats = await client.Http.GetAsync(client.Url("_sim/stats"));
        province.Faults.Down = false;
        using var back = await client.GetAsync("?size=5");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, feed.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, token.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        Assert.Equal(3, province.Stats.Faults(FaultKind.Down));
    }

    [Fact]
    public async Task A_province_goes_down_after_a_number_of_feed_requests()
    {
        await using var host = await SimulatorHost.StartAsync(Province(faults: new FaultOptions { DownAfterFeedRequests = 2 }));
        using var client = VendorFeedClient.For(host, Name);

        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.GetAsync("?size=5");
            codes.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable], codes);
    }

    [Fact]
    public async Task An_unreachable_province_drops_connections_until_it_is_reachable_again()
    {
        await using var host = await SimulatorHost.StartAsync(Province(faults: new FaultOptions { Unreachable = true }));
        var province = host[Name];
        using var client = VendorFeedClient.For(host, Name);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.RequestTokenAsync());
        province.Faults.Unreachable = false;
        using var ok = await client.GetAsync("?size=5");

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(1, province.Stats.Faults(FaultKind.Unreachable));
    }

    [Fact]
    public async Task A_hanging_request_ends_when_the_client_gives_up_or_after_the_hang_time()
    {
        await using var host = await SimulatorHost.StartAsync(Province(faults: new FaultOptions { TimeoutRate = 1, HangTime = TimeSpan.FromSeconds(30) }));
        var province = host[Name];
        using var client = VendorFeedClient.For(host, Name);
        await client.TokenAsync();

        var watch = Stopwatch.StartNew();
        using (var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("?size=5", giveUp.Token));
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
        province.Faults.HangTime = TimeSpan.FromMilliseconds(200);
        using var gatewayTimeout = await client.GetAsync("?size=5");

        Assert.Equal(HttpStatusCode.GatewayTimeout, gatewayTimeout.StatusCode);
        Assert.Equal(2, province.Stats.Faults(FaultKind.Timeout));

        // Stopping the server does not wait for a hanging request: its connection is dropped.
        province.Faults.HangTime = TimeSpan.FromSeconds(30);
        var hanging = client.GetAsync("?size=5");
        while (province.Stats.Faults(FaultKind.Timeout) < 3)
        {
            await Task.Delay(10);
        }

        watch.Restart();
        await host.DisposeAsync();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"{watch.Elapsed}");
        await Assert.ThrowsAsync<HttpRequestException>(() => hanging);
    }

    [Fact]
    public async Task Latency_delays_every_request()
    {
        await using var host = await SimulatorHost.StartAsync(Province(faults: new FaultOptions { Latency = TimeSpan.FromMilliseconds(300) }));
        using var client = VendorFeedClient.For(host, Name);

        var watch = Stopwatch.StartNew();
        using var response = await client.Http.GetAsync(client.Url("api/v1/health"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(290), $"{watch.Elapsed}");
        Assert.Equal(1, host[Name].Stats.Faults(FaultKind.Latency));
    }

    [Fact]
    public async Task Malformed_copies_are_extra_items_of_each_kind_and_everything_else_is_the_truth()
    {
        await using var host = await SimulatorHost.StartAsync(Province(faults: new FaultOptions { MalformedRate = 0.1 }));
        var province = host[Name];
        using var client = VendorFeedClient.For(host, Name);

        var items = await client.ReadAllAsync(size: 100);

        var faults = items.Select(i => VendorItems.Fault(i, Name)).ToList();
        var byKind = Enum.GetValues<MalformedKind>().ToDictionary(k => k, k => faults.Count(f => f == k));
        Assert.Equal(province.MalformedInjected, byKind);
        Assert.All(byKind.Values, count => Assert.True(count > 0));
        Assert.Equal(province.Truth.Changes.Count + byKind.Values.Sum(), items.Count);
        Assert.Equal(province.Truth.Changes, items.Where((_, i) => faults[i] is null).Select(i => VendorItems.Parse(i, Name).Change));
        Assert.Equal(byKind[MalformedKind.MissingCode], province.Stats.Faults(FaultKind.MissingCode));
        Assert.Equal(byKind[MalformedKind.UnknownStatus], province.Stats.Faults(FaultKind.UnknownStatus));
        Assert.Equal(byKind[MalformedKind.UnparseableDate], province.Stats.Faults(FaultKind.UnparseableDate));
        Assert.Equal(province.Truth.Changes.Count, province.Stats.RevisionsServed);
    }

    [Fact]
    public async Task Duplicates_come_again_in_the_same_page_or_a_later_one()
    {
        await using var host = await SimulatorHost.StartAsync(Province(faults: new FaultOptions { DuplicateRate = 0.1 }));
        var province = host[Name];
        using var client = VendorFeedClient.For(host, Name);

        var pages = await client.ReadPagesAsync(size: 50);

        var occurrences = pages
            .SelectMany((p, index) => p.Items.Select(i => (Key: VendorItems.Key(i), Page: index, Item: i)))
            .ToList();
        var repeated = occurrences.GroupBy(o => o.Key).Where(g => g.Count() > 1).ToList();
        Assert.Equal(province.DuplicatesInjected, occurrences.Count - province.Truth.Changes.Count);
        Assert.Equal(province.DuplicatesInjected, repeated.Count);
        Assert.Equal(province.DuplicatesInjected, province.Stats.Faults(FaultKind.Duplicate));
        Assert.Contains(repeated, g => g.Select(o => o.Page).Distinct().Count() == 1);
        Assert.Contains(repeated, g => g.Select(o => o.Page).Distinct().Count() == 2);
        Assert.Equal(
            province.Truth.Changes,
            occurrences.DistinctBy(o => o.Key).Select(o => VendorItems.Parse(o.Item, Name).Change));
    }

    [Fact]
    public async Task Shuffled_pages_hold_the_same_items_in_another_order()
    {
        await using var host = await SimulatorHost.StartAsync(Province(faults: new FaultOptions { ShuffleWithinPage = true }));
        var province = host[Name];
        using var client = VendorFeedClient.For(host, Name);

        var shuffled = await client.ReadPagesAsync(size: 50);
        province.Faults.ShuffleWithinPage = false;
        var ordered = await client.ReadPagesAsync(size: 50);

        Assert.Equal(ordered.Count, shuffled.Count);
        for (var i = 0; i < ordered.Count; i++)
        {
            Assert.Equal(ordered[i].Items.Select(VendorItems.Key).Order(), shuffled[i].Items.Select(VendorItems.Key).Order());
        }

        Assert.NotEqual(ordered.SelectMany(p => p.Items).Select(VendorItems.Key), shuffled.SelectMany(p => p.Items).Select(VendorItems.Key));
        Assert.Equal(province.Truth.Changes, ordered.SelectMany(p => p.Items).Select(i => VendorItems.Parse(i, Name).Change));
    }

    [Fact]
    public async Task Request_faults_follow_the_seed()
    {
        var faults = new FaultOptions { ServerErrorRate = 0.3, TooManyRequestsRate = 0.2 };
        await using var host = await SimulatorHost.StartAsync(
        [
            Province(faults: faults) with { SourceSystem = "sim-a", AgencyPrefix = "H01" },
            Province(faults: faults) with { SourceSystem = "sim-b", AgencyPrefix = "H02" },
        ]);

        async Task<List<HttpStatusCode>> Codes(string name)
        {
            using var client = VendorFeedClient.For(host, name);
            var codes = new List<HttpStatusCode>();
            for (var i = 0; i < 20; i++)
            {
                using var response = await client.GetAsync("?size=1");
                codes.Add(response.StatusCode);
            }

            return codes;
        }

        var a = await Codes("sim-a");
        var b = await Codes("sim-b");

        Assert.Equal(a, b);
        Assert.Contains(HttpStatusCode.OK, a);
        Assert.Contains(HttpStatusCode.InternalServerError, a);
        Assert.Contains(HttpStatusCode.TooManyRequests, a);
    }

    [Theory]
    [InlineData(PagingMode.PageSize)]
    [InlineData(PagingMode.OffsetLimit)]
    [InlineData(PagingMode.NextToken)]
    public async Task A_client_that_retries_and_skips_bad_items_obtains_every_revision_through_all_faults(PagingMode mode)
    {
        var faults = new FaultOptions
        {
            ServerErrorRate = 0.15,
            TooManyRequestsRate = 0.1,
            RetryAfterSeconds = 0,
            TimeoutRate = 0.05,
            HangTime = TimeSpan.FromMilliseconds(20),
            MalformedRate = 0.05,
            DuplicateRate = 0.05,
            ShuffleWithinPage = true,
        };
        await using var host = await SimulatorHost.StartAsync(Province(mode, faults));
        using var client = VendorFeedClient.For(host, Name);

        var items = await client.ReadAllAsync(size: 40, retry: true);

        AssertEveryRevision(host[Name], items);
    }

    [Fact]
    public async Task A_page_token_still_leads_through_the_whole_feed_when_the_item_faults_change_midway()
    {
        await using var host = await SimulatorHost.StartAsync(Province(PagingMode.NextToken));
        var province = host[Name];
        using var client = VendorFeedClient.For(host, Name);

        var pages = await client.ReadPagesAsync(size: 60, betweenPages: count =>
        {
            if (count == 2)
            {
                province.Faults.DuplicateRate = 0.2;
                province.Faults.MalformedRate = 0.1;
            }
            else if (count == 5)
            {
                province.Faults.Clear();
            }

            return Task.CompletedTask;
        });

        AssertEveryRevision(province, [.. pages.SelectMany(p => p.Items)]);
    }

    private static void AssertEveryRevision(SimulatedProvince province, List<System.Text.Json.JsonElement> items)
    {
        var changes = items
            .Where(i => VendorItems.Fault(i, Name) is null)
            .Select(i => VendorItems.Parse(i, Name).Change)
            .DistinctBy(c => (c.NativeId, c.SourceVersion))
            .ToHashSet();
        Assert.Equal(province.Truth.Changes.Count, changes.Count);
        Assert.Subset(changes, province.Truth.Changes.ToHashSet());
    }
}
