using Hub.Contracts;
using Hub.Core.Audit;
using Hub.Core.Identity;
using Hub.Core.Store;
using Hub.Core.Sync;
using Hub.Worker.Api;
using Hub.Worker.Dashboard;
using Hub.Worker.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Hub.Worker.Pages.Ui;

/// <summary>
/// Dossier lookup by national code (MaHoSo): its current status, on-time verdict and due date, its status history and
/// steps as <c>GET /api/dossiers/{code}</c> gives them, and the exchange-log messages that carried it (the log records
/// the dossier codes each message touched, searched with its GIN index). Operators and auditors look up any dossier; a
/// province-admin only those of the agencies it is granted (the agency owning the connectors of the dossier's source
/// system, as for the indicators): any other dossier is answered exactly as an unknown code, so nothing tells it exists.
/// </summary>
public sealed class DossierModel(StatusStore store, ExchangeLog log, ConnectorCatalog catalog, TimeProvider time) : PageModel
{
    /// <summary>Most messages listed for one dossier (newest first).</summary>
    public const int MaxExchanges = 200;

    /// <summary>The national labels of the status codes (TrangThaiHoSo).</summary>
    public static IReadOnlyDictionary<NationalStatus, string> Labels { get; } = new Dictionary<NationalStatus, string>
    {
        [NationalStatus.Submitted] = "Mới đăng ký",
        [NationalStatus.Received] = "Được tiếp nhận",
        [NationalStatus.RefusedAtIntake] = "Không được tiếp nhận",
        [NationalStatus.Processing] = "Đang xử lý",
        [NationalStatus.SupplementRequested] = "Yêu cầu bổ sung giấy tờ",
        [NationalStatus.FinancialObligationRequired] = "Yêu cầu thực hiện nghĩa vụ tài chính",
        [NationalStatus.WithdrawnByApplicant] = "Công dân yêu cầu rút hồ sơ",
        [NationalStatus.ProcessingStopped] = "Dừng xử lý",
        [NationalStatus.Resolved] = "Đã xử lý xong",
        [NationalStatus.ResultReturned] = "Đã trả kết quả",
    };

    /// <summary>The code asked for (from the path, or from the form's query).</summary>
    [BindProperty(SupportsGet = true)]
    public string? Code { get; set; }

    /// <summary>What is wrong with the code, or that no such dossier is visible.</summary>
    public string? Problem { get; private set; }

    /// <summary>The dossier found, as the API shows it (times in Vietnam time).</summary>
    internal DossiersApi.DossierView? Dossier { get; private set; }

    /// <summary>The agency owning the dossier's source system; <c>null</c> when central or without a connector.</summary>
    public string? Agency { get; private set; }

    /// <summary>The messages that carried the dossier, newest first.</summary>
    public IReadOnlyList<ExchangeEntry> Exchanges { get; private set; } = [];

    /// <summary>Whether the signed-in principal may open the audit view of an entry (auditors only, as the payload API).</summary>
    public bool MayAudit { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        MayAudit = DashboardExtensions.IsAuditor(User);
        // Model binding reads an empty or blank ?code= as no code: the form was still submitted, and is answered.
        if (Code is null && !Request.Query.ContainsKey("code"))
        {
            return Page();
        }

        var code = (Code ?? "").Trim();
        if (Check(code) is { } problem)
        {
            Problem = problem;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        // The form submits ?code=; the page's own address is /ui/dossiers/{code} (a code with '/' stays in the query).
        if (RouteData.Values["code"] is null && Link(code) is { } path && !path.Contains('?', StringComparison.Ordinal))
        {
            return Redirect(path);
        }

        Code = code;
        var principal = HubUser.Of(User)!;
        var central = principal.Has(Roles.Operator) || principal.Has(Roles.Auditor);
        var dossier = await store.GetByCodeAsync(code, cancellationToken);
        var owners = dossier is null ? [] : await catalog.OwnersAsync(cancellationToken);
        // As the indicators read it: the agency of the connectors writing the dossier's source system (one owner each).
        var agency = dossier is null ? null : owners.Where(o => o.SourceSystem == dossier.Current.SourceSystem).Select(o => o.Agency).OfType<string>().Order(StringComparer.Ordinal).FirstOrDefault();
        if (dossier is null || !(central || principal.MayManageAgency(agency)))
        {
            Problem = central
                ? $"No dossier with the national code (MaHoSo) '{code}' is stored in the hub. Codes match exactly, capitals included."
                : $"No dossier with the national code (MaHoSo) '{code}' is stored for an agency you maintain. Codes match exactly, capitals included.";
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }

        Dossier = DossiersApi.DossierView.From(dossier, time.GetUtcNow());
        Agency = agency;
        var entries = await log.SearchAsync(new ExchangeSearch { Dossier = code, Kind = ExchangeRecord.MessageKind, Limit = MaxExchanges }, cancellationToken);
        // A province-admin sees the messages of its own connectors only: another agency's connector is not named to it.
        var agencyOf = owners.ToDictionary(o => o.Id, o => o.Agency, StringComparer.Ordinal);
        Exchanges = central
            ? entries
            : [.. entries.Where(e => e.ConnectorId is { } id && agencyOf.TryGetValue(id, out var a) && principal.MayManageAgency(a))];
        return Page();
    }

    /// <summary>What is wrong with a code (trimmed) the store could never hold, or <c>null</c>.</summary>
    public static string? Check(string code) =>
        code.Length == 0 ? "Type a dossier's national code (MaHoSo), for example G09.20-20260609-0092637."
        : code.Length > ChangeValidation.MaxIdLength ? $"That code is {code.Length} characters long: a national dossier code (MaHoSo) has at most {ChangeValidation.MaxIdLength}."
        : code.Any(char.IsControl) ? "That code holds control characters (a line break or a tab?): a national dossier code (MaHoSo) has none."
        : null;

    /// <summary>
    /// The page of a dossier: <c>/ui/dossiers/{code}</c>, or <c>/ui/dossiers?code=</c> for a code with a '/' (an escaped
    /// '/' is not decoded in a path segment, so it would not come back as the same code).
    /// </summary>
    public static string Link(string code) => code.Contains('/', StringComparison.Ordinal)
        ? $"{DashboardExtensions.PathPrefix}/dossiers?code={Uri.EscapeDataString(code)}"
        : $"{DashboardExtensions.PathPrefix}/dossiers/{Uri.EscapeDataString(code)}";

    /// <summary>A status as code and national label.</summary>
    public static string Status(NationalStatus status) =>
        Labels.TryGetValue(status, out var label) ? $"{(int)status} {label}" : ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A time as the dashboard shows it (Vietnam time).</summary>
    public static string Time(DateTimeOffset? at) =>
        at?.ToOffset(TimeSpan.FromHours(7)).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture) ?? "";
}
