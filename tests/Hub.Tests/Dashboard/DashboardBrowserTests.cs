using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Tests.Registration;

namespace Hub.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser (Debian's Chromium driven by playwright-core) against a real hub: an operator and a
/// province-admin sign in with their keys; each sees the connectors it maintains, and only those.
/// </summary>
public sealed class DashboardBrowserTests(RegistrationApiHub hub) : IClassFixture<RegistrationApiHub>
{
    private static string Screenshots => BrowserScripts.Screenshots;

    private Task<JsonElement> BrowseAsync(string key, string screenshot) => RunScriptAsync("dashboard.mjs", key, screenshot);

    private Task<JsonElement> RunScriptAsync(string script, string key, params string[] arguments) =>
        BrowserScripts.RunAsync(hub.Process.BaseAddress, script, key, arguments);

    private static string KeyOf(HttpClient client) => client.DefaultRequestHeaders.Authorization!.Parameter!;

    private static async Task<string> RegisterAsync(HttpClient client, string agency)
    {
        var registration = ConnectorValidationApiTests.ValidRegistration();
        registration["agency"] = agency;
        registration["sourceSystem"] = registration["id"]!.GetValue<string>() + "-src";
        using var created = await client.PostAsJsonAsync("/api/connectors", registration);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return registration["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task An_operator_sees_every_connector_and_a_province_admin_only_its_own_in_the_browser()
    {
        using var operatorClient = await hub.WithRolesAsync("operator");
        var (h68, h68Id) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H68" });
        using var _ = h68;
        var own = await RegisterAsync(h68, "H68");
        var other = await RegisterAsync(operatorClient, "H69");

        var asOperator = await BrowseAsync(KeyOf(operatorClient), Path.Combine(Screenshots, "dashboard-overview-operator.png"));
        var asProvince = await BrowseAsync(KeyOf(h68), Path.Combine(Screenshots, "dashboard-overview-province-admin.png"));

        var operatorSees = asOperator.GetProperty("connectors").EnumerateArray().Select(c => c.GetString()).ToList();
        var provinceSees = asProvince.GetProperty("connectors").EnumerateArray().Select(c => c.GetString()).ToList();
        Assert.Contains(own, operatorSees);
        Assert.Contains(other, operatorSees);
        Assert.Contains(own, provinceSees);
        Assert.DoesNotContain(other, provinceSees);
        Assert.Equal(h68Id, asProvince.GetProperty("principal").GetString());
        // A draft does not run: its freshness says so rather than late.
        Assert.Equal("disabled", asProvince.GetProperty("freshness").GetProperty(own).GetString());
        Assert.Equal("Connectors · Hub", asProvince.GetProperty("title").GetString());
        Assert.Equal("/ui/login", asProvince.GetProperty("afterSignOut").GetString());
        Assert.Empty(asOperator.GetProperty("foreign").EnumerateArray());
        Assert.True(new FileInfo(Path.Combine(Screenshots, "dashboard-overview-operator.png")).Length > 10_000);
    }

    [Fact]
    public async Task An_operator_pauses_resumes_and_syncs_a_connector_from_its_page_each_with_a_reason_logged()
    {
        var (owner, _) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H70" });
        var (approver, approverId) = await hub.WithGrantsAsync(new { role = "operator" });
        using var _1 = owner;
        using var _2 = approver;
        var id = await RegisterAsync(owner, "H70");
        foreach (var (client, step) in new[] { (owner, "submit"), (approver, "approve"), (owner, "activate") })
        {
            using var response = await client.PostAsync($"/api/connectors/{id}/lifecycle/{step}?reason=test", null);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }

        var run = await RunScriptAsync("connector.mjs", KeyOf(approver), id, Path.Combine(Screenshots, "dashboard-connector.png"));

        Assert.Equal("active", run.GetProperty("before").GetString());
        Assert.Equal(("paused", "vendor maintenance tonight"), (run.GetProperty("paused").GetProperty("lifecycle").GetString(), run.GetProperty("paused").GetProperty("reason").GetString()));
        Assert.Equal($"{id} is paused.", run.GetProperty("paused").GetProperty("message").GetString());
        Assert.Equal(("active", "maintenance over"), (run.GetProperty("resumed").GetProperty("lifecycle").GetString(), run.GetProperty("resumed").GetProperty("reason").GetString()));
        Assert.StartsWith($"A sync of {id} is queued (job ", run.GetProperty("synced").GetProperty("message").GetString(), StringComparison.Ordinal);
        var log = new Core.Audit.ExchangeLog(hub.Db, TimeProvider.System);
        var entries = (await log.SearchAsync(new Core.Audit.ExchangeSearch { Kind = Core.Audit.ExchangeRecord.AdminKind, ConnectorId = id, Limit = 100 }, CancellationToken.None))
            .OrderBy(e => e.Id).TakeLast(3).Select(e => (e.Action, e.Actor, e.Reason)).ToList();
        Assert.Equal(
            [("connector.paused", approverId, "vendor maintenance tonight"), ("connector.resumed", approverId, "maintenance over"), ("sync.requested", approverId, "checking after maintenance")],
            entries);
    }

    [Fact]
    public async Task An_operator_counts_a_range_then_back_fills_it_from_the_connector_page_and_retries_a_failed_sync_there()
    {
        var window = new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero);
        await using var simulator = await Hub.Simulator.SimulatorHost.StartAsync(new Hub.Simulator.ProvinceOptions
        {
            SourceSystem = "sim-page-backfill", AgencyPrefix = "H71", Dossiers = 200, Start = window, End = window.AddDays(10),
        });
        var (owner, _) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H71" });
        var (approver, approverId) = await hub.WithGrantsAsync(new { role = "operator" });
        using var _1 = owner;
        using var _2 = approver;
        var registration = ProbeHub.Registration(simulator, "sim-page-backfill", "page-backfill-" + Guid.NewGuid().ToString("N")[..6]);
        registration["agency"] = "H71";
        // A source that is down fails a run after one quick retry.
        registration["resilience"]!["maxRetries"] = 1;
        var id = registration["id"]!.GetValue<string>();
        using (var created = await owner.PostAsJsonAsync("/api/connectors", registration))
        {
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        }

        foreach (var (client, step) in new[] { (owner, "submit"), (approver, "approve"), (owner, "activate") })
        {
            using var response = await client.PostAsync($"/api/connectors/{id}/lifecycle/{step}?reason=test", null);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }

        var (from, to) = (new DateTimeOffset(2026, 9, 4, 0, 0, 0, TimeSpan.FromHours(7)), new DateTimeOffset(2026, 9, 6, 0, 0, 0, TimeSpan.FromHours(7)));
        var expected = simulator["sim-page-backfill"].Truth.Changes.Count(c => c.EventTime >= from && c.EventTime < to);
        Assert.True(expected > 0);

        var run = await RunScriptAsync("backfill.mjs", KeyOf(approver), id, "2026-09-04", "2026-09-06", Path.Combine(Screenshots, "dashboard-connector-backfill.png"));

        // Nothing is offered before a count; the count shows the source's records in the range and offers exactly those.
        Assert.Equal(0, run.GetProperty("offeredBefore").GetInt32());
        var counted = run.GetProperty("counted");
        Assert.StartsWith($"The source has {expected} record(s) changed in the range", counted.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal($"Back-fill {expected} record(s)", counted.GetProperty("button").GetString());
        Assert.Equal(("2026-09-04", "2026-09-06", "records lost in the vendor outage"),
            (counted.GetProperty("from").GetString(), counted.GetProperty("to").GetString(), counted.GetProperty("reason").GetString()));
        Assert.StartsWith($"A back-fill of {id} from 2026-09-04 to 2026-09-06 is queued (job ", run.GetProperty("queued").GetProperty("message").GetString(), StringComparison.Ordinal);

        JsonElement last = default;
        for (var wait = 0; wait < 240 && last is not { ValueKind: JsonValueKind.Object } || last.GetProperty("outcome").GetString() == "running"; wait++)
        {
            await Task.Delay(250);
            last = (await approver.GetFromJsonAsync<JsonElement>($"/api/connectors/{id}/runs")).EnumerateArray().FirstOrDefault();
        }

        Assert.Equal(("backfill", "succeeded", expected), (last.GetProperty("trigger").GetString(), last.GetProperty("outcome").GetString(),
            last.GetProperty("counts").GetProperty("changesStored").GetInt32()));
        var log = new Core.Audit.ExchangeLog(hub.Db, TimeProvider.System);
        var entries = (await log.SearchAsync(new Core.Audit.ExchangeSearch { Kind = Core.Audit.ExchangeRecord.AdminKind, ConnectorId = id, Limit = 100 }, CancellationToken.None))
            .OrderBy(e => e.Id).TakeLast(2).Select(e => (e.Action, e.Actor, e.Reason)).ToList();
        Assert.Equal(
            [("backfill.counted", approverId, "records lost in the vendor outage"), ("backfill.requested", approverId, "records lost in the vendor outage")],
            entries);

        // The province goes down: a sync fails, and its row offers a retry, which is a sync naming it once the province is up.
        var province = simulator["sim-page-backfill"];
        province.Faults.Set(new Hub.Simulator.FaultOptions { Down = true });
        using (var sync = await approver.PostAsync($"/api/connectors/{id}/sync?reason=test", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, sync.StatusCode);
        }

        var failed = await NextRunAsync(approver, id, last.GetProperty("id").GetInt64());
        Assert.Equal("failed", failed.GetProperty("outcome").GetString());
        province.Faults.Clear();
        var failedId = failed.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);

        var retry = await RunScriptAsync("retry.mjs", KeyOf(approver), id, failedId);

        Assert.Equal([failedId], retry.GetProperty("offered").EnumerateArray().Select(r => r.GetString()).ToList());
        Assert.StartsWith($"Run {failedId} is retried: a sync of {id} is queued (job ", retry.GetProperty("message").GetString(), StringComparison.Ordinal);
        var retried = await NextRunAsync(approver, id, failed.GetProperty("id").GetInt64());
        Assert.Equal(("manual", "succeeded", failed.GetProperty("id").GetInt64()),
            (retried.GetProperty("trigger").GetString(), retried.GetProperty("outcome").GetString(), retried.GetProperty("retryOf").GetInt64()));
        var retryEntry = (await log.SearchAsync(new Core.Audit.ExchangeSearch { Kind = Core.Audit.ExchangeRecord.AdminKind, ConnectorId = id, Limit = 100 }, CancellationToken.None))
            .OrderBy(e => e.Id).Last();
        Assert.Equal(("run.retried", approverId, "source answers again"), (retryEntry.Action, retryEntry.Actor, retryEntry.Reason));
        Assert.Equal(failed.GetProperty("id").GetInt64(), JsonDocument.Parse(retryEntry.Detail!).RootElement.GetProperty("runId").GetInt64());
    }

    /// <summary>The connector's first run after run <paramref name="after"/>, once it ended.</summary>
    private static async Task<JsonElement> NextRunAsync(HttpClient client, string id, long after)
    {
        for (var wait = 0; wait < 240; wait++)
        {
            var newest = (await client.GetFromJsonAsync<JsonElement>($"/api/connectors/{id}/runs")).EnumerateArray().FirstOrDefault();
            if (newest.ValueKind == JsonValueKind.Object && newest.GetProperty("id").GetInt64() > after && newest.GetProperty("outcome").GetString() != "running")
            {
                return newest;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Connector {id} has no run after run {after} that ended.");
    }

    [Fact]
    public async Task Keys_that_cannot_sign_in_are_told_why_and_the_session_cookie_opens_no_api_route()
    {
        // An admin manages principals and keys: no dashboard role (operator, province-admin, auditor) comes with it.
        using var admin = await hub.WithRolesAsync("admin");
        using var operatorClient = await hub.WithRolesAsync("operator");
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = hub.Process.BaseAddress };

        using var page = await anonymous.GetAsync("/ui");
        using var form = await anonymous.GetAsync("/ui/login");
        var html = await form.Content.ReadAsStringAsync();
        var token = System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        async Task<HttpResponseMessage> SignInAsync(string key) => await anonymous.PostAsync("/ui/login", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["key"] = key, ["__RequestVerificationToken"] = token }));
        using var wrong = await SignInAsync("hub_unknownkey00_" + new string('x', 43));
        using var notForDashboard = await SignInAsync(KeyOf(admin));
        using var withoutToken = await anonymous.PostAsync("/ui/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = KeyOf(operatorClient) }));
        using var signedIn = await SignInAsync(KeyOf(operatorClient));
        using var overview = await anonymous.GetAsync("/ui");
        using var api = await anonymous.GetAsync("/api/connectors");

        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/ui/login", page.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        Assert.NotEmpty(token);
        Assert.Contains("This key does not sign in: the API key is not known", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, notForDashboard.StatusCode);
        Assert.Contains("is not an operator, a province-admin or an auditor", await notForDashboard.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, withoutToken.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, overview.StatusCode);
        Assert.Contains("id=\"connectors\"", await overview.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The session cookie is the dashboard's only: the API still wants a key.
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }
}
