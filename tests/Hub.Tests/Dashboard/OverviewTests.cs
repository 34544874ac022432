using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Hub.Tests.Registration;

namespace Hub.Tests.Dashboard;

/// <summary>
/// The overview's filters, sorting and live-refresh fragment over plain HTTP with a dashboard session, against a real
/// hub: each narrows or orders the connectors the principal maintains, and never shows another agency's.
/// </summary>
public sealed partial class OverviewTests(RegistrationApiHub hub) : IClassFixture<RegistrationApiHub>
{
    private static async Task<string> RegisterAsync(HttpClient client, string agency, string id)
    {
        var registration = ConnectorValidationApiTests.ValidRegistration();
        registration["id"] = id;
        registration["agency"] = agency;
        registration["sourceSystem"] = id + "-src";
        using var created = await client.PostAsJsonAsync("/api/connectors", registration);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return id;
    }

    /// <summary>The connector ids of the rows of a page or fragment, in order.</summary>
    private static async Task<List<string>> RowsAsync(HttpClient session, string url)
    {
        using var response = await session.GetAsync(url);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {html}");
        return [.. RowId().Matches(html).Select(m => m.Groups[1].Value)];
    }

    [Fact]
    public async Task Filters_by_province_kind_and_state_and_sorting_narrow_and_order_only_the_principals_connectors()
    {
        using var operatorClient = await hub.WithRolesAsync("operator");
        var (h73, _) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H73" }, new { role = "province-admin", agency = "H74" });
        using var _1 = h73;
        var a = await RegisterAsync(h73, "H73", "ov-h73-a-" + Guid.NewGuid().ToString("N")[..6]);
        var b = await RegisterAsync(h73, "H73", "ov-h73-b-" + Guid.NewGuid().ToString("N")[..6]);
        var c = await RegisterAsync(h73, "H74", "ov-h74-c-" + Guid.NewGuid().ToString("N")[..6]);
        var foreign = await RegisterAsync(operatorClient, "H75", "ov-h75-d-" + Guid.NewGuid().ToString("N")[..6]);
        using var province = await DashboardSession.SignInAsync(hub.Process.BaseAddress, DashboardSession.KeyOf(h73));
        using var central = await DashboardSession.SignInAsync(hub.Process.BaseAddress, DashboardSession.KeyOf(operatorClient));

        Assert.Equal([a, b, c], await RowsAsync(province, "/ui?sort=connector"));
        Assert.Equal([c, b, a], await RowsAsync(province, "/ui?sort=connector&desc=true"));
        Assert.Equal([c, a, b], await RowsAsync(province, "/ui?sort=agency&desc=true"));
        Assert.Equal([a, b], await RowsAsync(province, "/ui?agency=H73&sort=connector"));
        Assert.Equal([a, b, c], await RowsAsync(province, "/ui?kind=rest-pull&state=disabled&sort=connector"));
        Assert.Empty(await RowsAsync(province, "/ui?state=failing"));
        Assert.Empty(await RowsAsync(province, "/ui?kind=no-such-kind"));
        // Asking for another agency's connectors by filter shows nothing: the filter narrows what the principal may see.
        Assert.Empty(await RowsAsync(province, "/ui?agency=H75"));
        Assert.Equal([foreign], await RowsAsync(central, "/ui?agency=H75"));
        Assert.Contains(foreign, await RowsAsync(central, "/ui"));

        // The live refresh fetches the table alone, with the same filters and the same scope.
        using var fragment = await province.GetAsync("/ui?handler=Rows&agency=H74");
        var html = await fragment.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, fragment.StatusCode);
        Assert.StartsWith("<p class=\"muted\" id=\"as-of\">1 of 3 connector(s)", html.TrimStart(), StringComparison.Ordinal);
        Assert.DoesNotContain("<html", html, StringComparison.Ordinal);
        Assert.Equal([c], RowId().Matches(html).Select(m => m.Groups[1].Value));
        // Without a session the fragment is not served.
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = hub.Process.BaseAddress };
        using var refused = await anonymous.GetAsync("/ui?handler=Rows");
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith("/ui/login", refused.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_province_admin_reaches_no_other_agencys_connector_page_or_action()
    {
        using var operatorClient = await hub.WithRolesAsync("operator");
        var (h76, _) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H76" });
        using var _1 = h76;
        var own = await RegisterAsync(h76, "H76", "ov-h76-" + Guid.NewGuid().ToString("N")[..6]);
        var other = await RegisterAsync(operatorClient, "H77", "ov-h77-" + Guid.NewGuid().ToString("N")[..6]);
        using var session = await DashboardSession.SignInAsync(hub.Process.BaseAddress, DashboardSession.KeyOf(h76));

        using var ownPage = await session.GetAsync($"/ui/connectors/{own}");
        var html = await ownPage.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, ownPage.StatusCode);
        var token = Regex.Match(html, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEmpty(token);
        using var otherPage = await session.GetAsync($"/ui/connectors/{other}");
        Assert.Equal(HttpStatusCode.NotFound, otherPage.StatusCode);
        Assert.DoesNotContain(other, await otherPage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        foreach (var handler in new[] { "Sync", "Pause", "Resume", "Reprocess" })
        {
            using var post = await session.PostAsync($"/ui/connectors/{other}?handler={handler}", new FormUrlEncodedContent(
                new Dictionary<string, string> { ["reason"] = "not mine", ["__RequestVerificationToken"] = token }));
            Assert.True(post.StatusCode == HttpStatusCode.NotFound, $"{handler}: {(int)post.StatusCode}");
        }

        // The same posts on its own connector reach the page's handlers (a draft cannot pause: refused with a message).
        using var ownPost = await session.PostAsync($"/ui/connectors/{own}?handler=Pause", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["reason"] = "mine", ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.Redirect, ownPost.StatusCode);

        // Nothing changed or was logged for the other agency's connector.
        var state = await operatorClient.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/connectors/{other}");
        Assert.Equal("draft", state.GetProperty("lifecycle").GetString());
        var log = new Core.Audit.ExchangeLog(hub.Db, TimeProvider.System);
        var entries = await log.SearchAsync(new Core.Audit.ExchangeSearch { Kind = Core.Audit.ExchangeRecord.AdminKind, ConnectorId = other, Limit = 100 }, CancellationToken.None);
        Assert.DoesNotContain(entries, e => e.Reason == "not mine");
    }

    [GeneratedRegex("<tr data-connector-id=\"([^\"]+)\"")]
    private static partial Regex RowId();
}
