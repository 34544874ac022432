namespace Hub.Connectors.BuiltIn.NationalPortal;

/// <summary>
/// The national portal's sync protocol as the hub speaks it: service names, reply codes and messages, wire field names.
/// Reply codes are strings, as the portal sends them; clients look for <c>thành công</c> and <c>đã tồn tại</c> in the
/// message, so those words are kept exactly.
/// </summary>
public static class PortalProtocol
{
    /// <summary>Dossier upsert service: rows are dossier headers; the envelope carries <c>isUpdating</c>.</summary>
    public const string DossierService = "DongBoHoSoMC";

    /// <summary>Processing steps service: rows are steps, appended.</summary>
    public const string StepService = "CapNhatTienDoHoSoMC";

    /// <summary>The services the hub accepts.</summary>
    public static IReadOnlyList<string> Services { get; } = [DossierService, StepService];

    /// <summary>The dossier code field of both services' rows: the protocol's key of a dossier.</summary>
    public const string DossierCodeField = "MaHoSo";

    /// <summary>
    /// The update time some one-stop systems add to <c>DongBoHoSoMC</c> rows (not in the portal's own specification):
    /// <c>yyyyMMddHHmmss</c> in Vietnam time. When present it is the change's event time.
    /// </summary>
    public const string UpdateTimeField = "NgayCapNhat";

    /// <summary>The protocol's date format, Vietnam time (+07:00) without a zone.</summary>
    public const string DateFormat = "yyyyMMddHHmmss";

    /// <summary>Vietnam time, the zone of every date on the wire.</summary>
    public static readonly TimeSpan VietnamOffset = TimeSpan.FromHours(7);

    /// <summary>
    /// Fields of dossier rows that identify or reach the applicant. No canonical field is read from them, so the adapter
    /// removes them before anything is stored, quarantine included (Decree 13/2023: keep only what a function needs).
    /// </summary>
    public static IReadOnlyList<string> PersonalFields { get; } =
        ["ChuHoSo", "DinhDanhCHS", "SoDienThoai", "Email", "Fax", "DiaChi", "MaDoiTuong"];

    /// <summary>Reply messages the portal's clients recognise.</summary>
    public static class Messages
    {
        /// <summary>Login succeeded.</summary>
        public const string Success = "Thành công";

        /// <summary>Every row of a sync post was taken.</summary>
        public const string SyncSuccess = "Đồng bộ thành công";

        /// <summary>The portal's answer to an insert of a dossier it already holds.</summary>
        public static string AlreadyExists(string dossierCode) => $"Hồ sơ {dossierCode} đã tồn tại";
    }

    /// <summary>Reply codes (<c>error_code</c>).</summary>
    public static class Codes
    {
        /// <summary>Success (the post, or the login).</summary>
        public const string Success = "0";

        /// <summary>Wrong credentials, or a missing, unknown or expired session (HTTP 401).</summary>
        public const string AuthenticationFailed = "-1";

        /// <summary>The request cannot be read: not JSON, or a field missing or of the wrong type (HTTP 400).</summary>
        public const string Malformed = "-2";

        /// <summary>An insert (<c>isUpdating</c> "False") of a dossier the hub already holds; the row was not applied (HTTP 200).</summary>
        public const string AlreadyExists = "-3";

        /// <summary>The service is not one the hub accepts (HTTP 400, or 404 when named in the path).</summary>
        public const string UnknownService = "-4";

        /// <summary>The connector may not send for the envelope's <c>madonvi</c> (HTTP 403).</summary>
        public const string AgencyNotAllowed = "-5";

        /// <summary>A row that could not be mapped or stored: kept in the hub's quarantine with the reason (in <c>result</c> only).</summary>
        public const string RowQuarantined = "-6";

        /// <summary>The hub failed; nothing of the post was stored; send it again later (HTTP 500 or 503).</summary>
        public const string HubFailure = "-9";
    }
}
