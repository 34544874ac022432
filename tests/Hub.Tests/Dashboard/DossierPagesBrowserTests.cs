using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Hub.Connectors.Mapping;
using Hub.Core.Audit;
using Hub.Core.Sync;
using Hub.Tests.Infrastructure;
using Hub.Tests.Registration;
using Hub.Tests.Webhook;

namespace Hub.Tests.Dashboard;

/// <summary>
/// The dossier lookup, the indicators and the audit view in a real browser against a real hub, with dossiers pushed
/// through json-webhook connectors of two agencies (so the exchange log holds the messages that carried them): what an
/// operator, a province-admin and an auditor each see, and what each is refused.
/// </summary>
public sealed partial class DossierPagesBrowserTests(RegistrationApiHub hub) : IClassFixture<RegistrationApiHub>
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 8, 0, 0, TimeSpan.FromHours(7));

    private static string KeyOf(HttpClient client) => client.DefaultRequestHeaders.Authorization!.Parameter!;

    /// <summary>
    /// A json-webhook connector of <paramref name="agency"/> and one dossier pushed through it: received at T0, then
    /// <paramref name="statuses"/> an hour apart, due <paramref name="due"/> after T0, with one processing step.
    /// </summary>
    private async Task<Pushed> PushAsync(string agency, TimeSpan due, params int[] statuses)
    {
        var id = $"dp-{agency.ToLowerInvariant()}-{Guid.NewGuid():N}"[..24];
        var key = RandomNumberGenerator.GetBytes(32);
        await TestSecrets.Catalog(hub.Db).SaveAsync(new ConnectorRegistration
        {
            Id = id,
            Kind = "json-webhook",
            SourceSystem = "sys-" + id,
            DisplayName = $"{agency} one-stop system (pushes)",
            Configuration = JsonSerializer.SerializeToElement(new JsonObject { ["secret"] = Convert.ToBase64String(key) }),
            Mapping = Mapping(),
            Active = true,
            Agency = agency,
        }, CancellationToken.None);

        var code = $"{agency}-20260302-{RandomNumberGenerator.GetInt32(1_000_000):D7}";
        var owner = Batches.Owner();
        var dossiers = statuses.Select((s, i) => (JsonNode)new JsonObject
        {
            ["id"] = "n1",
            ["code"] = code,
            ["t"] = T0.AddHours(i).ToString("O"),
            ["s"] = s.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["received"] = T0.ToString("O"),
            ["due"] = T0.Add(due).ToString("O"),
            ["proc"] = "1.000002",
            ["channel"] = "2",
            ["owner"] = owner,
        });
        var body = Batches.Body(dossiers, [new JsonObject { ["id"] = "n1", ["t"] = T0.AddMinutes(30).ToString("O"), ["what"] = "Checked the application file" }]);
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/connectors/{id}/webhook") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("X-Hub-Timestamp", ts);
        request.Headers.Add("X-Hub-Signature", WebhookHub.Sign(key, ts, body));
        using var response = await hub.Process.Client.SendAsync(request);
        var reply = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, reply);
        Assert.Equal(statuses.Length, JsonDocument.Parse(reply).RootElement.GetProperty("stored").GetInt32());
        return new Pushed(id, code, owner);
    }

    /// <summary>Records {id, code, t, s, received, due, proc, channel, owner}; owner is not mapped (it stands for personal data).</summary>
    private static MappingDefinition Mapping() => WebhookHub.Mapping() with
    {
        Version = "dossier-pages/1",
        Dossier = new Dictionary<string, FieldMapping>(WebhookHub.Mapping().Dossier)
        {
            ["ReceivedAt"] = "received",
            ["DueAt"] = "due",
            ["ProcedureBaseCode"] = "proc",
            ["Channel"] = "channel",
        },
    };

    private sealed record Pushed(string ConnectorId, string Code, string Owner);

    private static JsonElement Lookup(JsonElement run, string code) =>
        run.GetProperty("lookups").EnumerateArray().Single(l => l.GetProperty("code").GetString() == code);

    [Fact]
    public async Task An_operator_looks_up_a_dossier_and_sees_its_status_history_steps_and_exchanges_without_payload_links()
    {
        using var operatorClient = await hub.WithRolesAsync("operator");
        var finished = await PushAsync("H81", TimeSpan.FromDays(3), 2, 4, 9);
        var unknown = $"H81-20260302-{RandomNumberGenerator.GetInt32(1_000_000):D7}-x";

        var run = await BrowserScripts.RunAsync(hub.Process.BaseAddress, "lookup.mjs", KeyOf(operatorClient),
            Path.Combine(BrowserScripts.Screenshots, "dossier-operator"), finished.Code, unknown, " ", new string('A', 201));

        var found = Lookup(run, finished.Code);
        Assert.Equal($"/ui/dossiers/{finished.Code}", found.GetProperty("path").GetString());
        Assert.Equal(JsonValueKind.Null, found.GetProperty("problem").ValueKind);
        Assert.Equal("9", found.GetProperty("status").GetString());
        Assert.Equal("9 Đã xử lý xong", found.GetProperty("statusText").GetString());
        // Resolved two hours after reception against three days: on time.
        Assert.Equal("onTime", found.GetProperty("onTime").GetString());
        Assert.Equal(T0.AddDays(3).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture), found.GetProperty("dueAt").GetString());
        Assert.Equal("H81", found.GetProperty("agency").GetString());
        Assert.Equal([2, 4, 9], found.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("status").GetInt32()));
        Assert.All(found.GetProperty("history").EnumerateArray(), h => Assert.Equal("expected", h.GetProperty("transition").GetString()));
        Assert.Equal(["Checked the application file"], found.GetProperty("steps").EnumerateArray().Select(s => s.GetString()));
        // The one webhook delivery that carried the dossier, as the exchange log recorded it; no payload link for an operator.
        var logged = await new ExchangeLog(hub.Db, TimeProvider.System).SearchAsync(
            new ExchangeSearch { Dossier = finished.Code, Kind = ExchangeRecord.MessageKind }, CancellationToken.None);
        var delivery = Assert.Single(logged);
        Assert.Equal(finished.ConnectorId, delivery.ConnectorId);
        var exchange = Assert.Single(found.GetProperty("exchanges").EnumerateArray());
        Assert.Equal(delivery.Id, exchange.GetProperty("id").GetInt64());
        Assert.Equal(JsonValueKind.Null, exchange.GetProperty("link").ValueKind);

        Assert.Equal($"No dossier with the national code (MaHoSo) '{unknown}' is stored in the hub. Codes match exactly, capitals included.",
            Lookup(run, unknown).GetProperty("problem").GetString());
        Assert.StartsWith("Type a dossier's national code", Lookup(run, " ").GetProperty("problem").GetString(), StringComparison.Ordinal);
        Assert.Equal("That code is 201 characters long: a national dossier code (MaHoSo) has at most 200.",
            Lookup(run, new string('A', 201)).GetProperty("problem").GetString());
        Assert.Equal(["Connectors", "Dossiers", "Indicators", "Subscriptions", "Jobs"], run.GetProperty("nav").EnumerateArray().Select(n => n.GetString()));
        Assert.Empty(run.GetProperty("foreign").EnumerateArray());
        Assert.True(new FileInfo(Path.Combine(BrowserScripts.Screenshots, "dossier-operator-lookup.png")).Length > 10_000);
    }

    [Fact]
    public async Task A_province_admin_finds_its_own_agencys_dossier_not_another_agencys_and_sees_only_its_indicators()
    {
        var own = await PushAsync("H82", TimeSpan.FromDays(3), 2, 4, 9);
        // Due a day after reception in March 2026 and still in progress: overdue now.
        await PushAsync("H82", TimeSpan.FromDays(1), 2, 4);
        var other = await PushAsync("H83", TimeSpan.FromDays(3), 2, 4, 9);
        var unknown = other.Code + "9";
        var (h82, _) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H82" });
        using var _1 = h82;

        var run = await BrowserScripts.RunAsync(hub.Process.BaseAddress, "lookup.mjs", KeyOf(h82),
            Path.Combine(BrowserScripts.Screenshots, "dossier-province-admin"), own.Code, other.Code, unknown);

        var found = Lookup(run, own.Code);
        Assert.Equal("9", found.GetProperty("status").GetString());
        Assert.Single(found.GetProperty("exchanges").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, found.GetProperty("exchanges")[0].GetProperty("link").ValueKind);
        // Another agency's dossier is answered exactly as a code that does not exist.
        var otherProblem = Lookup(run, other.Code).GetProperty("problem").GetString()!;
        var unknownProblem = Lookup(run, unknown).GetProperty("problem").GetString()!;
        Assert.Equal($"No dossier with the national code (MaHoSo) '{other.Code}' is stored for an agency you maintain. Codes match exactly, capitals included.", otherProblem);
        Assert.Equal(unknownProblem.Replace(unknown, "{code}", StringComparison.Ordinal), otherProblem.Replace(other.Code, "{code}", StringComparison.Ordinal));
        Assert.Equal(JsonValueKind.Null, Lookup(run, other.Code).GetProperty("status").ValueKind);

        var rows = run.GetProperty("indicators").EnumerateArray().ToList();
        Assert.Equal(["H82"], rows.Select(r => r.GetProperty("agency").GetString()).Distinct());
        var total = rows.Single(r => r.GetProperty("total").GetBoolean());
        Assert.Equal((2, "100.0%", "100.0%", 1, 0), (total.GetProperty("dossiers").GetInt32(), total.GetProperty("onTimeRate").GetString(),
            total.GetProperty("online").GetString(), total.GetProperty("overdueNow").GetInt32(), total.GetProperty("inProgress").GetInt32()));
        Assert.Equal("not available yet", total.GetProperty("synced").GetString());
        Assert.Contains(rows, r => !r.GetProperty("total").GetBoolean() && r.GetProperty("procedure").GetString() == "1.000002" && r.GetProperty("dossiers").GetInt32() == 2);
        Assert.Equal(["Connectors", "Dossiers", "Indicators"], run.GetProperty("nav").EnumerateArray().Select(n => n.GetString()));
    }

    [Fact]
    public async Task An_auditor_opens_an_exchange_from_the_lookup_and_reads_its_payload_the_read_being_logged()
    {
        var pushed = await PushAsync("H84", TimeSpan.FromDays(3), 2, 4);
        var (auditor, auditorId) = await hub.WithGrantsAsync(new { role = "auditor" });
        using var _1 = auditor;

        var run = await BrowserScripts.RunAsync(hub.Process.BaseAddress, "audit.mjs", KeyOf(auditor), pushed.Code, "complaint 2026/117",
            Path.Combine(BrowserScripts.Screenshots, "dossier-audit-view.png"));

        var delivery = Assert.Single(await new ExchangeLog(hub.Db, TimeProvider.System).SearchAsync(
            new ExchangeSearch { Dossier = pushed.Code, Kind = ExchangeRecord.MessageKind }, CancellationToken.None));
        Assert.Equal("/ui/dossiers", run.GetProperty("landing").GetString());
        Assert.Equal(["Dossiers", "Indicators"], run.GetProperty("nav").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal([$"/ui/exchanges/{delivery.Id}"], run.GetProperty("exchangeLinks").EnumerateArray().Select(l => l.GetString()));
        var entry = run.GetProperty("entry");
        Assert.Equal("message", entry.GetProperty("kind").GetString());
        Assert.Equal("inbound", entry.GetProperty("direction").GetString());
        Assert.Equal(pushed.ConnectorId, entry.GetProperty("connector").GetString());
        Assert.Equal(Convert.ToHexStringLower(delivery.PayloadSha256!), entry.GetProperty("sha256").GetString());
        // The payload exactly as the province sent it, personal data included: auditors only.
        var payload = run.GetProperty("payload").GetString()!;
        Assert.Contains(pushed.Code, payload, StringComparison.Ordinal);
        Assert.Contains(pushed.Owner, payload, StringComparison.Ordinal);
        var read = await new ExchangeLog(hub.Db, TimeProvider.System).GetAsync(run.GetProperty("recordedAs").GetInt64(), CancellationToken.None);
        Assert.NotNull(read);
        Assert.Equal(("exchange.payload-read", auditorId, "complaint 2026/117"), (read.Action, read.Actor, read.Reason));
        Assert.Contains($"\"entryId\":{delivery.Id}", read.Detail, StringComparison.Ordinal);
        Assert.Empty(run.GetProperty("foreign").EnumerateArray());
        Assert.DoesNotContain(pushed.Owner, hub.Process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_audit_view_refuses_operators_and_the_connector_pages_refuse_auditors_who_land_on_the_lookup()
    {
        var pushed = await PushAsync("H85", TimeSpan.FromDays(3), 2);
        var entryId = Assert.Single(await new ExchangeLog(hub.Db, TimeProvider.System).SearchAsync(
            new ExchangeSearch { Dossier = pushed.Code, Kind = ExchangeRecord.MessageKind }, CancellationToken.None)).Id;
        using var operatorClient = await hub.WithRolesAsync("operator");
        using var auditorClient = await hub.WithRolesAsync("auditor");
        using var asOperator = await SignedInAsync(KeyOf(operatorClient));
        using var asAuditor = await SignedInAsync(KeyOf(auditorClient));

        using var operatorAudit = await asOperator.GetAsync($"/ui/exchanges/{entryId}");
        using var operatorDenied = await asOperator.GetAsync(operatorAudit.Headers.Location!.PathAndQuery);
        using var operatorLookup = await asOperator.GetAsync($"/ui/dossiers/{pushed.Code}");
        using var auditorOverview = await asAuditor.GetAsync("/ui");
        using var auditorConnector = await asAuditor.GetAsync($"/ui/connectors/{pushed.ConnectorId}");
        using var auditorDenied = await asAuditor.GetAsync(auditorConnector.Headers.Location!.PathAndQuery);
        using var auditorPause = await asAuditor.PostAsync($"/ui/connectors/{pushed.ConnectorId}?handler=Pause",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["reason"] = "not mine to pause" }));
        using var auditorAudit = await asAuditor.GetAsync($"/ui/exchanges/{entryId}");

        Assert.Equal(HttpStatusCode.Redirect, operatorAudit.StatusCode);
        Assert.StartsWith("/ui/denied", operatorAudit.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, operatorDenied.StatusCode);
        Assert.Contains("Your roles do not open this page", await operatorDenied.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, operatorLookup.StatusCode);
        Assert.DoesNotContain("/ui/exchanges/", await operatorLookup.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, auditorOverview.StatusCode);
        Assert.Equal("/ui/dossiers", auditorOverview.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, auditorConnector.StatusCode);
        Assert.StartsWith("/ui/denied", auditorConnector.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, auditorDenied.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, auditorPause.StatusCode);
        Assert.StartsWith("/ui/denied", auditorPause.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(ConnectorLifecycle.Active, (await TestSecrets.Catalog(hub.Db).GetAsync(pushed.ConnectorId, CancellationToken.None))!.Lifecycle);
        Assert.Equal(HttpStatusCode.OK, auditorAudit.StatusCode);
        Assert.Contains("id=\"read-payload\"", await auditorAudit.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_province_admin_gets_the_same_404_for_another_agencys_dossier_as_for_an_unknown_code_and_a_403_for_its_indicators()
    {
        var own = await PushAsync("H86", TimeSpan.FromDays(3), 2);
        var other = await PushAsync("H87", TimeSpan.FromDays(3), 2);
        var (h86, _) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H86" });
        using var _1 = h86;
        using var session = await SignedInAsync(KeyOf(h86));

        using var ownPage = await session.GetAsync($"/ui/dossiers/{own.Code}");
        using var otherPage = await session.GetAsync($"/ui/dossiers/{other.Code}");
        using var unknownPage = await session.GetAsync($"/ui/dossiers/{other.Code}0");
        using var malformed = await session.GetAsync("/ui/dossiers?code=%09");
        using var otherIndicators = await session.GetAsync("/ui/indicators?agency=H87");
        using var badAgency = await session.GetAsync("/ui/indicators?agency=h86");
        using var ownIndicators = await session.GetAsync("/ui/indicators?agency=H86");

        Assert.Equal(HttpStatusCode.OK, ownPage.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherPage.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownPage.StatusCode);
        Assert.Contains("is stored for an agency you maintain", await otherPage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(other.ConnectorId, await otherPage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("Type a dossier&#x27;s national code", await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, otherIndicators.StatusCode);
        Assert.Contains("You do not maintain agency &#x27;H87&#x27;.", await otherIndicators.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badAgency.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ownIndicators.StatusCode);
        Assert.Contains("data-agency=\"H86\"", await ownIndicators.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>A cookie-keeping client (redirects not followed) signed in to the dashboard with <paramref name="key"/>.</summary>
    private async Task<HttpClient> SignedInAsync(string key)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = hub.Process.BaseAddress };
        var form = await client.GetStringAsync("/ui/login");
        var token = Token().Match(form).Groups[1].Value;
        using var signedIn = await client.PostAsync("/ui/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = key, ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return client;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
