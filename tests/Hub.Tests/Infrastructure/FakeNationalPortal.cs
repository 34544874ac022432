using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hub.Tests.Infrastructure;

/// <summary>
/// A national public-service portal on loopback (Kestrel) that speaks the sync protocol strictly, for the
/// national-portal-client tests: <c>POST /api/login</c> gives a session; <c>POST /api/sync</c> takes
/// <c>{session, madonvi, service, isUpdating, data}</c> with a <c>dstcode</c> header, every value a string
/// (anything else: HTTP 400, <c>-2</c>). <c>DongBoHoSoMC</c> does not upsert: an insert of a held dossier is
/// <c>-3 "Hồ sơ X đã tồn tại"</c>, an update (<c>isUpdating</c> "True") of an unknown one <c>-7</c>.
/// <c>CapNhatTienDoHoSoMC</c> appends steps of held dossiers in arrival order.
/// </summary>
/// <remarks>
/// Rows are checked (<c>MaHoSo</c>, <c>MaTTHC</c> required; statuses 1-10; dates <c>yyyyMMddHHmmss</c>); a bad one is
/// <c>-2</c>. With <see cref="PerRowResults"/> (the default) each refused row is listed in <c>result</c> and the others are
/// applied; without, one refused row refuses the whole post and <c>result</c> is empty. Every request and its reply is
/// recorded in <see cref="Requests"/>.
/// </remarks>
public sealed class FakeNationalPortal : IAsyncDisposable
{
    public const string Username = "hub_lienthong";
    public const string Password = "Pw-7f3c9e2a-never-in-logs";
    public const string LoginPath = "/api/login";
    public const string SyncPath = "/api/sync";

    private static readonly JsonSerializerOptions ReplyOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly string[] ListFields = ["DinhDanhCHS", "TaiLieuNop", "DanhSachLePhi", "DanhSachHoSoBoSung", "DanhSachGiayToKetQua"];
    private static readonly string[] DateFields =
        ["NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayTra", "NgayKetThucXuLy", "NgayTuChoi", "NgayCapNhat", "ThoiDiemXuLy", "NgayBatDau", "NgayKetThucTheoQuyDinh"];

    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _sessions = new(StringComparer.Ordinal);
    private readonly List<PortalRequest> _requests = [];
    private readonly Dictionary<string, List<JsonObject>> _dossiers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<JsonObject>> _steps = new(StringComparer.Ordinal);
    private WebApplication _app = null!;
    private int _failures;
    private int _failureStatus;

    private FakeNationalPortal()
    {
    }

    /// <summary>The portal's root, such as <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The <c>error_code</c> of a successful post: <c>0</c>, <c>"0"</c> or <c>"00"</c>.</summary>
    public JsonNode SuccessCode { get; set; } = JsonValue.Create("0");

    /// <summary>Whether refused rows are listed in <c>result</c> (others applied) or refuse the whole post.</summary>
    public bool PerRowResults { get; set; } = true;

    /// <summary>How many sync posts a session may make before it expires; <c>null</c>: no limit.</summary>
    public int? PostsPerSession { get; set; }

    public int LoginCount { get; private set; }

    /// <summary>Every request, logins included, in arrival order.</summary>
    public IReadOnlyList<PortalRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>The sync posts only.</summary>
    public IReadOnlyList<PortalRequest> Posts => [.. Requests.Where(r => r.Path == SyncPath)];

    public static async Task<FakeNationalPortal> StartAsync()
    {
        var portal = new FakeNationalPortal();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost(LoginPath, http => portal.HandleAsync(http, portal.Login));
        app.MapPost(SyncPath, http => portal.HandleAsync(http, portal.Sync));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        portal._app = app;
        portal.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return portal;
    }

    /// <summary>The next <paramref name="count"/> sync posts get HTTP <paramref name="status"/> with a plain-text body.</summary>
    public void FailNextPosts(int count, int status = 503)
    {
        lock (_gate)
        {
            _failures = count;
            _failureStatus = status;
        }
    }

    /// <summary>Every session issued so far ends now.</summary>
    public void ExpireSessions()
    {
        lock (_gate)
        {
            _sessions.Clear();
        }
    }

    /// <summary>The dossier's current row, or null.</summary>
    public JsonObject? Dossier(string code) => DossierRows(code).LastOrDefault();

    /// <summary>Every row applied to the dossier (insert first, then updates), in order.</summary>
    public IReadOnlyList<JsonObject> DossierRows(string code)
    {
        lock (_gate)
        {
            return _dossiers.TryGetValue(code, out var rows) ? [.. rows] : [];
        }
    }

