using System.Net;
using System.Text.Json;
using Hub.Simulator;

namespace Hub.Tests.Simulator;

/// <summary>Five simulated provinces on one real Kestrel server on loopback, with a clock the tests move.</summary>
public sealed class SimulatorApiFixture : IAsyncLifetime
{
    public static readonly DateTimeOffset Now = new(2025, 12, 1, 3, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset End = Now.AddHours(-1);

    public ManualClock Clock { get; } = new(Now);

    public SimulatorHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await SimulatorHost.StartAsync(
        [
            Province("sim-page", 56, PagingMode.PageSize, 300),
            Province("sim-offset", 57, PagingMode.OffsetLimit, 300),
            Province("sim-token", 58, PagingMode.NextToken, 300),
            Province("sim-cursor", 59, PagingMode.PageSize, 2000),
            Province("sim-live", 60, PagingMode.NextToken, 300) with { Start = Now.AddDays(-2), End = Now.AddDays(2) },
        ], new SimulatorHostOptions { TimeProvider = Clock });
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();

    private static ProvinceOptions Province(string name, int number, PagingMode mode, int dossiers) => new()
    {
        SourceSystem = name,
        AgencyPrefix = $"H{number}",
        PagingMode = mode,
        Dossiers = dossiers,
        Seed = number,
        Start = End.AddDays(-20),
        End = End,
        RollbackShare = 0.1,
    };
}

/// <summary>The vendor REST API of simulated provinces served by a real Kestrel server on loopback.</summary>
public sealed class SimulatorApiTests(SimulatorApiFixture fixture) : IClassFixture<SimulatorApiFixture>
{
    private readonly SimulatorHost _host = fixture.Host;
    private readonly ManualClock _clock = fixture.Clock;

    [Fact]
    public void Each_province_is_served_under_its_source_system()
    {
        Assert.Equal(IPAddress.Loopback.ToString(), _host.BaseUri.Host);
        Assert.Equal(new Uri(_host.BaseUri, "sim-page/"), _host.BaseAddress("sim-page"));
        Assert.Equal(new Uri(_host.BaseUri, "sim-page/api/v1/dossiers/revisions"), _host.RevisionsAddress("sim-page"));
        Assert.Equal(new Uri(_host.BaseUri, "sim-page/auth/realms/one-stop/protocol/openid-connect/token"), _host.TokenAddress("sim-page"));
        Assert.Same(_host.Provinces[0], _host["sim-page"]);
        Assert.Throws<KeyNotFoundException>(() => _host.BaseAddress("sim-none"));
    }

