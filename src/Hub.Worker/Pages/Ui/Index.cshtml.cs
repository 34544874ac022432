using Hub.Core.Sync;
using Hub.Worker.Alerts;
using Hub.Worker.Api;
using Hub.Worker.Dashboard;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Hub.Worker.Pages.Ui;

/// <summary>
/// The overview: every connector the signed-in principal maintains, with its freshness against its own schedule
/// (failing first, then late), its state and last run. Auditors maintain no connector: they are sent to the dossier
/// lookup, their start page.
/// </summary>
public sealed class IndexModel(ConnectorCatalog catalog, SyncLedger ledger, TimeProvider time) : PageModel
{
    /// <summary>The connectors shown.</summary>
    public IReadOnlyList<(ConnectorsApi.ConnectorView View, FreshnessVerdict Freshness)> Connectors { get; private set; } = [];

    /// <summary>When the page was made, in Vietnam time.</summary>
    public DateTimeOffset Now { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (!DashboardExtensions.MayUseConnectors(User))
        {
            return Redirect(DashboardExtensions.PathPrefix + "/dossiers");
        }

        Now = time.GetUtcNow().ToOffset(TimeSpan.FromHours(7));
        var views = new List<(ConnectorsApi.ConnectorView, FreshnessVerdict)>();
        foreach (var (state, freshness) in await Freshness.JudgeAllAsync(catalog, ledger, time.GetUtcNow(), cancellationToken))
        {
            if (ConnectorAccess.MayReach(HttpContext, state.Registration))
            {
                views.Add((await ConnectorsApi.ViewAsync(state, ledger, cancellationToken), freshness));
            }
        }

        Connectors = [.. views.OrderBy(v => Rank(v.Item2.State)).ThenBy(v => v.Item1.Id, StringComparer.Ordinal)];
        return Page();
    }

    /// <summary>What needs attention first.</summary>
    private static int Rank(FreshnessState state) => state switch
    {
        FreshnessState.Failing => 0,
        FreshnessState.Late => 1,
        FreshnessState.Never => 2,
        FreshnessState.Paused => 3,
        FreshnessState.OnTime => 4,
        _ => 5,
    };
}