    /// <summary>The dossier's steps in arrival order.</summary>
    public IReadOnlyList<JsonObject> Steps(string code)
    {
        lock (_gate)
        {
            return _steps.TryGetValue(code, out var rows) ? [.. rows] : [];
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private async Task HandleAsync(HttpContext http, Func<byte[], string?, (int Status, JsonObject? Reply, string? Service, string? IsUpdating, List<JsonObject> Rows)> handle)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        byte[] reply;
        int status;
        PortalRequest record;
        lock (_gate)
        {
            var answer = handle(body, http.Request.Headers["dstcode"].FirstOrDefault());
            status = answer.Status;
            reply = answer.Reply is null ? "Service Unavailable"u8.ToArray() : JsonSerializer.SerializeToUtf8Bytes(answer.Reply, ReplyOptions);
            record = new PortalRequest(http.Request.Path, answer.Service, answer.IsUpdating, answer.Rows, http.Request.Headers["dstcode"].FirstOrDefault(), status, body, reply);
            _requests.Add(record);
        }

        http.Response.StatusCode = status;
        http.Response.ContentType = status == 503 ? "text/plain" : "application/json; charset=utf-8";
        await http.Response.Body.WriteAsync(reply);
    }

    private (int, JsonObject?, string?, string?, List<JsonObject>) Login(byte[] body, string? dstCode)
    {
        LoginCount++;
        var root = Parse(body);
        if (root?["username"]?.GetValueKind() != JsonValueKind.String || root["password"]?.GetValueKind() != JsonValueKind.String
            || root["username"]!.GetValue<string>() != Username || root["password"]!.GetValue<string>() != Password)
        {
            return (401, Reply(JsonValue.Create(-1), "Sai tên đăng nhập hoặc mật khẩu"), "login", null, []);
        }

        var session = Guid.NewGuid().ToString();
        _sessions[session] = 0;
        var reply = Reply(JsonValue.Create(0), "Thành công");
        reply["session"] = session;
        return (200, reply, "login", null, []);
    }

    private (int, JsonObject?, string?, string?, List<JsonObject>) Sync(byte[] body, string? dstCode)
    {
        if (_failures > 0)
        {
            _failures--;
            return (_failureStatus, null, null, null, []);
        }

        var root = Parse(body);
        if (root is null || root["data"] is not JsonArray data || data.Any(r => r is not JsonObject))
        {
            return (400, Reply("-2", "Dữ liệu không hợp lệ: not a JSON object with a data array of objects"), null, null, []);
        }

        var rows = data.Select(r => r!.AsObject()).ToList();
        var service = Text(root, "service");
        var isUpdating = Text(root, "isUpdating");
        if ((NonString(root) ?? rows.Select(NonString).FirstOrDefault(p => p is not null)) is { } typeProblem)
        {
            return (400, Reply("-2", $"Dữ liệu không hợp lệ: {typeProblem}"), service, isUpdating, rows);
        }

        var session = Text(root, "session");
        if (session is null || !_sessions.TryGetValue(session, out var used) || (PostsPerSession is { } limit && used >= limit))
        {
            if (session is not null)
            {
                _sessions.Remove(session);
            }

            return (401, Reply("-1", "Phiên làm việc không hợp lệ hoặc đã hết hạn"), service, isUpdating, rows);
        }

        _sessions[session] = used + 1;
        if (string.IsNullOrEmpty(dstCode) || string.IsNullOrEmpty(Text(root, "madonvi")))
        {
            return (400, Reply("-2", "Thiếu dstcode hoặc madonvi"), service, isUpdating, rows);
        }

        return service switch
        {
            "DongBoHoSoMC" when isUpdating is null or "False" or "True" => Apply(service, isUpdating, rows, update: isUpdating == "True"),
            "DongBoHoSoMC" => (400, Reply("-2", "isUpdating phải là \"True\" hoặc \"False\""), service, isUpdating, rows),
            "CapNhatTienDoHoSoMC" => Apply(service, isUpdating, rows, update: false),
            _ => (400, Reply("-4", $"Dịch vụ {service} không tồn tại"), service, isUpdating, rows),
        };
    }

    /// <summary>Checks and applies the rows (each one, or all or nothing without <see cref="PerRowResults"/>).</summary>
    private (int, JsonObject?, string?, string?, List<JsonObject>) Apply(string service, string? isUpdating, List<JsonObject> rows, bool update)
    {
        var steps = service == "CapNhatTienDoHoSoMC";
        var refused = new List<(int Index, string Code, string ErrorCode, string Message)>();
        var inserted = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < rows.Count; i++)
        {
            var code = Text(rows[i], "MaHoSo") ?? "";
            var held = _dossiers.ContainsKey(code) || inserted.Contains(code);
            var problem = RowProblem(rows[i], steps);
            var refusal = problem is not null ? ("-2", $"Dòng {i}: {problem}")
                : !steps && !update && held ? ("-3", $"Hồ sơ {code} đã tồn tại")
                : (steps || update) && !held ? ("-7", $"Hồ sơ {code} không tồn tại")
                : ((string, string)?)null;
            if (refusal is { } r)
            {
                refused.Add((i, code, r.Item1, r.Item2));
            }
            else if (!steps && !update)
            {
                inserted.Add(code);
            }
        }

        if (PerRowResults || refused.Count == 0)
        {
            for (var i = 0; i < rows.Count; i++)
            {
                if (refused.All(r => r.Index != i))
                {
                    var target = steps ? _steps : _dossiers;
                    var code = Text(rows[i], "MaHoSo")!;
                    if (!target.TryGetValue(code, out var list))
                    {
                        target[code] = list = [];
                    }

                    list.Add(rows[i]);
                }
            }
        }

        if (refused.Count == 0)
        {
            return (200, Reply(SuccessCode.DeepClone(), "Đồng bộ thành công"), service, isUpdating, rows);
        }

        var worst = refused.Any(r => r.ErrorCode == "-2") ? "-2" : refused[0].ErrorCode;
        var message = worst == "-3"
            ? $"Hồ sơ {string.Join(", ", refused.Where(r => r.ErrorCode == "-3").Select(r => r.Code))} đã tồn tại"
            : string.Join("; ", refused.Select(r => r.Message));
        var reply = Reply(worst, message);
        if (PerRowResults)
        {
            reply["result"] = new JsonArray([.. refused.Select(r => (JsonNode)new JsonObject
            {
                ["index"] = r.Index.ToString(CultureInfo.InvariantCulture),
                ["MaHoSo"] = r.Code,
                ["error_code"] = r.ErrorCode,
                ["message"] = r.Message,
            })]);
        }

        return (200, reply, service, isUpdating, rows);
    }

