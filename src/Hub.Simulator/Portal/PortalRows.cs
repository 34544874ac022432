using System.Globalization;
using System.Text.Json.Nodes;
using Hub.Simulator.Generation;

namespace Hub.Simulator.Portal;

/// <summary>
/// Rows of the national portal protocol as a one-stop system's sync client builds them from its own data: every value
/// a string, dates <c>yyyyMMddHHmmss</c> in Vietnam time (whole seconds), empty strings for dates not set.
/// </summary>
internal static class PortalRows
{
    public const string DateFormat = "yyyyMMddHHmmss";

    /// <summary>A <c>DongBoHoSoMC</c> row: the dossier header at the revision, with the applicant's personal data as real payloads carry it.</summary>
    public static JsonObject Dossier(SimRevision revision, string agencyPrefix, bool withUpdateTime)
    {
        var dossier = revision.Dossier;
        var row = new JsonObject
        {
            ["MaHoSo"] = dossier.Code,
            ["MaTTHC"] = dossier.Procedure.CodeFor(agencyPrefix),
            ["TenTTHC"] = dossier.Procedure.Name,
            ["MaLinhVuc"] = dossier.Procedure.SectorCode,
            ["KenhThucHien"] = Number((int)dossier.ApplyMethod.Channel),
            ["ChuHoSo"] = dossier.ApplicantName,
            ["LoaiDoiTuong"] = Number((int)dossier.ApplicantType),
            ["MaDoiTuong"] = "",
            ["ThongTinKhac"] = "",
            ["Email"] = "",
            ["Fax"] = "",
            ["SoDienThoai"] = "",
            ["TrichYeuHoSo"] = dossier.Procedure.Name,
            ["NgayNopHoSo"] = Date(revision.Applied),
            ["NgayTiepNhan"] = Date(revision.Accepted),
            ["NgayHenTra"] = Date(revision.Appointment),
            ["TrangThaiHoSo"] = Number((int)revision.Status),
            ["NgayKetThucXuLy"] = Date(revision.Completed),
            ["NgayTra"] = Date(revision.Returned),
            ["NgayTuChoi"] = Date(revision.Refused),
            ["ThongTinTra"] = "",
            ["HinhThuc"] = "0",
            ["DonViXuLy"] = dossier.Agency.Name,
            ["GhiChu"] = "",
            ["DuocThanhToanTrucTuyen"] = dossier.PaidOnline ? "1" : "0",
            ["DinhDanhCHS"] = new JsonArray(new JsonObject { ["LoaiDinhDanh"] = "1", ["SoDinhDanh"] = dossier.IdentityNumber }),
            ["TaiLieuNop"] = new JsonArray(),
            ["DanhSachLePhi"] = new JsonArray(),
            ["DanhSachHoSoBoSung"] = new JsonArray(),
            ["DanhSachGiayToKetQua"] = new JsonArray(),
        };
        if (withUpdateTime)
        {
            row["NgayCapNhat"] = Date(revision.UpdatedAt);
        }

        return row;
    }

    /// <summary>A <c>CapNhatTienDoHoSoMC</c> row: one processing step.</summary>
    public static JsonObject Step(SimDossier dossier, SimTask task) => new()
    {
        ["MaHoSo"] = dossier.Code,
        ["NguoiXuLy"] = task.Assignee,
        ["ChucDanh"] = task.Title,
        ["ThoiDiemXuLy"] = Date(task.End),
        ["PhongBanXuLy"] = task.Department,
        ["NoiDungXuLy"] = task.Content,
        ["TrangThai"] = Number((int)task.StatusAfter),
        ["NgayBatDau"] = Date(task.Start),
        ["NgayKetThucTheoQuyDinh"] = Date(task.Deadline),
    };

    /// <summary>A corrupted copy of a row, as buggy senders produce them; never part of the truth.</summary>
    public static JsonObject Malformed(JsonObject row, PortalMalformedKind kind)
    {
        var copy = row.DeepClone().AsObject();
        switch (kind)
        {
            case PortalMalformedKind.UnknownStatus:
                copy["TrangThaiHoSo"] = "99";
                break;
            case PortalMalformedKind.UnparseableUpdateTime:
                copy["NgayCapNhat"] = MonthThirteen(copy["NgayCapNhat"]?.GetValue<string>());
                break;
            case PortalMalformedKind.MissingCode:
                copy.Remove("MaHoSo");
                break;
            case PortalMalformedKind.UnparseableStepTime:
                copy["ThoiDiemXuLy"] = MonthThirteen(copy["ThoiDiemXuLy"]?.GetValue<string>());
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }

        return copy;
    }

    /// <summary>The date in the protocol's format, Vietnam time, whole seconds (truncated); empty when not set.</summary>
    public static string Date(DateTimeOffset? value) =>
        value is { } v ? v.ToOffset(ProvinceGenerator.Vietnam).ToString(DateFormat, CultureInfo.InvariantCulture) : "";

    private static string MonthThirteen(string? date) => date is { Length: 14 } ? date[..4] + "13" + date[6..] : "20251345250000";

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The corrupted rows the portal-style client can inject; none is part of the truth.</summary>
public enum PortalMalformedKind
{
    /// <summary>A dossier row with <c>TrangThaiHoSo</c> 99, not a national status.</summary>
    UnknownStatus,

    /// <summary>A dossier row whose <c>NgayCapNhat</c> has month 13.</summary>
    UnparseableUpdateTime,

    /// <summary>A dossier row without <c>MaHoSo</c>.</summary>
    MissingCode,

    /// <summary>A step row whose <c>ThoiDiemXuLy</c> has month 13.</summary>
    UnparseableStepTime,
}
