using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hub.Tests.Infrastructure;
using Hub.Tests.Registration;
using Npgsql;

namespace Hub.Tests.Dashboard;

/// <summary>A real hub process that reads connector schedules every second, so that a connector's recurring job appears at once.</summary>
public sealed class JobsDashboardHub : IAsyncLifetime
{
    private string _work = "";

    public NpgsqlDataSource Db { get; private set; } = null!;

    public HubProcess Process { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateSchemaAsync("jobs_dashboard");
        _work = Directory.CreateTempSubdirectory("hub-jobs-dashboard-").FullName;
        Process = HubProcess.Start(_work, new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = Db.ConnectionString,
            ["Hub__Audit__SealInterval"] = "01:00:00",
            ["Hub__Scheduler__ScheduleRefresh"] = "00:00:01",
            // Hangfire's tables of its own: hubs of other tests share the database and would remove this one's recurring jobs.
            ["Hub__Scheduler__SchemaName"] = "hangfire_jobs_" + Guid.NewGuid().ToString("N")[..8],
        });
        await Process.WaitReadyAsync(TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        await Process.DisposeAsync();
        await Db.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }
}

/// <summary>
/// Hangfire's dashboard at <c>/ui/hangfire</c> over real HTTP: only an operator's dashboard session opens it; anonymous
/// callers and API keys are sent to sign in, a province-admin's session is refused; its assets come from the hub itself,
/// and its actions need the antiforgery token.
/// </summary>
public sealed class HangfireDashboardTests(JobsDashboardHub hub) : IClassFixture<JobsDashboardHub>
{
    /// <summary>A cookie-keeping client that does not follow redirects, signed in to the dashboard with <paramref name="key"/>.</summary>
    private async Task<HttpClient> SessionAsync(string key)
    {
        var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = hub.Process.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var form = await browser.GetAsync("/ui/login");
        var token = Regex.Match(await form.Content.ReadAsStringAsync(), "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        using var signedIn = await browser.PostAsync("/ui/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = key, ["__RequestVerificationToken"] = token }));
        Assert.True(signedIn.StatusCode == HttpStatusCode.Redirect, $"sign-in: {(int)signedIn.StatusCode} {await signedIn.Content.ReadAsStringAsync()}");
        return browser;
    }

    private static string KeyOf(HttpClient client) => client.DefaultRequestHeaders.Authorization!.Parameter!;

    private async Task<(HttpClient Client, string Id)> PrincipalAsync(params object[] grants) => await hub.Process.PrincipalClientAsync("jobs", grants);

    private static async Task OkAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using (response)
        {
            Assert.True(expected == response.StatusCode, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>An active pull connector of <paramref name="agency"/> with a schedule: the scheduler gives it a recurring job.</summary>
    private async Task<string> ActiveConnectorAsync(string agency)
    {
        var (owner, _) = await PrincipalAsync(new { role = "province-admin", agency });
        using var _1 = owner;
        var registration = ConnectorValidationApiTests.ValidRegistration($"{agency.ToLowerInvariant()}-jobs-{Guid.NewGuid().ToString("N")[..8]}");
        registration["agency"] = agency;
        registration["sourceSystem"] = registration["id"]!.GetValue<string>() + "-src";
        registration["schedule"] = "0 3 * * *";
        var id = registration["id"]!.GetValue<string>();
        await OkAsync(await owner.PostAsJsonAsync("/api/connectors", registration), HttpStatusCode.Created);
        await OkAsync(await owner.PostAsync($"/api/connectors/{id}/lifecycle/submit?reason=ready", null));
        await OkAsync(await hub.Process.Client.PostAsync($"/api/connectors/{id}/lifecycle/approve?reason=reviewed", null));
        await OkAsync(await owner.PostAsync($"/api/connectors/{id}/lifecycle/activate?reason=go", null));
        return id;
    }

    /// <summary>Polls the recurring jobs page until it lists <paramref name="jobId"/>; its HTML.</summary>
    private static async Task<string> RecurringPageListingAsync(HttpClient session, string jobId)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (true)
        {
            using var page = await session.GetAsync("/ui/hangfire/recurring");
            var html = await page.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            if (html.Contains(jobId, StringComparison.Ordinal))
            {
                return html;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"{jobId} is not on the recurring jobs page:\n{html}");
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task Anonymous_callers_and_api_keys_without_a_session_are_sent_to_sign_in_and_get_no_hangfire_page()
    {
        var (operatorClient, _) = await PrincipalAsync(new { role = "operator" });
        using var _1 = operatorClient;
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = hub.Process.BaseAddress };
        using var withKey = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = hub.Process.BaseAddress };
        withKey.DefaultRequestHeaders.Authorization = new("Bearer", KeyOf(operatorClient));
        using var withKeyHeader = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = hub.Process.BaseAddress };
        withKeyHeader.DefaultRequestHeaders.Add("X-Api-Key", KeyOf(operatorClient));

        foreach (var (client, path) in new[] { (anonymous, "/ui/hangfire"), (anonymous, "/ui/hangfire/recurring"), (withKey, "/ui/hangfire"), (withKeyHeader, "/ui/hangfire/servers") })
        {
            using var response = await client.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{path}: {(int)response.StatusCode} {body}");
            Assert.StartsWith("/ui/login?", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
            Assert.DoesNotContain("Hub jobs", body, StringComparison.Ordinal);
        }

        // The same key is a good API key: the refusal is about the dashboard wanting a session, not about the key.
        await OkAsync(await operatorClient.GetAsync("/api/connectors"));
        // A POST action without a session is refused before Hangfire sees it.
        using var trigger = await withKey.PostAsync("/ui/hangfire/recurring/trigger", new FormUrlEncodedContent(new Dictionary<string, string> { ["jobs[]"] = "sync:none" }));
        Assert.Equal(HttpStatusCode.Redirect, trigger.StatusCode);
    }

    [Fact]
    public async Task A_province_admin_session_is_forbidden_and_its_pages_show_no_jobs_link()
    {
        var (provinceAdmin, _) = await PrincipalAsync(new { role = "province-admin", agency = "H71" });
        using var _1 = provinceAdmin;
        using var session = await SessionAsync(KeyOf(provinceAdmin));

        using var jobs = await session.GetAsync("/ui/hangfire");
        using var recurring = await session.GetAsync("/ui/hangfire/recurring");
        using var overview = await session.GetAsync("/ui");

        Assert.Equal(HttpStatusCode.Forbidden, jobs.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, recurring.StatusCode);
        Assert.DoesNotContain("Hub jobs", await jobs.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, overview.StatusCode);
        var html = await overview.Content.ReadAsStringAsync();
        Assert.Contains("id=\"connectors\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("/ui/hangfire", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_operator_session_opens_hangfire_from_the_jobs_link_lists_a_connectors_recurring_job_and_loads_only_the_hubs_own_assets()
    {
        var id = await ActiveConnectorAsync("H72");
        var (operatorClient, _) = await PrincipalAsync(new { role = "operator" });
        using var _1 = operatorClient;
        using var session = await SessionAsync(KeyOf(operatorClient));

        using var overview = await session.GetAsync("/ui");
        var overviewHtml = await overview.Content.ReadAsStringAsync();
        Assert.Contains("<a href=\"/ui/hangfire\" id=\"jobs\">Jobs</a>", overviewHtml, StringComparison.Ordinal);

        using var home = await session.GetAsync("/ui/hangfire");
        var homeHtml = await home.Content.ReadAsStringAsync();
        Assert.True(home.StatusCode == HttpStatusCode.OK, homeHtml);
        Assert.Contains("Hub jobs", homeHtml, StringComparison.Ordinal);
        // The storage's connection string (with its password) is not shown.
        Assert.DoesNotContain("Password", homeHtml, StringComparison.OrdinalIgnoreCase);

        var recurring = await RecurringPageListingAsync(session, "sync:" + id);
        Assert.Contains($"Sync {id} (schedule)", recurring, StringComparison.Ordinal);

        // Every script and style comes from the hub, under the dashboard's path, and is served there (the icon is an empty data: URI).
        var assets = Regex.Matches(homeHtml, "<(?:script|link|img)[^>]*(?:src|href)=\"([^\"]+)\"").Select(m => m.Groups[1].Value)
            .Where(a => !a.StartsWith("data:", StringComparison.Ordinal)).ToList();
        Assert.Contains(assets, a => a.Contains("/js", StringComparison.Ordinal));
        Assert.Contains(assets, a => a.Contains("/css", StringComparison.Ordinal));
        Assert.All(assets, a => Assert.StartsWith("/ui/hangfire/", a, StringComparison.Ordinal));
        foreach (var asset in assets.Distinct(StringComparer.Ordinal))
        {
            await OkAsync(await session.GetAsync(asset));
        }
    }

    [Fact]
    public async Task An_operator_session_loses_hangfire_at_once_when_its_principal_stops_being_an_operator_and_when_its_key_is_revoked()
    {
        var (operatorClient, id) = await PrincipalAsync(new { role = "operator" });
        using var _1 = operatorClient;
        using var session = await SessionAsync(KeyOf(operatorClient));
        using var before = await session.GetAsync("/ui/hangfire");

        await OkAsync(await hub.Process.Client.PutAsJsonAsync($"/api/principals/{id}/roles",
            new { roles = new[] { new { role = "province-admin", agency = "H74" } }, reason = "moved to a province" }));
        using var demoted = await session.GetAsync("/ui/hangfire");
        await OkAsync(await hub.Process.Client.PostAsync($"/api/keys/{KeyOf(operatorClient).Split('_')[1]}/revoke?reason=rotated", null));
        using var revoked = await session.GetAsync("/ui/hangfire");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, demoted.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, revoked.StatusCode);
        Assert.StartsWith("/ui/login?", revoked.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    /// <summary>Waits until the connector has a recorded run.</summary>
    private async Task WaitForRunAsync(string id)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while (true)
        {
            using var runs = await hub.Process.Client.GetAsync($"/api/connectors/{id}/runs");
            var json = await runs.Content.ReadFromJsonAsync<JsonElement>();
            if (json.GetArrayLength() > 0)
            {
                return;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"no run of {id} after the trigger: {json}");
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task In_a_browser_an_operator_signs_in_from_hangfire_and_triggers_a_recurring_job_with_its_own_button_loading_nothing_from_other_hosts()
    {
        var id = await ActiveConnectorAsync("H75");
        var (operatorClient, _) = await PrincipalAsync(new { role = "operator" });
        using var _1 = operatorClient;
        var work = Directory.CreateTempSubdirectory("hub-jobs-browser-").FullName;
        try
        {
            var keyFile = Path.Combine(work, "key");
            await File.WriteAllTextAsync(keyFile, KeyOf(operatorClient));
            using (var session = await SessionAsync(KeyOf(operatorClient)))
            {
                await RecurringPageListingAsync(session, "sync:" + id);
            }

            var screenshot = Path.Combine(Directory.CreateDirectory(Path.Combine(RepoRoot.Path, "TestResults", "screenshots")).FullName, "dashboard-jobs.png");
            var start = new ProcessStartInfo("node", [Path.Combine(RepoRoot.Path, "tools", "browser-tests", "jobs.mjs"), hub.Process.BaseAddress.ToString().TrimEnd('/'), keyFile, "sync:" + id, screenshot])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Path.Combine(RepoRoot.Path, "tools", "browser-tests"),
            };
            using var node = Process.Start(start)!;
            var output = node.StandardOutput.ReadToEndAsync();
            var errors = node.StandardError.ReadToEndAsync();
            await node.WaitForExitAsync();
            Assert.True(node.ExitCode == 0, $"the browser run failed:\n{await output}\n{await errors}");
            var run = JsonDocument.Parse(await output).RootElement;

            Assert.True(run.GetProperty("signInFirst").GetBoolean());
            Assert.Contains("Hub jobs", run.GetProperty("title").GetString(), StringComparison.Ordinal);
            Assert.True(run.GetProperty("listed").GetBoolean());
            Assert.Equal(204, run.GetProperty("triggerStatus").GetInt32());
            Assert.Empty(run.GetProperty("failed").EnumerateArray());
            Assert.Empty(run.GetProperty("foreign").EnumerateArray());
            await WaitForRunAsync(id);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task A_hangfire_action_of_an_operator_session_needs_the_antiforgery_token_of_its_page()
    {
        var id = await ActiveConnectorAsync("H73");
        var (operatorClient, _) = await PrincipalAsync(new { role = "operator" });
        using var _1 = operatorClient;
        using var session = await SessionAsync(KeyOf(operatorClient));
        var page = await RecurringPageListingAsync(session, "sync:" + id);
        // Hangfire's scripts send the token of the page's meta tags as a header with each action.
        var header = Regex.Match(page, "<meta name=\"csrf-header\" content=\"([^\"]+)\"").Groups[1].Value;
        var token = Regex.Match(page, "<meta name=\"csrf-token\" content=\"([^\"]+)\"").Groups[1].Value;
        Assert.True(header.Length > 0 && token.Length > 0, page[..Math.Min(3000, page.Length)]);
        HttpContent Trigger() => new FormUrlEncodedContent(new Dictionary<string, string> { ["jobs[]"] = "sync:" + id });

        using var forged = await session.PostAsync("/ui/hangfire/recurring/trigger", Trigger());
        using var withToken = new HttpRequestMessage(HttpMethod.Post, "/ui/hangfire/recurring/trigger") { Content = Trigger() };
        withToken.Headers.Add(header, token);
        using var triggered = await session.SendAsync(withToken);

        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.True(triggered.IsSuccessStatusCode, $"{(int)triggered.StatusCode} {await triggered.Content.ReadAsStringAsync()}");
        // The trigger went through the scheduler: the connector gets a scheduled run (it fails: nothing listens at its source).
        await WaitForRunAsync(id);
    }
}