    [Fact]
    public async Task Health_answers_without_a_token()
    {
        using var client = VendorFeedClient.For(_host, "sim-page");

        using var response = await client.Http.GetAsync(client.Url("api/v1/health"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"UP\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_feed_needs_a_valid_token_and_bad_client_credentials_get_invalid_client()
    {
        using var client = VendorFeedClient.For(_host, "sim-page");

        using var anonymous = await client.Http.GetAsync(client.Url("api/v1/dossiers/revisions"));
        using var forged = new HttpRequestMessage(HttpMethod.Get, client.Url("api/v1/dossiers/revisions"));
        forged.Headers.Authorization = new("Bearer", "not-a-token");
        using var forgedResponse = await client.Http.SendAsync(forged);
        using var wrongSecret = await client.RequestTokenAsync(clientSecret: "wrong");
        using var wrongBasic = await client.RequestTokenAsync(clientId: "someone", basic: true);
        using var basic = await client.RequestTokenAsync(basic: true);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, forgedResponse.StatusCode);
        Assert.Equal("invalid_token", JsonDocument.Parse(await forgedResponse.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, wrongSecret.StatusCode);
        Assert.Equal("invalid_client", JsonDocument.Parse(await wrongSecret.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, wrongBasic.StatusCode);
        Assert.Equal(HttpStatusCode.OK, basic.StatusCode);
        var token = JsonDocument.Parse(await basic.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Bearer", token.GetProperty("token_type").GetString());
        Assert.Equal(300, token.GetProperty("expires_in").GetInt32());
        Assert.False(string.IsNullOrEmpty(token.GetProperty("access_token").GetString()));
    }

    [Fact]
    public async Task A_token_serves_many_requests_until_it_expires()
    {
        var stats = _host["sim-offset"].Stats;
        using var client = VendorFeedClient.For(_host, "sim-offset");
        var issuedBefore = stats.TokensIssued;
        var token = await client.TokenAsync();

        for (var i = 0; i < 3; i++)
        {
            using var ok = await client.GetAsync("?limit=5");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        Assert.Equal(issuedBefore + 1, stats.TokensIssued);

        _clock.Advance(TimeSpan.FromMinutes(5));
        using var expired = new HttpRequestMessage(HttpMethod.Get, client.Url("api/v1/dossiers/revisions"));
        expired.Headers.Authorization = new("Bearer", token);
        using var expiredResponse = await client.Http.SendAsync(expired);
        Assert.Equal(HttpStatusCode.Unauthorized, expiredResponse.StatusCode);

        using var renewed = await client.GetAsync("?limit=5"); // the client drops the refused token and gets a new one
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        Assert.Equal(issuedBefore + 2, stats.TokensIssued);

        using var statsResponse = await client.Http.GetAsync(client.Url("_sim/stats"));
        var json = JsonDocument.Parse(await statsResponse.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(stats.TokensIssued, json.GetProperty("tokensIssued").GetInt64());
    }

    [Theory]
    [InlineData("sim-page")]
    [InlineData("sim-offset")]
    [InlineData("sim-token")]
    public async Task Each_paging_mode_serves_exactly_the_truth_in_feed_order(string sourceSystem)
    {
        var truth = _host[sourceSystem].Truth;
        using var client = VendorFeedClient.For(_host, sourceSystem);

        var pages = await client.ReadPagesAsync(size: 37);
        var parsed = pages.SelectMany(p => p.Items).Select(i => VendorItems.Parse(i, sourceSystem)).ToList();

        Assert.All(pages.SkipLast(1), p => Assert.Equal(37, p.Items.Count));
        Assert.Equal(truth.Changes.Count, pages[0].TotalElements);
        Assert.Equal(truth.Changes, parsed.Select(p => p.Change));
        Assert.Equal(truth.Steps, parsed.SelectMany(p => p.Steps));
    }

    [Fact]
    public async Task Page_sizes_are_capped_and_bad_paging_values_are_refused()
    {
        using var client = VendorFeedClient.For(_host, "sim-cursor");

        var page = await client.GetPageAsync("?size=5000");
        using var negative = await client.GetAsync("?page=-1");
        using var zero = await client.GetAsync("?size=0");

        Assert.Equal(1000, page.PageSize);
        Assert.Equal(1000, page.Items.Count);
        Assert.False(page.Last);
        Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, zero.StatusCode);
    }

    [Fact]
    public async Task Feed_items_carry_the_vendor_shape_with_personal_data_and_two_date_formats()
    {
        using var client = VendorFeedClient.For(_host, "sim-page");

        var item = (await client.GetPageAsync("?size=1")).Items[0];

        var applicant = item.GetProperty("applicant").GetProperty("data");
        Assert.Matches(@"^\d{12}$", applicant.GetProperty("identityNumber").GetString());
        Assert.False(string.IsNullOrWhiteSpace(applicant.GetProperty("fullname").GetString()));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$", item.GetProperty("updatedDate").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", item.GetProperty("tasks")[0].GetProperty("endDate").GetString());
        Assert.Equal(228, item.GetProperty("procedure").GetProperty("translate")[0].GetProperty("languageId").GetInt32());
        Assert.Equal(0, item.GetProperty("dossierStatus").GetProperty("id").GetInt32()); // the first revision is always "Chờ tiếp nhận"
    }

    [Fact]
    public async Task UpdatedFrom_is_inclusive_and_read_in_Vietnam_time()
    {
        var truth = _host["sim-cursor"].Truth;
        var onTheSecond = truth.Changes.Where(c => c.EventTime.Millisecond == 0).ElementAt(1);
        using var client = VendorFeedClient.For(_host, "sim-cursor");

        var items = await client.ReadAllAsync(size: 500, updatedFrom: onTheSecond.EventTime);

        var expected = truth.Changes.Where(c => c.EventTime >= onTheSecond.EventTime).ToList();
        Assert.Equal(expected, items.Select(i => VendorItems.Parse(i, "sim-cursor").Change));
        Assert.Equal(onTheSecond, VendorItems.Parse(items[0], "sim-cursor").Change);
    }

    [Theory]
    [InlineData("2025-11-18T01:00:00Z")]
    [InlineData("18/11/2025 08:00:00")]
    [InlineData("2025-11-31 08:00:00")]
    public async Task A_bad_updatedFrom_gets_400_with_a_json_error(string value)
    {
        using var client = VendorFeedClient.For(_host, "sim-page");

        using var response = await client.GetAsync("?updatedFrom=" + Uri.EscapeDataString(value));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("invalid_request", body.GetProperty("error").GetString());
        Assert.Contains("updatedFrom", body.GetProperty("error_description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_revisions_up_to_the_clock_are_served_and_later_ones_appear_as_it_moves()
    {
        var province = _host["sim-live"];
        using var client = VendorFeedClient.For(_host, "sim-live");

        var now = _clock.GetUtcNow();
        var before = (await client.ReadAllAsync(size: 200)).Select(i => VendorItems.Parse(i, "sim-live").Change).ToList();
        var cursor = before[^1].EventTime;
        _clock.Advance(TimeSpan.FromDays(1));
        var after = (await client.ReadAllAsync(size: 200, updatedFrom: cursor)).Select(i => VendorItems.Parse(i, "sim-live").Change).ToList();

        Assert.Equal(province.TruthAt(now).Changes, before);
        Assert.Equal(province.TruthAt(_clock.GetUtcNow()).Changes.Where(c => c.EventTime >= cursor.AddTicks(-(cursor.Ticks % TimeSpan.TicksPerSecond))), after);
        Assert.True(after.Count > 1);
        Assert.True(province.TruthAt(_clock.GetUtcNow()).Changes.Count < province.Truth.Changes.Count);
    }

    [Fact]
    public async Task Stats_count_requests_at_each_province_and_at_the_root()
    {
        using var client = VendorFeedClient.For(_host, "sim-token");
        await client.GetPageAsync("?size=10");

        using var own = await client.Http.GetAsync(client.Url("_sim/stats"));
        using var all = await client.Http.GetAsync(new Uri(_host.BaseUri, "_sim/stats"));

        var stats = JsonDocument.Parse(await own.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("sim-token", stats.GetProperty("sourceSystem").GetString());
        Assert.True(stats.GetProperty("requests").GetInt64() >= 2);
        Assert.True(stats.GetProperty("revisionsServed").GetInt64() >= 10);
        Assert.Equal(0, stats.GetProperty("faultsInjected").GetProperty("serverError").GetInt64());
        Assert.Equal(_host["sim-token"].RevisionCount, stats.GetProperty("feed").GetProperty("revisions").GetInt32());
        Assert.Equal(5, JsonDocument.Parse(await all.Content.ReadAsStringAsync()).RootElement.GetArrayLength());
    }
}
