using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors;
using Hub.Connectors.BuiltIn.NationalPortal;
using Hub.Connectors.BuiltIn.NationalPortal.Client;
using Hub.Contracts;
using Hub.Core.Mapping;
using Hub.Tests.Infrastructure;
using Hub.Worker.Subscribers;
using Hub.Worker.Sync;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using NJsonSchema;

namespace Hub.Tests.Portal;

/// <summary>
/// The national-portal-client subscriber kind against a strict fake portal on loopback (<see cref="FakeNationalPortal"/>):
/// real HTTP, the protocol's insert / "đã tồn tại" / update flow, steps in order and in chunks, sessions, faults, and the
/// exchanges reported for every request.
/// </summary>
public sealed class NationalPortalClientTests : IAsyncLifetime
{
    private const string Agency = "000.00.00.H56";
    private const string DstCode = "HUB-H56-01";
    private static readonly TimeSpan Vietnam = TimeSpan.FromHours(7);
    private static readonly DateTimeOffset T0 = new(2026, 11, 17, 1, 30, 40, TimeSpan.Zero);

    private FakeNationalPortal _portal = null!;

    public async Task InitializeAsync() => _portal = await FakeNationalPortal.StartAsync();

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task A_new_dossier_is_inserted_and_a_later_change_answered_already_exists_is_sent_again_as_an_update()
    {
        var code = "000.00.15.H56-261117-0001";
        var first = Change(code, NationalStatus.Received, T0);
        var second = first with
        {
            EventTime = T0.AddHours(2),
            Status = NationalStatus.Processing,
            DueAt = new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.Zero),
            HandlingUnit = "Phòng Tư pháp",
        };

        var one = await DeliverAsync([Status(first)]);
        var two = await DeliverAsync([Status(second)]);

        Assert.All(one.Outcomes.Values.Concat(two.Outcomes.Values), o => Assert.True(o.Delivered, o.Failure));
        Assert.Equal(["False", "False", "True"], _portal.Posts.Select(p => p.IsUpdating));
        Assert.Equal(["login", "DongBoHoSoMC", "login", "DongBoHoSoMC", "DongBoHoSoMC"], one.Exchanges.Concat(two.Exchanges).Select(e => e.Operation));
        Assert.False(two.Exchanges[1].Accepted);
        Assert.Contains("already exist", two.Exchanges[1].Reason, StringComparison.Ordinal);
        Assert.True(two.Exchanges[2].Accepted);

