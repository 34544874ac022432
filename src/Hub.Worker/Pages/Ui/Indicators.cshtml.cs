using Hub.Core.Identity;
using Hub.Core.Store;
using Hub.Worker.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Hub.Worker.Pages.Ui;

/// <summary>
/// National indicators per agency and procedure (<see cref="NationalIndicators"/>, as <c>GET /api/indicators?by=procedure</c>):
/// on-time rate, online and online-payment shares, overdue now and in progress. Operators and auditors see every agency,
/// a province-admin only the agencies it is granted. Each agency's own row is the sum of its procedures' counts, so
/// its rates are computed from the same dossiers. The share of dossiers synced to the national portal needs the
/// publication to the portal, which the hub does not do yet: it is shown as not available rather than as a figure.
/// </summary>
public sealed class IndicatorsModel(NationalIndicators indicators, TimeProvider time) : PageModel
{
    /// <summary>The agency asked for, if any.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Agency { get; set; }

    /// <summary>Why nothing is shown.</summary>
    public string? Problem { get; private set; }

    /// <summary>Per agency: its total row and its rows per procedure.</summary>
    public IReadOnlyList<(IndicatorRow Total, IReadOnlyList<IndicatorRow> Procedures)> Agencies { get; private set; } = [];

    /// <summary>When the indicators were computed, in Vietnam time.</summary>
    public DateTimeOffset Now { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        Agency = string.IsNullOrWhiteSpace(Agency) ? null : Agency.Trim();
        if (Agency is not null && !AgencyCodes.IsValid(Agency))
        {
            Problem = $"'{Agency}' is not {AgencyCodes.Expected}.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var principal = HubUser.Of(User)!;
        var central = principal.Has(Roles.Operator) || principal.Has(Roles.Auditor);
        if (!central && Agency is not null && !principal.Agencies.Contains(Agency, StringComparer.Ordinal))
        {
            Problem = $"You do not maintain agency '{Agency}'.";
            Response.StatusCode = StatusCodes.Status403Forbidden;
            return Page();
        }

        var now = time.GetUtcNow();
        Now = now.ToOffset(TimeSpan.FromHours(7));
        var rows = await indicators.ComputeAsync(new IndicatorQuery { Agency = Agency, ByProcedure = true }, now, cancellationToken);
        Agencies = [.. rows
            .Where(r => central || (r.Agency is not null && principal.Agencies.Contains(r.Agency, StringComparer.Ordinal)))
            .GroupBy(r => r.Agency)
            .Select(g => (Sum(g.Key, [.. g]), (IReadOnlyList<IndicatorRow>)[.. g]))];
        return Page();
    }

    /// <summary>An agency's row: the counts of its procedures added up (rates follow from the counts).</summary>
    private static IndicatorRow Sum(string? agency, IReadOnlyList<IndicatorRow> rows) => new(
        agency, null, rows.Sum(r => r.Dossiers), rows.Sum(r => r.OnTime), rows.Sum(r => r.Overdue), rows.Sum(r => r.Undetermined),
        rows.Sum(r => r.InProgress), rows.Sum(r => r.OverdueNow), rows.Sum(r => r.Withdrawn), rows.Sum(r => r.Online), rows.Sum(r => r.PaidOnline));

    /// <summary>A share as a percentage, or a dash when nothing counts towards it.</summary>
    public static string Percent(double? share) =>
        share is { } s ? (s * 100).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + "%" : "–";
}
