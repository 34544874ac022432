using Hub.Connectors.Mapping;

namespace Hub.Core.Mapping;

/// <summary>
/// The built-in mapping of the national portal's own sync protocol: <c>DongBoHoSoMC</c> dossier rows (records of kind
/// <c>Dossier</c>) and <c>CapNhatTienDoHoSoMC</c> step rows (records of kind <c>Step</c>). All values are strings; dates
/// are <c>yyyyMMddHHmmss</c> in Vietnam time; <c>TrangThaiHoSo</c> and <c>TrangThai</c> are already national codes.
/// </summary>
/// <remarks>
/// Two values are not in the rows themselves, so the hub's adapter for this protocol adds them to every dossier row
/// before mapping:
/// <list type="bullet">
/// <item><description>
/// <c>_eventTime</c> (<see cref="EventTimeField"/>): when the change happened. The protocol has no update-time field, so
/// the adapter supplies the best time it has (the row's <c>NgayCapNhat</c> when it carries one, else the time the hub
/// received the post), either in the
/// protocol's own <c>yyyyMMddHHmmss</c> Vietnam time or as ISO 8601 with an offset (<c>2025-11-17T09:30:40.1234567+07:00</c>),
/// which keeps sub-second order between updates of the same dossier.
/// </description></item>
/// <item><description>
/// <c>_madonvi</c> (<see cref="AgencyCodeField"/>): the envelope's <c>madonvi</c>, the sending agency's electronic
/// identifier, which becomes <c>AgencyCode</c>.
/// </description></item>
/// </list>
/// <c>NativeId</c> is not mapped: the protocol knows dossiers only by <c>MaHoSo</c>, so the native id defaults to the
/// dossier code; step rows carry <c>MaHoSo</c> as theirs. The procedure base code is derived from <c>MaTTHC</c> by the
/// default rule. Personal data in the rows (<c>ChuHoSo</c>, <c>DinhDanhCHS</c>, <c>SoDienThoai</c>, <c>Email</c>) is not mapped.
/// </remarks>
public static class NationalPortalMapping
{
    /// <summary>The mapping's version.</summary>
    public const string Version = "national-portal/1";

    /// <summary>The field the adapter adds to every dossier row with the change's event time.</summary>
    public const string EventTimeField = "_eventTime";

    /// <summary>The field the adapter adds to every dossier row with the envelope's <c>madonvi</c>.</summary>
    public const string AgencyCodeField = "_madonvi";

    /// <summary>The protocol's date format, Vietnam time (+07:00) without a zone.</summary>
    public const string DateFormat = "yyyyMMddHHmmss";

    /// <summary>The definition.</summary>
    public static MappingDefinition Definition { get; } = new()
    {
        Version = Version,
        TimeZone = "+07:00",
        DateFormats = [DateFormat],
        StatusCodes = Enumerable.Range(1, 10).ToDictionary(code => code.ToString(System.Globalization.CultureInfo.InvariantCulture), code => code),
        Dossier = new Dictionary<string, FieldMapping>
        {
            ["DossierCode"] = "MaHoSo",
            ["EventTime"] = new() { Path = EventTimeField, DateFormats = [DateFormat, "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz"] },
            ["Status"] = "TrangThaiHoSo",
            ["ProcedureCode"] = "MaTTHC",
            ["ProcedureName"] = "TenTTHC",
            ["SectorCode"] = "MaLinhVuc",
            ["AgencyCode"] = AgencyCodeField,
            ["HandlingUnit"] = "DonViXuLy",
            ["ApplicantType"] = "LoaiDoiTuong",
            ["Channel"] = "KenhThucHien",
            ["PaidOnline"] = "DuocThanhToanTrucTuyen",
            ["SubmittedAt"] = "NgayNopHoSo",
            ["ReceivedAt"] = "NgayTiepNhan",
            ["DueAt"] = "NgayHenTra",
            ["ProcessingFinishedAt"] = "NgayKetThucXuLy",
            ["ResultReturnedAt"] = "NgayTra",
            ["RefusedAt"] = "NgayTuChoi",
        },
        Steps = new StepMapping
        {
            Fields = new Dictionary<string, FieldMapping>
            {
                ["NativeId"] = "MaHoSo",
                ["StepTime"] = "ThoiDiemXuLy",
                ["Officer"] = "NguoiXuLy",
                ["OfficerTitle"] = "ChucDanh",
                ["Department"] = "PhongBanXuLy",
                ["Action"] = "NoiDungXuLy",
                ["StatusAfter"] = "TrangThai",
                ["StartedAt"] = "NgayBatDau",
                ["Deadline"] = "NgayKetThucTheoQuyDinh",
            },
        },
    };

    /// <summary>The compiled definition, shared: the mapper is immutable and thread-safe.</summary>
    public static RecordMapper Mapper { get; } = RecordMapper.Compile(Definition);
}
