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