        // The portal holds the last change, every value in the protocol's string form.
        var stored = _portal.Dossier(code)!;
        Assert.Equal(2, _portal.DossierRows(code).Count);
        Assert.Equal(code, Value(stored, "MaHoSo"));
        Assert.Equal("4", Value(stored, "TrangThaiHoSo"));
        Assert.Equal("20261120170000", Value(stored, "NgayHenTra"));
        Assert.Equal("20261117103040", Value(stored, "NgayCapNhat"));
        Assert.Equal("20261117083040", Value(stored, "NgayTiepNhan"));
        Assert.Equal("20261117081522", Value(stored, "NgayNopHoSo"));
        Assert.Equal("", Value(stored, "NgayKetThucXuLy"));
        Assert.Equal("1.001612", Value(stored, "MaTTHC"));
        Assert.Equal("Đăng ký thành lập hộ kinh doanh", Value(stored, "TenTTHC"));
        Assert.Equal("G15-KH01", Value(stored, "MaLinhVuc"));
        Assert.Equal("Phòng Tư pháp", Value(stored, "DonViXuLy"));
        Assert.Equal("2", Value(stored, "KenhThucHien"));
        Assert.Equal("1", Value(stored, "LoaiDoiTuong"));
        Assert.Equal("1", Value(stored, "DuocThanhToanTrucTuyen"));
        Assert.Equal("", Value(stored, "ChuHoSo"));
        Assert.False(stored.ContainsKey("DinhDanhCHS"));
        foreach (var post in _portal.Posts)
        {
            AssertEveryValueIsAString(post.Body);
            Assert.Equal(DstCode, post.DstCode);
        }
    }

    [Fact]
    public async Task Steps_go_out_after_their_dossier_in_step_time_order_and_in_chunks_of_chunkSize()
    {
        var code = "000.00.15.H56-261117-0002";
        var change = Status(Change(code, NationalStatus.Processing, T0));
        int[] minutes = [50, 10, 70, 30, 20, 60, 40];
        var steps = minutes.Select(m => Step(code, T0.AddMinutes(m), $"Bước {m}")).ToList();

        var report = await DeliverAsync([.. steps.Take(3), change, .. steps.Skip(3)], chunkSize: 3);

        Assert.All(report.Outcomes.Values, o => Assert.True(o.Delivered, o.Failure));
        Assert.Equal(8, report.Outcomes.Count);
        var posts = _portal.Posts;
        Assert.Equal(["DongBoHoSoMC", "CapNhatTienDoHoSoMC", "CapNhatTienDoHoSoMC", "CapNhatTienDoHoSoMC"], posts.Select(p => p.Service));
        Assert.Equal([1, 3, 3, 1], posts.Select(p => p.Rows.Count));
        var expected = minutes.Order().Select(m => OutboundRows.Date(T0.AddMinutes(m))).ToList();
        Assert.Equal(expected, posts.Skip(1).SelectMany(p => p.Rows).Select(r => Value(r, "ThoiDiemXuLy")));
        Assert.Equal(expected, _portal.Steps(code).Select(r => Value(r, "ThoiDiemXuLy")));
        Assert.Equal(minutes.Order().Select(m => $"Bước {m}"), _portal.Steps(code).Select(r => Value(r, "NoiDungXuLy")));
        Assert.All(posts, p => AssertEveryValueIsAString(p.Body));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("\"0\"")]
    [InlineData("\"00\"")]
    public async Task Success_replies_with_error_code_0_as_a_number_or_0_or_00_as_a_string_are_success(string successCode)
    {
        _portal.SuccessCode = JsonNode.Parse(successCode)!;
        var code = "000.00.15.H56-261117-0003";

        var report = await DeliverAsync([Status(Change(code, NationalStatus.Received, T0)), Step(code, T0, "Tiếp nhận hồ sơ")]);

        Assert.All(report.Outcomes.Values, o => Assert.True(o.Delivered, o.Failure));
        Assert.All(report.Exchanges, e => Assert.True(e.Accepted, e.Reason));
        Assert.All(report.Exchanges.Skip(1), e => Assert.Contains($"\"error_code\":{successCode}", Encoding.UTF8.GetString(e.Reply.Span), StringComparison.Ordinal));
        Assert.Single(_portal.Steps(code));
    }

    [Fact]
    public async Task An_expired_session_is_renewed_once_and_the_post_sent_again()
    {
        _portal.PostsPerSession = 1;
        var code = "000.00.15.H56-261117-0004";

        var report = await DeliverAsync([Status(Change(code, NationalStatus.Received, T0)), Step(code, T0, "Tiếp nhận"), Step(code, T0.AddHours(1), "Thẩm định")]);

        Assert.All(report.Outcomes.Values, o => Assert.True(o.Delivered, o.Failure));
        Assert.Equal(2, _portal.LoginCount);
        Assert.Equal(["login", "DongBoHoSoMC", "CapNhatTienDoHoSoMC", "login", "CapNhatTienDoHoSoMC"], report.Exchanges.Select(e => e.Operation));
        Assert.Equal([true, true, false, true, true], report.Exchanges.Select(e => e.Accepted));
        Assert.Equal(401, report.Exchanges[2].StatusCode);
        Assert.Contains("session", report.Exchanges[2].Reason, StringComparison.Ordinal);
        Assert.Equal(2, _portal.Steps(code).Count);
    }

    [Fact]
    public async Task A_session_that_stays_refused_after_a_new_login_fails_the_rest_of_the_batch_retryable()
    {
        _portal.PostsPerSession = 0;
        var code = "000.00.15.H56-261117-0005";

        var report = await DeliverAsync([Status(Change(code, NationalStatus.Received, T0)), Step(code, T0, "Tiếp nhận")]);

        Assert.All(report.Outcomes.Values, o => Assert.True(o is { Delivered: false, Retryable: true }));
        Assert.Equal(["login", "DongBoHoSoMC", "login", "DongBoHoSoMC"], report.Exchanges.Select(e => e.Operation));
        Assert.Equal(2, _portal.Posts.Count);
    }

    [Fact]
    public async Task Wrong_credentials_fail_every_event_retryable_naming_the_login_and_the_password_is_never_kept()
    {
        const string wrong = "wrong-Password-3c9e";
        var code = "000.00.15.H56-261117-0006";
        var events = new[] { Status(Change(code, NationalStatus.Received, T0)), Step(code, T0, "Tiếp nhận") };

        var report = await DeliverAsync(events, password: wrong);

        Assert.Equal(events.Select(e => e.EventId).Order(), report.Outcomes.Keys.Order());
        Assert.All(report.Outcomes.Values, o =>
        {
            Assert.False(o.Delivered);
            Assert.True(o.Retryable);
            Assert.Contains($"login to {_portal.BaseUrl}api/login as '{FakeNationalPortal.Username}' failed: HTTP 401, error_code -1", o.Failure, StringComparison.Ordinal);
        });
        var login = Assert.Single(report.Exchanges);
        Assert.Equal(NationalPortalSink.LoginOperation, login.Operation);
        Assert.Equal("credentials", login.RequestWithheld);
        Assert.True(login.Request.IsEmpty);
        Assert.False(login.Accepted);
        Assert.Equal(401, login.StatusCode);
        Assert.Empty(_portal.Posts);
        Assert.Contains(wrong, Encoding.UTF8.GetString(Assert.Single(_portal.Requests).Body), StringComparison.Ordinal);
        AssertNoSecret(report, wrong);
    }

    [Fact]
    public async Task The_password_is_in_no_exchange_and_no_reason_of_a_delivery()
    {
        var code = "000.00.15.H56-261117-0007";
        await DeliverAsync([Status(Change(code, NationalStatus.Received, T0))]);

        var report = await DeliverAsync([Status(Change(code, NationalStatus.Processing, T0.AddHours(1))), Step(code, T0, "x")]);

        Assert.Equal(2, _portal.LoginCount);
        Assert.Contains(FakeNationalPortal.Password, Encoding.UTF8.GetString(_portal.Requests[0].Body), StringComparison.Ordinal);
        AssertNoSecret(report, FakeNationalPortal.Password);
    }

    [Fact]
    public async Task A_503_fails_the_batch_retryable_without_sending_the_rest_and_the_retry_delivers_it()
    {
        _portal.FailNextPosts(1, 503);
        var a = "000.00.15.H56-261117-0008";
        var b = "000.00.15.H56-261117-0009";
        OutboundEvent[] events = [Status(Change(a, NationalStatus.Received, T0)), Status(Change(b, NationalStatus.Received, T0)), Step(a, T0, "Tiếp nhận")];

        var failed = await DeliverAsync(events, chunkSize: 1);

        Assert.All(failed.Outcomes.Values, o => Assert.True(o is { Delivered: false, Retryable: true }));
        Assert.Equal(3, failed.Outcomes.Count);
        Assert.Equal(
            $"DongBoHoSoMC insert of dossier {a} to {_portal.BaseUrl}api/sync failed: HTTP 503 with a reply that is not a JSON object (19 bytes)",
            failed.Outcomes[events[0].EventId].Failure);
        Assert.Contains($"DongBoHoSoMC insert of dossier {b} not sent:", failed.Outcomes[events[1].EventId].Failure, StringComparison.Ordinal);
        Assert.Contains("HTTP 503", failed.Outcomes[events[1].EventId].Failure, StringComparison.Ordinal);
        Assert.Contains($"CapNhatTienDoHoSoMC of dossier {a} not sent", failed.Outcomes[events[2].EventId].Failure, StringComparison.Ordinal);
        Assert.Single(_portal.Posts);
        Assert.Equal(503, failed.Exchanges[^1].StatusCode);
        Assert.False(failed.Exchanges[^1].Accepted);

        var retried = await DeliverAsync(events, chunkSize: 1);

        Assert.All(retried.Outcomes.Values, o => Assert.True(o.Delivered, o.Failure));
        Assert.NotNull(_portal.Dossier(a));
        Assert.NotNull(_portal.Dossier(b));
        Assert.Single(_portal.Steps(a));
    }

    [Fact]
    public async Task A_connection_refused_fails_every_event_retryable()
    {
        // A port that was free a moment ago: nothing listens on it.
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var closed = new Uri($"http://127.0.0.1:{port}/");
        var code = "000.00.15.H56-261117-0010";

        var report = await DeliverAsync([Status(Change(code, NationalStatus.Received, T0))], baseUrl: closed);

        var outcome = Assert.Single(report.Outcomes.Values);
        Assert.True(outcome is { Delivered: false, Retryable: true });
        Assert.Contains($"login to {closed}api/login", outcome.Failure, StringComparison.Ordinal);
        Assert.Contains("no reply", outcome.Failure, StringComparison.Ordinal);
        Assert.Null(Assert.Single(report.Exchanges).StatusCode);
    }

    [Fact]
    public async Task A_row_refused_as_malformed_fails_not_retryable_its_steps_are_not_sent_and_the_other_rows_are_delivered()
    {
        var good = "000.00.15.H56-261117-0011";
        var bad = "000.00.15.H56-261117-0012";
        OutboundEvent[] events =
        [
            Status(Change(good, NationalStatus.Received, T0)),
            Status(Change(bad, NationalStatus.Received, T0) with { ProcedureCode = null, ProcedureBaseCode = null }),
            Step(good, T0, "Tiếp nhận"),
            Step(bad, T0, "Tiếp nhận"),
        ];

        var report = await DeliverAsync(events);

        Assert.True(report.Outcomes[events[0].EventId].Delivered);
        Assert.True(report.Outcomes[events[2].EventId].Delivered);
        var refused = report.Outcomes[events[1].EventId];
        Assert.False(refused.Delivered);
        Assert.False(refused.Retryable);
        Assert.Contains($"DongBoHoSoMC insert of dossier {bad} refused: HTTP 200, error_code -2:", refused.Failure, StringComparison.Ordinal);
        Assert.Contains("MaTTHC", refused.Failure, StringComparison.Ordinal);
        var step = report.Outcomes[events[3].EventId];
        Assert.True(step is { Delivered: false, Retryable: true });
        Assert.Contains($"CapNhatTienDoHoSoMC of dossier {bad} not sent", step.Failure, StringComparison.Ordinal);
        Assert.Null(_portal.Dossier(bad));
        Assert.Empty(_portal.Steps(bad));
        Assert.Single(_portal.Steps(good));
        Assert.Equal([1], _portal.Posts.Where(p => p.Service == "CapNhatTienDoHoSoMC").Select(p => p.Rows.Count));
        Assert.False(report.Exchanges[1].Accepted);
        Assert.Contains("1 of 2 row(s) refused", report.Exchanges[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_request_is_reported_as_an_exchange_with_its_exact_bytes_and_whether_it_was_accepted()
    {
        var code = "000.00.15.H56-261117-0013";
        await DeliverAsync([Status(Change(code, NationalStatus.Received, T0))]);
        var before = _portal.Requests.Count;

        var report = await DeliverAsync([Status(Change(code, NationalStatus.Processing, T0.AddHours(1))), Step(code, T0, "Tiếp nhận"), Step(code, T0.AddHours(1), "Thẩm định")]);

        var requests = _portal.Requests.Skip(before).ToList();
        Assert.Equal(requests.Count, report.Exchanges.Count);
        Assert.Equal(["login", "DongBoHoSoMC", "DongBoHoSoMC", "CapNhatTienDoHoSoMC"], report.Exchanges.Select(e => e.Operation));
        Assert.Equal([true, false, true, true], report.Exchanges.Select(e => e.Accepted));
        foreach (var (exchange, request) in report.Exchanges.Zip(requests))
        {
            Assert.Equal(request.Status, exchange.StatusCode);
            Assert.Equal(request.Reply, exchange.Reply.ToArray());
            Assert.Equal("application/json; charset=utf-8", exchange.ContentType);
            if (exchange.Operation == "login")
            {
                Assert.Equal("credentials", exchange.RequestWithheld);
                Assert.True(exchange.Request.IsEmpty);
                Assert.Empty(exchange.EventIds);
            }
            else
            {
                Assert.Null(exchange.RequestWithheld);
                Assert.Equal(request.Body, exchange.Request.ToArray());
                Assert.Equal([code], exchange.Dossiers);
            }
        }

        var status = report.Outcomes.Keys.First(id => report.Exchanges[1].EventIds.Contains(id));
        Assert.Equal([status], report.Exchanges[2].EventIds);
        Assert.Equal(2, report.Exchanges[3].EventIds.Count);
    }

    [Fact]
    public async Task A_whole_post_already_exists_without_row_results_is_resolved_row_by_row()
    {
        _portal.PerRowResults = false;
        var held = "000.00.15.H56-261117-0014";
        var fresh = "000.00.15.H56-261117-0015";
        await DeliverAsync([Status(Change(held, NationalStatus.Received, T0))]);

        var report = await DeliverAsync([Status(Change(held, NationalStatus.Resolved, T0.AddDays(1))), Status(Change(fresh, NationalStatus.Received, T0))]);

        Assert.All(report.Outcomes.Values, o => Assert.True(o.Delivered, o.Failure));
        Assert.Equal(["False", "False", "False", "True"], _portal.Posts.Select(p => p.IsUpdating));
        Assert.Equal([[held], [held, fresh], [fresh], [held]], _portal.Posts.Select(p => p.Rows.Select(r => Value(r, "MaHoSo")).ToArray()));
        Assert.Equal("9", Value(_portal.Dossier(held)!, "TrangThaiHoSo"));
        Assert.Single(_portal.DossierRows(fresh));
    }

    [Fact]
    public async Task Of_two_changes_of_a_dossier_in_one_batch_only_the_latest_is_sent_and_both_are_delivered()
    {
        var code = "000.00.15.H56-261117-0016";
        var later = Status(Change(code, NationalStatus.Processing, T0.AddHours(1)));
        var earlier = Status(Change(code, NationalStatus.Received, T0));

        var report = await DeliverAsync([later, earlier]);

        Assert.True(report.Outcomes[later.EventId].Delivered);
        Assert.True(report.Outcomes[earlier.EventId].Delivered);
        var post = Assert.Single(_portal.Posts);
        Assert.Equal("4", Value(Assert.Single(post.Rows), "TrangThaiHoSo"));
        Assert.Equal([later.EventId], report.Exchanges[1].EventIds);
    }

    [Fact]
    public async Task The_fake_portal_refuses_values_that_are_not_strings()
    {
        using var http = new HttpClient { BaseAddress = _portal.BaseUrl };
        using var login = await http.PostAsync("api/login", Json($$"""{"username":"{{FakeNationalPortal.Username}}","password":"{{FakeNationalPortal.Password}}"}"""));
        var session = JsonNode.Parse(await login.Content.ReadAsStringAsync())!["session"]!.GetValue<string>();
        var row = """{"MaHoSo":"X-1","MaTTHC":"1.001612","TrangThaiHoSo":"2"}""";

        async Task<(HttpStatusCode, string)> PostAsync(string isUpdating, string data)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/sync")
            {
                Content = Json($$"""{"session":"{{session}}","madonvi":"H56","service":"DongBoHoSoMC","isUpdating":{{isUpdating}},"data":[{{data}}]}"""),
            };
            request.Headers.Add("dstcode", DstCode);
            using var response = await http.SendAsync(request);
            return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error_code"]!.ToJsonString());
        }

        Assert.Equal((HttpStatusCode.BadRequest, "\"-2\""), await PostAsync("true", row));
        Assert.Equal((HttpStatusCode.BadRequest, "\"-2\""), await PostAsync("\"False\"", """{"MaHoSo":"X-1","MaTTHC":"1.001612","TrangThaiHoSo":2}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "\"-2\""), await PostAsync("\"False\"", """{"MaHoSo":"X-1","MaTTHC":"1.001612","TrangThaiHoSo":"2","NgayHenTra":20261120170000}"""));
        Assert.Null(_portal.Dossier("X-1"));
        Assert.Equal((HttpStatusCode.OK, "\"0\""), await PostAsync("\"False\"", row));
        Assert.Equal((HttpStatusCode.OK, "\"-3\""), await PostAsync("\"False\"", row));
        Assert.Equal((HttpStatusCode.OK, "\"-7\""), await PostAsync("\"True\"", """{"MaHoSo":"X-2","MaTTHC":"1.001612","TrangThaiHoSo":"2"}"""));
    }

    [Theory]
    [InlineData("""{"error_code":0,"message":"x"}""", true, false, false)]
    [InlineData("""{"error_code":"00","message":"x"}""", true, false, false)]
    [InlineData("""{"message":"Đồng bộ THÀNH CÔNG"}""", true, false, false)]
    [InlineData("""{"message":"Dong bo thanh cong"}""", false, false, false)]
    [InlineData("""{"error_code":"-3","message":"Đồng bộ thành công một phần"}""", false, true, false)]
    [InlineData("""{"error_code":"7","message":"Hồ sơ A-1 Đã Tồn Tại"}""", false, true, false)]
    [InlineData("""{"error_code":-1,"message":"Sai mật khẩu"}""", false, false, true)]
    [InlineData("""{"error_code":"99","message":"Phiên đăng nhập đã hết hạn"}""", false, false, true)]
    [InlineData("""{"error_code":"99","message":"Session is invalid"}""", false, false, true)]
    [InlineData("""{"error_code":"1","message":"Lỗi hệ thống"}""", false, false, false)]
    public void Replies_are_read_as_the_portals_clients_read_them(string reply, bool success, bool alreadyExists, bool authFailure)
    {
        var read = PortalReply.Read(Encoding.UTF8.GetBytes(reply))!;

        Assert.Equal((success, alreadyExists, authFailure), (read.IsSuccess, read.SaysAlreadyExists, read.IsAuthenticationFailure));
    }

    [Fact]
    public void A_reply_gives_its_session_at_the_top_or_in_result_and_its_row_entries_by_index_or_code()
    {
        var top = PortalReply.Read("""{"error_code":0,"session":"s-1"}"""u8)!;
        var nested = PortalReply.Read("""{"error_code":"0","result":{"session":"s-2"}}"""u8)!;
        var rows = PortalReply.Read("""{"error_code":"-3","result":[{"index":"1","MaHoSo":"A","error_code":"-3","message":"Hồ sơ A đã tồn tại"},{"MaHoSo":"B","error_code":0}]}"""u8)!;

        Assert.Equal("s-1", top.Session);
        Assert.Equal("s-2", nested.Session);
        Assert.Equal([new PortalRowResult(1, "A", "-3", "Hồ sơ A đã tồn tại"), new PortalRowResult(null, "B", "0", "")], rows.Rows);
        Assert.True(rows.Rows[0].SaysAlreadyExists);
        Assert.True(rows.Rows[1].IsSuccess);
        Assert.Null(PortalReply.Read("<html>Maintenance</html>"u8));
        Assert.Null(PortalReply.Read("[1]"u8));
    }

    [Fact]
    public void A_dossier_row_read_back_by_the_hubs_own_portal_adapter_and_mapping_gives_the_same_change()
    {
        var change = Change("000.00.15.H56-261117-0017", NationalStatus.ResultReturned, T0.AddDays(3).AddTicks(1234)) with
        {
            ProcessingFinishedAt = T0.AddDays(2),
            ResultReturnedAt = T0.AddDays(3),
            ApplicantType = ApplicantType.Business,
            Channel = Channel.Postal,
            PaidOnline = false,
        };
        var step = new DossierStep
        {
            SourceSystem = "h56", NativeId = change.DossierCode, StepTime = T0.AddHours(5), Officer = "Lê Văn Tâm", OfficerTitle = "Chuyên viên",
            Department = "Bộ phận Một cửa", Action = "Trả kết quả", StatusAfter = NationalStatus.ResultReturned, StartedAt = T0.AddHours(4), Deadline = T0.AddDays(3),
        };

        var row = NationalPortalReceiver.DossierRow(Row(OutboundRows.Dossier(change)), "000.00.15.H56", DateTimeOffset.UnixEpoch, 0);
        var mapped = NationalPortalMapping.Mapper.Map(new RawRecord(RawRecordKind.Dossier, row), "h56").Change!;
        var mappedStep = Assert.Single(NationalPortalMapping.Mapper.Map(new RawRecord(RawRecordKind.Step, Row(OutboundRows.Step(change.DossierCode, step))), "h56").Steps);

        var wholeSeconds = change.EventTime.AddTicks(-(change.EventTime.Ticks % TimeSpan.TicksPerSecond));
        Assert.Equal(
            change with { EventTime = wholeSeconds, ProcedureCode = "1.001612", MappingVersion = mapped.MappingVersion, SourceStatus = "10", NativeId = change.DossierCode },
            mapped with { SourceSystem = change.SourceSystem });
        Assert.Equal(step, mappedStep);
    }

    [Fact]
    public async Task The_kind_is_registered_as_a_subscriber_kind_and_its_schema_marks_the_password_secret()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.AddHubSubscribers();
        using var services = builder.Services.BuildServiceProvider();

        var kind = Assert.IsType<NationalPortalClientKind>(Assert.Single(services.GetServices<IConnectorKind>(), k => k.Name == "national-portal-client"));
        Assert.True(((ISubscriberConnectorKind)kind).LatestStateOnly);
        Assert.Equal("subscribe", ConnectorKinds.Direction(kind));
        var schema = await JsonSchema.FromJsonAsync(kind.ConfigurationSchema);
        Assert.True(JsonNode.Parse(kind.ConfigurationSchema)!["properties"]!["password"]!["x-secret"]!.GetValue<bool>());
        Assert.Empty(schema.Validate(Config(_portal.BaseUrl, 50, "p").GetRawText()));
        Assert.NotEmpty(schema.Validate("""{"baseUrl":"http://x","username":"u","password":"p","madonvi":"H56","dstcode":"d","chunkSize":501}"""));
    }

    [Fact]
    public void A_connector_registration_with_a_subscriber_kind_is_refused_on_its_kind()
    {
        var validation = new ConnectorValidation(new ConnectorKinds([new Hub.Connectors.BuiltIn.NationalPortalConnectorKind(), new NationalPortalClientKind()]));
        var registration = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoRoot.Path, "src", "Hub.Simulator", "Connectors", "national-portal.connector.json"))
            .Replace("{{sourceSystem}}", "h56-sub", StringComparison.Ordinal))!.AsObject();
        registration["kind"] = "national-portal-client";
        registration["configuration"] = JsonNode.Parse(Config(_portal.BaseUrl, 50, "p").GetRawText());

        var errors = validation.Validate(JsonSerializer.SerializeToElement(registration), out var valid);

        Assert.Null(valid);
        var error = Assert.Single(errors);
        Assert.Equal("kind", error.Field);
        Assert.Contains("subscriber kind", error.Problem, StringComparison.Ordinal);
        Assert.Equal("one of: national-portal", error.Expected);
    }

    [Fact]
    public void A_subscription_with_the_kind_is_validated_against_its_schema_and_its_own_checks()
    {
        var kinds = new ConnectorKinds([new NationalPortalClientKind()]);
        var validation = new SubscriptionValidation(kinds, new ConnectorValidation(kinds));
        JsonObject Subscription(Action<JsonObject> change)
        {
            var configuration = JsonNode.Parse(Config(_portal.BaseUrl, 50, "p").GetRawText())!.AsObject();
            change(configuration);
            return new JsonObject { ["id"] = "portal-h56", ["kind"] = "national-portal-client", ["displayName"] = "Portal", ["configuration"] = configuration };
        }

        Assert.Empty(validation.Validate(JsonSerializer.SerializeToElement(Subscription(_ => { })), out var registration));
        Assert.Equal("national-portal-client", registration!.Kind);
        Assert.Equal(["configuration.dstcode"], validation.Validate(JsonSerializer.SerializeToElement(Subscription(c => c.Remove("dstcode"))), out _).Select(e => e.Field));
        Assert.Equal(["configuration.chunkSize"], validation.Validate(JsonSerializer.SerializeToElement(Subscription(c => c["chunkSize"] = 0)), out _).Select(e => e.Field));
        var baseUrl = Assert.Single(validation.Validate(JsonSerializer.SerializeToElement(Subscription(c => c["baseUrl"] = "ftp://portal.example")), out _));
        Assert.Equal(("configuration.baseUrl", "must be an absolute http or https URL"), (baseUrl.Field, baseUrl.Problem));
    }

    [Fact]
    public void CheckConfiguration_names_each_bad_setting_by_path_and_never_the_password()
    {
        var kind = new NationalPortalClientKind();
        const string secret = "s3cret-Value-9";

        Assert.Empty(kind.CheckConfiguration(Config(_portal.BaseUrl, 50, secret)));
        Assert.Equal(
            [
                "baseUrl: must be an absolute http or https URL",
                "loginPath: must be a path starting with a single '/', without spaces, query or fragment",
                "syncPath: must be a path starting with a single '/', without spaces, query or fragment; '{service}' is the only placeholder",
                "chunkSize: must be a whole number from 1 to 500",
            ],
            kind.CheckConfiguration(JsonSerializer.SerializeToElement(new
            {
                baseUrl = "ftp://portal.example/",
                loginPath = "api/login",
                syncPath = "/api/sync?x=1",
                username = "u",
                password = secret,
                madonvi = Agency,
                dstcode = DstCode,
                chunkSize = 0,
            })));
        Assert.Equal(["baseUrl: must be an absolute http or https URL"], Problems(c => c["baseUrl"] = "portal.example/api"));
        Assert.Equal(["baseUrl: must have no query, fragment or user information"], Problems(c => c["baseUrl"] = "https://portal.example/?a=1"));
        Assert.Equal(["chunkSize: must be a whole number from 1 to 500"], Problems(c => c["chunkSize"] = 501));
        Assert.Equal(["chunkSize: must be a whole number from 1 to 500"], Problems(c => c["chunkSize"] = 2.5));
        Assert.Equal(["password: is required"], Problems(c => c.Remove("password")));
        Assert.Equal(["madonvi: must not start or end with a space"], Problems(c => c["madonvi"] = " H56"));
        Assert.Equal(["loginPath: must not contain '{service}': the login names no service"], Problems(c => c["loginPath"] = "/{service}/login"));
        Assert.Empty(Problems(c => c["syncPath"] = "/portal/{service}"));
        var problems = Problems(c => c["extra"] = secret);
        Assert.Single(problems);
        Assert.DoesNotContain(secret, string.Join("\n", problems), StringComparison.Ordinal);
        var thrown = Assert.Throws<ConnectorException>(() => kind.CreateSink(new SubscriberContext(
            "s", JsonSerializer.SerializeToElement(new { baseUrl = "nope", password = secret }), new HttpClient(), NullLogger.Instance, TimeProvider.System)));
        Assert.Equal(FailureSide.Configuration, thrown.Side);
        Assert.DoesNotContain(secret, thrown.Message, StringComparison.Ordinal);

        IReadOnlyList<string> Problems(Action<JsonObject> change)
        {
            var config = JsonNode.Parse(Config(_portal.BaseUrl, 50, secret).GetRawText())!.AsObject();
            change(config);
            return kind.CheckConfiguration(JsonSerializer.SerializeToElement(config));
        }
    }

    [Fact]
    public async Task A_sync_path_with_the_service_placeholder_posts_each_service_to_its_own_path()
    {
        var code = "000.00.15.H56-261117-0018";
        var config = JsonNode.Parse(Config(_portal.BaseUrl, 50, FakeNationalPortal.Password).GetRawText())!.AsObject();
        config["syncPath"] = "/api/{service}";

        var report = await DeliverAsync([Status(Change(code, NationalStatus.Received, T0))], configuration: JsonSerializer.SerializeToElement(config));

        // The fake serves only /api/sync: the post went to /api/DongBoHoSoMC, which answers 404 (no JSON).
        var outcome = Assert.Single(report.Outcomes.Values);
        Assert.False(outcome.Delivered);
        Assert.Contains($"to {_portal.BaseUrl}api/DongBoHoSoMC failed: HTTP 404", outcome.Failure, StringComparison.Ordinal);
        Assert.DoesNotContain(_portal.Requests, r => r.Path == FakeNationalPortal.SyncPath);
    }

    private static JsonElement Config(Uri baseUrl, int chunkSize, string password) => JsonSerializer.SerializeToElement(new
    {
        baseUrl = baseUrl.ToString(),
        loginPath = FakeNationalPortal.LoginPath,
        syncPath = FakeNationalPortal.SyncPath,
        username = FakeNationalPortal.Username,
        password,
        madonvi = Agency,
        dstcode = DstCode,
        chunkSize,
    });

    private async Task<DeliveryReport> DeliverAsync(
        IReadOnlyList<OutboundEvent> events, int chunkSize = 50, string password = FakeNationalPortal.Password, Uri? baseUrl = null, JsonElement? configuration = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var context = new SubscriberContext(
            "portal-sub", configuration ?? Config(baseUrl ?? _portal.BaseUrl, chunkSize, password), http, NullLogger.Instance, TimeProvider.System);
        await using var sink = new NationalPortalClientKind().CreateSink(context);
        var report = await sink.DeliverAsync(events, CancellationToken.None);
        Assert.Equal(events.Select(e => e.EventId).Order(), report.Outcomes.Keys.Order());
        return report;
    }

    private static DossierChange Change(string code, NationalStatus status, DateTimeOffset eventTime) => new()
    {
        SourceSystem = "h56",
        NativeId = "native-" + code,
        DossierCode = code,
        EventTime = eventTime,
        Status = status,
        ProcedureCode = "1.001612.000.00.00.H56",
        ProcedureBaseCode = "1.001612",
        ProcedureName = "Đăng ký thành lập hộ kinh doanh",
        SectorCode = "G15-KH01",
        AgencyCode = "000.00.15.H56",
        HandlingUnit = "Phòng Tài chính - Kế hoạch",
        ApplicantType = ApplicantType.Citizen,
        Channel = Channel.Online,
        PaidOnline = true,
        SubmittedAt = new DateTimeOffset(2026, 11, 17, 8, 15, 22, Vietnam),
        ReceivedAt = new DateTimeOffset(2026, 11, 17, 8, 30, 40, Vietnam),
        DueAt = new DateTimeOffset(2026, 11, 19, 17, 0, 0, Vietnam),
    };

    private static OutboundEvent Status(DossierChange change)
    {
        var id = Guid.NewGuid();
        return new OutboundEvent(id, new DossierStatusChanged { EventId = id, Change = change, Current = true, StoredAt = change.EventTime.AddSeconds(1) }, 1);
    }

    private static OutboundEvent Step(string code, DateTimeOffset time, string action)
    {
        var id = Guid.NewGuid();
        var step = new DossierStep
        {
            SourceSystem = "h56", NativeId = "native-" + code, StepTime = time, Officer = "Trần Quốc Bảo", OfficerTitle = "Chuyên viên",
            Department = "Phòng Tài chính - Kế hoạch", Action = action, StatusAfter = NationalStatus.Processing, StartedAt = time, Deadline = time.AddDays(2),
        };
        return new OutboundEvent(id, new DossierStepAdded { EventId = id, DossierCode = code, Step = step, StoredAt = time }, 1);
    }

    private static JsonElement Row(IReadOnlyList<KeyValuePair<string, string>> fields) =>
        JsonSerializer.SerializeToElement(fields.ToDictionary(f => f.Key, f => f.Value));

    private static string? Value(JsonObject row, string name) => row[name]?.GetValue<string>();

    private static StringContent Json(string json) => new(json, new MediaTypeHeaderValue("application/json"));

    private static void AssertEveryValueIsAString(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Name == "data")
            {
                Assert.NotEmpty(property.Value.EnumerateArray());
                foreach (var value in property.Value.EnumerateArray().SelectMany(r => r.EnumerateObject()))
                {
                    Assert.True(value.Value.ValueKind == JsonValueKind.String, $"{value.Name} is {value.Value.ValueKind}");
                }
            }
            else
            {
                Assert.True(property.Value.ValueKind == JsonValueKind.String, $"{property.Name} is {property.Value.ValueKind}");
            }
        }
    }

    private static void AssertNoSecret(DeliveryReport report, string secret)
    {
        foreach (var exchange in report.Exchanges)
        {
            Assert.DoesNotContain(secret, Encoding.UTF8.GetString(exchange.Request.Span), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, Encoding.UTF8.GetString(exchange.Reply.Span), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, exchange.Reason ?? "", StringComparison.Ordinal);
        }

        Assert.All(report.Outcomes.Values, o => Assert.DoesNotContain(secret, o.Failure ?? "", StringComparison.Ordinal));
    }
}
