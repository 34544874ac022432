using System.Globalization;
using Hub.Contracts;

namespace Hub.Connectors.BuiltIn.NationalPortal.Client;

/// <summary>
/// The hub's canonical records as rows of the national portal protocol: the reverse of
/// <see cref="Hub.Core.Mapping.NationalPortalMapping"/>. Every value is a string; dates are <c>yyyyMMddHHmmss</c> in
/// Vietnam time (whole seconds, truncated); a value the hub does not have is an empty string.
/// </summary>
/// <remarks>
/// The hub stores no personal data, so the applicant's fields (<c>ChuHoSo</c>, <c>MaDoiTuong</c>, <c>Email</c>,
/// <c>Fax</c>, <c>SoDienThoai</c>) go out empty and the lists (<c>DinhDanhCHS</c>, <c>TaiLieuNop</c>,
/// <c>DanhSachLePhi</c>…) are left out, as the portal's sample allows for fields not known.
/// </remarks>
public static class OutboundRows
{
    /// <summary>A <c>DongBoHoSoMC</c> row: the dossier header as of the change, with <c>NgayCapNhat</c> its event time.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Dossier(DossierChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return
        [
            new(PortalProtocol.DossierCodeField, change.DossierCode),
            // The portal wants the national base code (1.003560), not a province's suffixed one.
            new("MaTTHC", change.ProcedureBaseCode ?? change.ProcedureCode ?? ""),
            new("TenTTHC", change.ProcedureName ?? ""),
            new("MaLinhVuc", change.SectorCode ?? ""),
            new("TenLinhVuc", ""),
            new("KenhThucHien", Code(change.Channel)),
            new("ChuHoSo", ""),
            new("LoaiDoiTuong", Code(change.ApplicantType)),
            new("MaDoiTuong", ""),
            new("ThongTinKhac", ""),
            new("Email", ""),
            new("Fax", ""),
            new("SoDienThoai", ""),
            new("TrichYeuHoSo", ""),
            new("NgayNopHoSo", Date(change.SubmittedAt)),
            new("NgayTiepNhan", Date(change.ReceivedAt)),
            new("NgayHenTra", Date(change.DueAt)),
            new("TrangThaiHoSo", Code(change.Status)),
            new("NgayTra", Date(change.ResultReturnedAt)),
            new("ThongTinTra", ""),
            new("NgayKetThucXuLy", Date(change.ProcessingFinishedAt)),
            new("NgayTuChoi", Date(change.RefusedAt)),
            new("DonViXuLy", change.HandlingUnit ?? ""),
            new("GhiChu", ""),
            new("DuocThanhToanTrucTuyen", change.PaidOnline switch { true => "1", false => "0", null => "" }),
            new(PortalProtocol.UpdateTimeField, Date(change.EventTime)),
        ];
    }

    /// <summary>A <c>CapNhatTienDoHoSoMC</c> row: one processing step of the dossier <paramref name="dossierCode"/>.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Step(string dossierCode, DossierStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return
        [
            new(PortalProtocol.DossierCodeField, dossierCode),
            new("NguoiXuLy", step.Officer ?? ""),
            new("ChucDanh", step.OfficerTitle ?? ""),
            new("ThoiDiemXuLy", Date(step.StepTime)),
            new("PhongBanXuLy", step.Department ?? ""),
            new("NoiDungXuLy", step.Action ?? ""),
            new("TrangThai", Code(step.StatusAfter)),
            new("NgayBatDau", Date(step.StartedAt)),
            new("NgayKetThucTheoQuyDinh", Date(step.Deadline)),
        ];
    }

    /// <summary>The date in the protocol's format, Vietnam time, whole seconds; empty when not set.</summary>
    public static string Date(DateTimeOffset? value) =>
        value is { } v ? v.ToOffset(PortalProtocol.VietnamOffset).ToString(PortalProtocol.DateFormat, CultureInfo.InvariantCulture) : "";

    /// <summary>An enum's national numeric code (<c>TrangThaiHoSo</c>, <c>KenhThucHien</c>, <c>LoaiDoiTuong</c>); empty when not set.</summary>
    private static string Code<T>(T? value)
        where T : struct, Enum =>
        value is { } v ? Convert.ToInt32(v, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture) : "";

    private static string Code<T>(T value)
        where T : struct, Enum => Code((T?)value);
}