    private static string? RowProblem(JsonObject row, bool step)
    {
        string[] required = step ? ["MaHoSo", "ThoiDiemXuLy"] : ["MaHoSo", "MaTTHC", "TrangThaiHoSo"];
        if (required.FirstOrDefault(f => string.IsNullOrEmpty(Text(row, f))) is { } missing)
        {
            return $"{missing} là bắt buộc (required)";
        }

        if (Text(row, step ? "TrangThai" : "TrangThaiHoSo") is { Length: > 0 } status
            && !(int.TryParse(status, NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s is >= 1 and <= 10))
        {
            return $"trạng thái {status} không hợp lệ";
        }

        return DateFields.FirstOrDefault(f => Text(row, f) is { Length: > 0 } date
            && !DateTime.TryParseExact(date, "yyyyMMddHHmmss", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)) is { } badDate
            ? $"{badDate} không đúng định dạng yyyyMMddHHmmss"
            : null;
    }

    /// <summary>The first value of the object (other than <c>data</c> and the known list fields) that is not a string.</summary>
    private static string? NonString(JsonObject obj) =>
        obj.Where(p => p.Key != "data" && !ListFields.Contains(p.Key) && p.Value?.GetValueKind() != JsonValueKind.String)
            .Select(p => $"{p.Key} is {p.Value?.GetValueKind().ToString() ?? "null"}, not a string")
            .FirstOrDefault();

    private static JsonObject? Parse(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonObject obj, string name) => obj[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static JsonObject Reply(JsonNode? code, string message) => new() { ["error_code"] = code, ["message"] = message, ["result"] = new JsonArray() };

    private static JsonObject Reply(string code, string message) => Reply(JsonValue.Create(code), message);
}

/// <summary>One request the fake portal received and what it answered.</summary>
/// <param name="Path">The request path (login or sync).</param>
/// <param name="Service">The envelope's service, <c>login</c> for a login; null when unreadable.</param>
/// <param name="IsUpdating">The envelope's <c>isUpdating</c>, when a string.</param>
/// <param name="Rows">The <c>data</c> rows.</param>
/// <param name="DstCode">The <c>dstcode</c> header.</param>
/// <param name="Status">The HTTP status answered.</param>
/// <param name="Body">The request body exactly as received.</param>
/// <param name="Reply">The reply body exactly as sent.</param>
public sealed record PortalRequest(
    string Path, string? Service, string? IsUpdating, IReadOnlyList<JsonObject> Rows, string? DstCode, int Status, byte[] Body, byte[] Reply);
