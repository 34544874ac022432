using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors.BuiltIn.NationalPortal;
using static Hub.Tests.Portal.PortalKit;

namespace Hub.Tests.Portal;

/// <summary>The national portal protocol against the real hub process, over HTTP on loopback.</summary>
public sealed class NationalPortalAdapterTests(PortalHubFixture fixture) : IClassFixture<PortalHubFixture>
{
    private const string Dossiers = PortalProtocol.DossierService;
    private const string Steps = PortalProtocol.StepService;
    private const string Agency = "000.00.00.H56";
    private static readonly DateTimeOffset T0 = new(2025, 11, 17, 9, 30, 40, TimeSpan.FromHours(7));

    private HttpClient Client => fixture.Hub.Client;

    private async Task<(Hub.Core.Sync.ConnectorRegistration Connector, string Session)> ConnectAsync(string name, string[]? madonvi = null)
    {
        var connector = Connector(name, madonvi: madonvi);
        await fixture.Catalog.SaveAsync(connector, CancellationToken.None);
        return (connector, await SessionAsync(Client, connector));
    }

    private async Task<int?> StoredStatusAsync(string code) =>
        await ScalarAsync<short?>(fixture.Db, "select status from dossier where dossier_code = $1", code);

    [Fact]
    public async Task Login_with_a_connectors_credentials_answers_success_with_a_session_stored_only_as_its_hash()
    {
        var connector = Connector("login-ok");
        await fixture.Catalog.SaveAsync(connector, CancellationToken.None);

        using var response = await LoginAsync(Client, Username(connector), Password(connector));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"message\":\"Thành công\"", text, StringComparison.Ordinal);
        var body = JsonSerializer.Deserialize<JsonElement>(text);
        Assert.Equal(JsonValueKind.Number, body.GetProperty("error_code").ValueKind);
        Assert.Equal(0, body.GetProperty("error_code").GetInt32());
        var session = body.GetProperty("session").GetString()!;
        Assert.True(session.Length >= 32);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(session));
        Assert.Equal("login-ok", await ScalarAsync<string>(fixture.Db, "select connector_id from portal_session where token_hash = $1", hash));
        Assert.Equal(0L, await ScalarAsync<long>(fixture.Db, "select count(*) from portal_session s where s::text like $1", $"%{session}%"));
    }

    [Fact]
    public async Task Login_with_a_wrong_password_is_refused_and_logged_without_the_password()
    {
        var connector = Connector("login-wrong");
        await fixture.Catalog.SaveAsync(connector, CancellationToken.None);
        const string wrong = "guessed-Pa55word-7731";

        using var response = await LoginAsync(Client, Username(connector), wrong);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await BodyAsync(response);
        Assert.Equal("-1", Code(body));
        Assert.Contains("Wrong user name or password", Message(body), StringComparison.Ordinal);
        Assert.False(body.TryGetProperty("session", out _));
        Assert.True(await OutputShowsAsync(fixture.Hub, $"Portal login refused for user {Username(connector)}"), fixture.Hub.Output);
        Assert.DoesNotContain(wrong, fixture.Hub.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Password(connector), fixture.Hub.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_of_a_paused_connector_or_without_a_password_is_refused()
    {
        var paused = Connector("login-paused") with { Active = false };
        await fixture.Catalog.SaveAsync(paused, CancellationToken.None);

        using var pausedLogin = await LoginAsync(Client, Username(paused), Password(paused));
        using var noPassword = await Client.PostAsync("/portal/login", new StringContent("{\"username\":\"x\"}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, pausedLogin.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noPassword.StatusCode);
        Assert.Contains("password missing", Message(await BodyAsync(noPassword)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_unknown_or_expired_session_is_refused_with_a_message_saying_to_log_in_again()
    {
        var (_, session) = await ConnectAsync("session-end");
        var row = DossierRow("H56.SE-251117-0001", 2, T0);

        var missing = await PostAsync(Client, Envelope(null, Dossiers, Agency, false, row));
        var unknown = await PostAsync(Client, Envelope(Guid.NewGuid().ToString(), Dossiers, Agency, false, row));
        await using (var expire = fixture.Db.CreateCommand("update portal_session set expires_at = now() - interval '1 minute' where connector_id = 'session-end'"))
        {
            await expire.ExecuteNonQueryAsync();
        }

        var expired = await PostAsync(Client, Envelope(session, Dossiers, Agency, false, row));

        Assert.All([missing, unknown, expired], r => Assert.Equal((HttpStatusCode.Unauthorized, "-1"), (r.Status, Code(r.Body))));
        Assert.Contains("no session", Message(missing.Body), StringComparison.Ordinal);
        Assert.Contains("unknown", Message(unknown.Body), StringComparison.Ordinal);
        Assert.Contains("expired at", Message(expired.Body), StringComparison.Ordinal);
        Assert.All([missing, unknown, expired], r => Assert.Contains("POST /portal/login", Message(r.Body), StringComparison.Ordinal));
        Assert.Null(await StoredStatusAsync("H56.SE-251117-0001"));
    }

    [Fact]
    public async Task A_session_ends_when_the_connectors_password_changes()
    {
        var (connector, session) = await ConnectAsync("session-rotated");
        var config = JsonNode.Parse(connector.Configuration.GetRawText())!.AsObject();
        config["password"] = "a-new-password";
        await fixture.Catalog.SaveAsync(connector with { Configuration = JsonSerializer.SerializeToElement(config) }, CancellationToken.None);

        var (status, body) = await PostAsync(Client, Envelope(session, Dossiers, Agency, false, DossierRow("H56.SR-251117-0001", 2, T0)));

        Assert.Equal((HttpStatusCode.Unauthorized, "-1"), (status, Code(body)));
        Assert.Contains("credentials changed", Message(body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_dossier_is_stored_and_answered_with_the_portals_success_shape()
    {
        var (connector, session) = await ConnectAsync("insert-new");
        const string code = "H56.IN-251117-0001";

        var (status, body) = await PostAsync(Client, Envelope(session, Dossiers, Agency, false, DossierRow(code, 4, T0)));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(JsonValueKind.String, body.GetProperty("error_code").ValueKind);
        Assert.Equal("0", Code(body));
        Assert.Equal("Đồng bộ thành công", Message(body));
        Assert.Equal(0, body.GetProperty("result").GetArrayLength());
        using var dossier = await Client.GetAsync($"/api/dossiers/{code}");
        var current = (await BodyAsync(dossier)).GetProperty("current");
        Assert.Equal(4, current.GetProperty("status").GetInt32());
        Assert.Equal(connector.SourceSystem, current.GetProperty("sourceSystem").GetString());
        Assert.Equal(code, current.GetProperty("nativeId").GetString());
        Assert.Equal(Agency, current.GetProperty("agencyCode").GetString());
        Assert.Equal("2025-11-17T09:30:40+07:00", current.GetProperty("eventTime").GetString());
        Assert.Equal("national-portal/1", current.GetProperty("mappingVersion").GetString());
    }

    [Fact]
    public async Task An_insert_of_a_stored_dossier_is_answered_already_exists_and_not_applied_while_the_new_rows_of_the_post_are()
    {
        var (_, session) = await ConnectAsync("insert-exists");
        const string known = "H56.EX-251117-0001", fresh = "H56.EX-251117-0002";
        await PostAsync(Client, Envelope(session, Dossiers, Agency, false, DossierRow(known, 2, T0)));

        var newer = DossierRow(known, 4, T0.AddHours(1));
        var (status, body) = await PostAsync(Client, Envelope(session, Dossiers, Agency, false, newer, DossierRow(fresh, 2, T0)));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("-3", Code(body));
        Assert.Contains($"Hồ sơ {known} đã tồn tại", Message(body), StringComparison.Ordinal);
        var entry = Assert.Single(body.GetProperty("result").EnumerateArray());
        Assert.Equal(("0", known, "-3"), (entry.GetProperty("index").GetString(), entry.GetProperty("MaHoSo").GetString(), entry.GetProperty("error_code").GetString()));
        Assert.Equal(2, await StoredStatusAsync(known));
        Assert.Equal(2, await StoredStatusAsync(fresh));

        // The client switches to update, as real clients do on "đã tồn tại", and sends the same post again.
        var (updateStatus, update) = await PostAsync(Client, Envelope(session, Dossiers, Agency, true, newer, DossierRow(fresh, 2, T0)));

        Assert.Equal((HttpStatusCode.OK, "0"), (updateStatus, Code(update)));
        Assert.Equal(4, await StoredStatusAsync(known));
        Assert.Equal(2L, await ScalarAsync<long>(fixture.Db, "select count(*) from dossier_change where dossier_code = $1", known));
        Assert.Equal(1L, await ScalarAsync<long>(fixture.Db, "select count(*) from dossier_change where dossier_code = $1", fresh));
    }

    [Fact]
    public async Task Steps_are_stored_from_posts_to_the_service_path_and_a_resent_step_is_kept_once()
    {
        var (connector, session) = await ConnectAsync("steps");
        const string code = "H56.ST-251117-0001";
        var steps = new[] { StepRow(code, T0, 2, "Tiếp nhận hồ sơ"), StepRow(code, T0.AddHours(5), 4, "Thẩm định hồ sơ") };

        var first = await PostAsync(Client, Envelope(session, Steps, Agency, null, steps), $"/portal/{Steps}");
        var again = await PostAsync(Client, Envelope(session, null!, Agency, null, steps[1]), $"/portal/{Steps}");

        Assert.Equal((HttpStatusCode.OK, "0"), (first.Status, Code(first.Body)));
        Assert.Equal((HttpStatusCode.OK, "0"), (again.Status, Code(again.Body)));
        Assert.Equal(2L, await ScalarAsync<long>(fixture.Db, "select count(*) from dossier_step where source_system = $1 and native_id = $2", connector.SourceSystem, code));
        Assert.Equal("Thẩm định hồ sơ", await ScalarAsync<string>(fixture.Db, "select action from dossier_step where native_id = $1 and status_after = 4", code));
    }

    [Fact]
    public async Task An_unknown_service_is_refused_naming_it_and_the_services_the_hub_accepts()
    {
        var (_, session) = await ConnectAsync("unknown-service");

        var inBody = await PostAsync(Client, Envelope(session, "DongBoThanhToan", Agency, null, DossierRow("H56.US-251117-0001", 2, T0)));
        var inPath = await PostAsync(Client, Envelope(session, "DongBoThanhToan", Agency, null), "/portal/DongBoThanhToan");

        Assert.Equal((HttpStatusCode.BadRequest, "-4"), (inBody.Status, Code(inBody.Body)));
        Assert.Contains("'DongBoThanhToan'", Message(inBody.Body), StringComparison.Ordinal);
        Assert.Contains("DongBoHoSoMC, CapNhatTienDoHoSoMC", Message(inBody.Body), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.NotFound, "-4"), (inPath.Status, Code(inPath.Body)));
        Assert.True(await OutputShowsAsync(fixture.Hub, "connector unknown-service, service DongBoThanhToan): error_code -4"), fixture.Hub.Output);
    }

    [Fact]
    public async Task A_malformed_body_is_refused_saying_what_is_wrong_and_where()
    {
        var (_, session) = await ConnectAsync("malformed");

        var notJson = await PostRawAsync(Client, "{\"session\": \"" + session + "\", \"data\": [ {\"MaHoSo\": ");
        var shape = await PostRawAsync(Client, JsonSerializer.Serialize(new { session, service = Dossiers, isUpdating = "Maybe", data = new { MaHoSo = "x" } }));
        var duplicateKey = await PostRawAsync(Client, "{\"session\":\"" + session + "\",\"madonvi\":\"" + Agency + "\",\"service\":\"DongBoHoSoMC\",\"data\":[{\"MaHoSo\":\"A\",\"MaHoSo\":\"B\"}]}");

        Assert.All([notJson, shape, duplicateKey], r => Assert.Equal((HttpStatusCode.BadRequest, "-2"), (r.Status, Code(r.Body))));
        Assert.Contains("not valid JSON", Message(notJson.Body), StringComparison.Ordinal);
        Assert.Contains("madonvi is missing", Message(shape.Body), StringComparison.Ordinal);
        Assert.Contains("isUpdating must be \"True\" or \"False\"", Message(shape.Body), StringComparison.Ordinal);
        Assert.Contains("data is an object, not an array", Message(shape.Body), StringComparison.Ordinal);
        Assert.Contains("Duplicate property 'MaHoSo'", Message(duplicateKey.Body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_post_for_an_agency_the_connector_may_not_send_for_is_refused()
    {
        var (_, session) = await ConnectAsync("agency-limited", madonvi: ["000.00.00.H56"]);

        var other = await PostAsync(Client, Envelope(session, Dossiers, "000.00.00.H57", false, DossierRow("H57.AL-251117-0001", 2, T0)));
        var own = await PostAsync(Client, Envelope(session, Dossiers, "000.00.00.H56", false, DossierRow("H56.AL-251117-0001", 2, T0)));

        Assert.Equal((HttpStatusCode.Forbidden, "-5"), (other.Status, Code(other.Body)));
        Assert.Contains("'000.00.00.H57'", Message(other.Body), StringComparison.Ordinal);
        Assert.Null(await StoredStatusAsync("H57.AL-251117-0001"));
        Assert.Equal((HttpStatusCode.OK, "0"), (own.Status, Code(own.Body)));
    }

    [Fact]
    public async Task A_row_that_cannot_be_mapped_is_quarantined_with_its_reason_in_result_and_the_others_are_stored()
    {
        var (connector, session) = await ConnectAsync("quarantine");
        var bad = DossierRow("H56.QU-251117-0002", 99, T0);

        var (status, body) = await PostAsync(Client, Envelope(session, Dossiers, Agency, false,
            DossierRow("H56.QU-251117-0001", 2, T0), bad, DossierRow("H56.QU-251117-0003", 4, T0)));

        Assert.Equal((HttpStatusCode.OK, "0"), (status, Code(body)));
        Assert.StartsWith("Đồng bộ thành công", Message(body), StringComparison.Ordinal);
        Assert.Contains("1 of 3 row(s) were not accepted", Message(body), StringComparison.Ordinal);
        var entry = Assert.Single(body.GetProperty("result").EnumerateArray());
        Assert.Equal(("1", "H56.QU-251117-0002", "-6"), (entry.GetProperty("index").GetString(), entry.GetProperty("MaHoSo").GetString(), entry.GetProperty("error_code").GetString()));
        Assert.Contains("unmapped code 99 (Status at path 'TrangThaiHoSo')", entry.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, await StoredStatusAsync("H56.QU-251117-0001"));
        Assert.Equal(4, await StoredStatusAsync("H56.QU-251117-0003"));
        Assert.Null(await StoredStatusAsync("H56.QU-251117-0002"));
        Assert.StartsWith("unmapped code 99", await ScalarAsync<string>(fixture.Db, "select reason from quarantined_record where connector_id = $1", connector.Id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_NgayCapNhat_the_event_time_is_the_hubs_receive_time()
    {
        var (_, session) = await ConnectAsync("receive-time");
        const string code = "H56.RT-251117-0001";
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        var (status, body) = await PostAsync(Client, Envelope(session, Dossiers, Agency, false, DossierRow(code, 2, updatedAt: null)));

        var after = DateTimeOffset.UtcNow.AddSeconds(1);
        Assert.Equal((HttpStatusCode.OK, "0"), (status, Code(body)));
        var stored = await ScalarAsync<DateTime>(fixture.Db, "select event_time from dossier where dossier_code = $1", code);
        Assert.InRange(new DateTimeOffset(stored, TimeSpan.Zero), before, after);
    }

    [Fact]
    public async Task Personal_data_is_never_stored_in_the_hubs_tables_nor_logged()
    {
        var (connector, session) = await ConnectAsync("personal-data");
        const string owner = "Tran Thi Bimat Kiemtra", personalId = "079188004321";

        await PostAsync(Client, Envelope(session, Dossiers, Agency, false,
            DossierRow("H56.PD-251117-0001", 2, T0, owner, personalId),
            DossierRow("H56.PD-251117-0002", 99, T0, owner, personalId)));

        Assert.Equal(2, await StoredStatusAsync("H56.PD-251117-0001"));
        Assert.True(await OutputShowsAsync(fixture.Hub, "connector personal-data, service DongBoHoSoMC): 1 of 2 rows quarantined"), fixture.Hub.Output);
        foreach (var table in new[] { "dossier", "dossier_change", "dossier_step", "quarantined_record", "connector", "portal_session", "sync_run" })
        {
            Assert.Equal(0L, await ScalarAsync<long>(fixture.Db, $"select count(*) from {table} t where t::text like $1 or t::text like $2", $"%{owner}%", $"%{personalId}%"));
        }

        var payload = await ScalarAsync<string>(fixture.Db, "select payload from quarantined_record where connector_id = $1", connector.Id);
        Assert.DoesNotContain("ChuHoSo", payload, StringComparison.Ordinal);
        Assert.DoesNotContain("DinhDanhCHS", payload, StringComparison.Ordinal);
        Assert.Contains("\"_madonvi\":\"000.00.00.H56\"", payload, StringComparison.Ordinal);
        Assert.DoesNotContain(owner, fixture.Hub.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(personalId, fixture.Hub.Output, StringComparison.Ordinal);
    }
}
