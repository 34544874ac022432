using System.Text.Json;
using Hub.Core.Sync;
using Hub.Worker.Alerts;
using Hub.Worker.Api;
using Hub.Worker.Dashboard;
using Hub.Worker.Sync;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace Hub.Worker.Pages.Ui;

/// <summary>
/// The overview: every connector the signed-in principal maintains, with its freshness against its own schedule
/// (failing first, then late), the age of its newest source change, its last successful run, throughput, error and
/// quarantine rates and circuit; filtered by province (agency), kind and freshness, sorted by any column, and
/// refreshed in place every <see cref="DashboardOptions.RefreshInterval"/>. Auditors maintain no connector: they are
/// sent to the dossier lookup, their start page.
/// </summary>
public sealed class IndexModel(
    ConnectorCatalog catalog, SyncLedger ledger, ConnectorHttpClients clients, TimeProvider time, IOptions<DashboardOptions> options) : PageModel
{
    /// <summary>One connector's line.</summary>
    public sealed record Row(ConnectorsApi.ConnectorView View, FreshnessVerdict Freshness, RecentActivity Activity, CircuitState Circuit)
    {
        /// <summary>The freshness as the page names it (camel case, as the API does).</summary>
        public string FreshnessName => Name(Freshness.State);

        /// <summary>The agency, or <c>central</c> for a connector of the central systems.</summary>
        public string AgencyName => View.Agency ?? "central";

        /// <summary>The circuit as the page names it.</summary>
        public string CircuitName => Circuit switch
        {
            CircuitState.Closed => "closed",
            CircuitState.HalfOpen => "half-open",
            _ => "open",
        };
    }

    /// <summary>The columns the overview sorts by.</summary>
    public static readonly IReadOnlyList<(string Key, string Title)> Columns =
    [
        ("connector", "Connector"), ("agency", "Agency"), ("freshness", "Freshness"), ("kind", "Kind"),
        ("newest", "Newest change"), ("success", "Last success"), ("throughput", "Changes/h"),
        ("errors", "Failed runs 24 h"), ("quarantine", "Quarantined 24 h"), ("circuit", "Circuit"),
    ];

    /// <summary>The connectors shown, filtered and sorted.</summary>
    public IReadOnlyList<Row> Rows { get; private set; } = [];

    /// <summary>How many connectors the principal maintains, before filtering.</summary>
    public int Total { get; private set; }

    /// <summary>The agencies, kinds and freshness states of the principal's connectors, for the filters.</summary>
    public (IReadOnlyList<string> Agencies, IReadOnlyList<string> Kinds, IReadOnlyList<string> States) Choices { get; private set; } = ([], [], []);

    /// <summary>When the page was made, in Vietnam time.</summary>
    public DateTimeOffset Now { get; private set; }

    /// <summary>How often the page refreshes itself, in milliseconds.</summary>
    public int RefreshMilliseconds => (int)options.Value.RefreshInterval.TotalMilliseconds;

    /// <summary>Only connectors of this agency (<c>central</c>: of no agency).</summary>
    [BindProperty(SupportsGet = true)]
    public string? Agency { get; set; }

    /// <summary>Only connectors of this kind.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Kind { get; set; }

    /// <summary>Only connectors in this freshness state.</summary>
    [BindProperty(SupportsGet = true)]
    public string? State { get; set; }

    /// <summary>The column sorted by (one of <see cref="Columns"/>); by what needs attention first when absent.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Sort { get; set; }

    /// <summary>Whether the sort is descending.</summary>
    [BindProperty(SupportsGet = true)]
    public bool Desc { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (!DashboardExtensions.MayUseConnectors(User))
        {
            return Redirect(DashboardExtensions.PathPrefix + "/dossiers");
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    /// <summary>The table alone, for the page's own refresh.</summary>
    public async Task<IActionResult> OnGetRowsAsync(CancellationToken cancellationToken)
    {
        if (!DashboardExtensions.MayUseConnectors(User))
        {
            return Redirect(DashboardExtensions.PathPrefix + "/dossiers");
        }

        await LoadAsync(cancellationToken);
        return Partial("_OverviewTable", this);
    }

    /// <summary>The freshness state as pages and the API name it.</summary>
    public static string Name(FreshnessState state) => JsonNamingPolicy.CamelCase.ConvertName(state.ToString());

    /// <summary>How long ago a moment was, in the largest whole unit; empty for none.</summary>
    public string Ago(DateTimeOffset? at)
    {
        if (at is not { } moment)
        {
            return "";
        }

        var age = Now - moment;
        return age.TotalSeconds < 1 ? "now"
            : age.TotalMinutes < 1 ? $"{(int)age.TotalSeconds} s ago"
            : age.TotalHours < 1 ? $"{(int)age.TotalMinutes} min ago"
            : age.TotalDays < 2 ? $"{(int)age.TotalHours} h ago"
            : $"{(int)age.TotalDays} days ago";
    }

    /// <summary>The query string of this view with one setting changed, for the sort links.</summary>
    public string QueryWith(string sort, bool desc)
    {
        var query = new Dictionary<string, string?> { ["agency"] = Agency, ["kind"] = Kind, ["state"] = State, ["sort"] = sort };
        if (desc)
        {
            query["desc"] = "true";
        }

        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/ui", query.Where(q => !string.IsNullOrEmpty(q.Value)));
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        Now = now.ToOffset(TimeSpan.FromHours(7));
        var activity = await ledger.ActivityAsync(now, cancellationToken);
        var rows = new List<Row>();
        foreach (var (state, freshness) in await Freshness.JudgeAllAsync(catalog, ledger, now, cancellationToken))
        {
            if (ConnectorAccess.MayReach(HttpContext, state.Registration))
            {
                rows.Add(new Row(
                    await ConnectorsApi.ViewAsync(state, ledger, cancellationToken), freshness,
                    activity.GetValueOrDefault(state.Registration.Id) ?? RecentActivity.None, clients.CircuitOf(state.Registration.Id)));
            }
        }

        Total = rows.Count;
        Choices = (
            [.. rows.Select(r => r.AgencyName).Distinct().Order(StringComparer.Ordinal)],
            [.. rows.Select(r => r.View.Kind).Distinct().Order(StringComparer.Ordinal)],
            [.. rows.OrderBy(r => Rank(r.Freshness.State)).Select(r => r.FreshnessName).Distinct()]);
        IEnumerable<Row> shown = rows
            .Where(r => string.IsNullOrEmpty(Agency) || r.AgencyName == Agency)
            .Where(r => string.IsNullOrEmpty(Kind) || r.View.Kind == Kind)
            .Where(r => string.IsNullOrEmpty(State) || r.FreshnessName == State);
        Rows = [.. Sorted(shown)];
    }

    private IEnumerable<Row> Sorted(IEnumerable<Row> rows)
    {
        // Every sort ends with the connector's id, so equal rows keep one order between refreshes.
        var ordered = Sort switch
        {
            "connector" => By(rows, r => r.View.Id),
            "agency" => By(rows, r => r.AgencyName),
            "kind" => By(rows, r => r.View.Kind),
            "newest" => By(rows, r => r.Activity.NewestEventAt ?? DateTimeOffset.MinValue),
            "success" => By(rows, r => r.Freshness.LastSuccessAt ?? DateTimeOffset.MinValue),
            "throughput" => By(rows, r => r.Activity.ChangesLastHour),
            "errors" => By(rows, r => r.Activity.ErrorRate ?? -1),
            "quarantine" => By(rows, r => r.Activity.QuarantineRate ?? -1),
            "circuit" => By(rows, r => Telemetry.ConnectorGauges.CircuitValue(r.Circuit)),
            _ => By(rows, r => Rank(r.Freshness.State)),
        };
        return ordered.ThenBy(r => r.View.Id, StringComparer.Ordinal);
    }

    private IOrderedEnumerable<Row> By<TKey>(IEnumerable<Row> rows, Func<Row, TKey> key) =>
        Desc ? rows.OrderByDescending(key) : rows.OrderBy(key);

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
