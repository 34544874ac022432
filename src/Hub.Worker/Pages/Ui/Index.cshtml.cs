using Hub.Core.Sync;
using Hub.Worker.Api;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Hub.Worker.Pages.Ui;

/// <summary>The overview: every connector the signed-in principal maintains, with its state and last run.</summary>
public sealed class IndexModel(ConnectorCatalog catalog, SyncLedger ledger, TimeProvider time) : PageModel
{
    /// <summary>The connectors shown.</summary>
    public IReadOnlyList<ConnectorsApi.ConnectorView> Connectors { get; private set; } = [];

    /// <summary>When the page was made, in Vietnam time.</summary>
    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Now = time.GetUtcNow().ToOffset(TimeSpan.FromHours(7));
        var views = new List<ConnectorsApi.ConnectorView>();
        foreach (var state in await catalog.ListAsync(cancellationToken))
        {
            if (ConnectorAccess.MayReach(HttpContext, state.Registration))
            {
                views.Add(await ConnectorsApi.ViewAsync(state, ledger, cancellationToken));
            }
        }

        Connectors = views;
    }
}
