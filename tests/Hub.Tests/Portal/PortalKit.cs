using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors.BuiltIn;
using Hub.Core.Mapping;
using Hub.Core.Sync;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Portal;

/// <summary>A real hub process over a schema of its own, shared by the tests of one class; each test registers its own connector.</summary>
public sealed class PortalHubFixture : IAsyncLifetime
{
    public NpgsqlDataSource Db { get; private set; } = null!;

    public HubProcess Hub { get; private set; } = null!;

    public ConnectorCatalog Catalog { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateSchemaAsync("portal");
        Catalog = TestSecrets.Catalog(Db);
        Hub = HubProcess.Start(Path.GetTempPath(), new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = Db.ConnectionString,
            // The adapter's per-post summary is at Debug: shown here so that the log checks see every line it writes.
            ["Logging__LogLevel__Hub.Worker.Api.NationalPortalAdapter"] = "Debug",
        });
        await Hub.WaitReadyAsync(TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        await Hub.DisposeAsync();
        await Db.DisposeAsync();
    }
}

/// <summary>Builders of connectors, logins, rows and posts of the national portal protocol.</summary>
public static class PortalKit
{
    public static readonly TimeSpan Vietnam = TimeSpan.FromHours(7);

    /// <summary>A national-portal connector with the built-in mapping; its id, user name and source system derive from <paramref name="name"/>.</summary>
    public static ConnectorRegistration Connector(string name, string password = "pw-" + "0123456789", string[]? madonvi = null, string? lifetime = null)
    {
        var configuration = new JsonObject { ["username"] = $"{name}_motcua", ["password"] = password };
        if (madonvi is not null)
        {
            configuration["madonvi"] = new JsonArray([.. madonvi.Select(m => (JsonNode)m)]);
        }

        if (lifetime is not null)
        {
            configuration["sessionLifetime"] = lifetime;
        }

        return new ConnectorRegistration
        {
            Id = name,
            Kind = NationalPortalConnectorKind.KindName,
            SourceSystem = "sys-" + name,
            DisplayName = "Portal client " + name,
            Configuration = JsonSerializer.SerializeToElement(configuration),
            Mapping = NationalPortalMapping.Definition,
        };
    }

    public static string Username(ConnectorRegistration connector) => connector.Configuration.GetProperty("username").GetString()!;

    public static string Password(ConnectorRegistration connector) => connector.Configuration.GetProperty("password").GetString()!;

    public static async Task<HttpResponseMessage> LoginAsync(HttpClient client, string username, string password) =>
        await client.PostAsync("/portal/login", Json(new JsonObject { ["username"] = username, ["password"] = password }));

    public static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>Logs in and returns the session token; fails the test if the login is refused.</summary>
    public static async Task<string> SessionAsync(HttpClient client, ConnectorRegistration connector)
    {
        using var response = await LoginAsync(client, Username(connector), Password(connector));
        var body = await BodyAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        return body.GetProperty("session").GetString()!;
    }

    /// <summary>A DongBoHoSoMC row with the sample's fields; dates in the protocol's format.</summary>
    public static JsonObject DossierRow(string code, int status, DateTimeOffset? updatedAt = null, string owner = "Nguyễn Thị Hồng Nhung", string personalId = "038190012345")
    {
        var row = new JsonObject
        {
            ["MaHoSo"] = code,
            ["MaTTHC"] = "1.001612.000.00.00.H56",
            ["TenTTHC"] = "Đăng ký thành lập hộ kinh doanh",
            ["MaLinhVuc"] = "G15-KH01",
            ["KenhThucHien"] = "2",
            ["ChuHoSo"] = owner,
            ["LoaiDoiTuong"] = "1",
            ["SoDienThoai"] = "",
            ["TrichYeuHoSo"] = "Đăng ký hộ kinh doanh cửa hàng tạp hóa",
            ["NgayNopHoSo"] = "20251117081522",
            ["NgayTiepNhan"] = "20251117093040",
            ["NgayHenTra"] = "20251120170000",
            ["TrangThaiHoSo"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["NgayTra"] = "",
            ["NgayKetThucXuLy"] = "",
            ["DonViXuLy"] = "Phòng Tài chính - Kế hoạch",
            ["DuocThanhToanTrucTuyen"] = "1",
            ["DinhDanhCHS"] = new JsonArray(new JsonObject { ["LoaiDinhDanh"] = "1", ["SoDinhDanh"] = personalId }),
        };
        if (updatedAt is { } t)
        {
            row["NgayCapNhat"] = Date(t);
        }

        return row;
    }

    public static JsonObject StepRow(string code, DateTimeOffset at, int statusAfter, string action) => new()
    {
        ["MaHoSo"] = code,
        ["NguoiXuLy"] = "Lê Văn Tâm",
        ["ChucDanh"] = "Chuyên viên",
        ["ThoiDiemXuLy"] = Date(at),
        ["PhongBanXuLy"] = "Bộ phận Một cửa",
        ["NoiDungXuLy"] = action,
        ["TrangThai"] = statusAfter.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["NgayBatDau"] = Date(at),
        ["NgayKetThucTheoQuyDinh"] = Date(at.AddDays(1)),
    };

    public static JsonObject Envelope(string? session, string service, string madonvi, bool? isUpdating, params JsonObject[] rows)
    {
        var envelope = new JsonObject { ["session"] = session, ["madonvi"] = madonvi, ["service"] = service };
        if (isUpdating is { } updating)
        {
            envelope["isUpdating"] = updating ? "True" : "False";
        }

        envelope["data"] = new JsonArray([.. rows.Select(r => (JsonNode)r.DeepClone())]);
        return envelope;
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient client, JsonObject envelope, string path = "/portal/sync") =>
        await PostRawAsync(client, envelope.ToJsonString(), path);

    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostRawAsync(HttpClient client, string body, string path = "/portal/sync")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("dstcode", "DVCQG");
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await BodyAsync(response));
    }

    public static async Task<JsonElement> BodyAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", $"HTTP {(int)response.StatusCode} {response.Content.Headers.ContentType}: {text}");
        return JsonSerializer.Deserialize<JsonElement>(text);
    }

    public static string Code(JsonElement body) => body.GetProperty("error_code").ValueKind == JsonValueKind.Number
        ? body.GetProperty("error_code").GetRawText()
        : body.GetProperty("error_code").GetString()!;

    public static string Message(JsonElement body) => body.GetProperty("message").GetString()!;

    public static string Date(DateTimeOffset t) => t.ToOffset(Vietnam).ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A value of one row and column of the test's schema.</summary>
    public static async Task<T?> ScalarAsync<T>(NpgsqlDataSource db, string sql, params object[] parameters)
    {
        await using var command = db.CreateCommand(sql);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default : (T)value;
    }

    /// <summary>Waits until the hub's output contains <paramref name="text"/> (log lines are written a moment after the reply).</summary>
    public static async Task<bool> OutputShowsAsync(HubProcess hub, string text)
    {
        for (var i = 0; i < 100; i++)
        {
            if (hub.Output.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            await Task.Delay(50);
        }

        return false;
    }
}
