using Hub.Core.Audit;
using Hub.Core.Identity;
using Hub.Core.Sync;
using Hub.Worker.Api;
using Hub.Worker.Identity;
using Hub.Worker.Sync;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Hub.Worker.Pages.Ui;

/// <summary>
/// One connector: its state, runs and open quarantine, and the actions on it (sync now, pause, resume, re-process),
/// each with a reason recorded in the exchange log with the signed-in principal as the actor.
/// </summary>
public sealed class ConnectorModel(
    ConnectorCatalog catalog, SyncLedger ledger, SyncScheduler scheduler, ExchangeLog log, TimeProvider time) : PageModel
{
    /// <summary>The connector shown.</summary>
    public ConnectorsApi.ConnectorView? Connector { get; private set; }

    /// <summary>Its freshness against its own schedule, now.</summary>
    public FreshnessVerdict? Freshness { get; private set; }

    /// <summary>Its latest runs.</summary>
    public IReadOnlyList<SyncRunRecord> Runs { get; private set; } = [];

    /// <summary>Its open quarantined records (reasons only, never payloads).</summary>
    public IReadOnlyList<QuarantinedRecord> Quarantine { get; private set; } = [];

    /// <summary>What the last action did.</summary>
    [TempData]
    public string? Message { get; set; }

    /// <summary>Whether the last action was refused.</summary>
    [TempData]
    public bool Failed { get; set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    public Task<IActionResult> OnPostSyncAsync(string id, string? reason, CancellationToken cancellationToken) =>
        QueueAsync(id, reason, SyncTrigger.Manual, cancellationToken);

    public Task<IActionResult> OnPostReprocessAsync(string id, string? reason, CancellationToken cancellationToken) =>
        QueueAsync(id, reason, SyncTrigger.Reprocess, cancellationToken);

    public Task<IActionResult> OnPostPauseAsync(string id, string? reason, CancellationToken cancellationToken) =>
        StepAsync(id, reason, "pause", cancellationToken);

    public Task<IActionResult> OnPostResumeAsync(string id, string? reason, CancellationToken cancellationToken) =>
        StepAsync(id, reason, "resume", cancellationToken);

    private async Task<bool> LoadAsync(string id, CancellationToken cancellationToken)
    {
        var (state, denied) = await ConnectorAccess.FindAsync(HttpContext, id, catalog, cancellationToken);
        if (denied is not null || state is null)
        {
            return false;
        }

        Connector = await ConnectorsApi.ViewAsync(state, ledger, cancellationToken);
        var now = time.GetUtcNow();
        Freshness = ConnectorFreshness.Judge(state, (await ledger.FreshnessFactsAsync(cancellationToken)).GetValueOrDefault(id) ?? new FreshnessFacts(now, null), now);
        Runs = await ledger.ListRunsAsync(id, 50, cancellationToken);
        Quarantine = await ledger.ListQuarantineAsync(id, openOnly: true, 0, 100, cancellationToken);
        return true;
    }

    private async Task<IActionResult> StepAsync(string id, string? reason, string step, CancellationToken cancellationToken)
    {
        var (state, denied) = await ConnectorAccess.FindAsync(HttpContext, id, catalog, cancellationToken);
        if (denied is not null || state is null)
        {
            return NotFound();
        }

        if (Reason(reason) is not { } why)
        {
            return RedirectToPage(new { id });
        }

        var principal = HubUser.Of(User)!;
        try
        {
            var to = await catalog.StepAsync(id, ConnectorCatalog.Steps[step], principal.Id, principal.Has(Roles.Operator), why, cancellationToken);
            Message = $"{id} is {ConnectorCatalog.Name(to)}.";
        }
        catch (Exception e) when (e is ConnectorConflictException or UnauthorizedAccessException)
        {
            (Message, Failed) = (e.Message, true);
        }

        return RedirectToPage(new { id });
    }

    private async Task<IActionResult> QueueAsync(string id, string? reason, SyncTrigger trigger, CancellationToken cancellationToken)
    {
        var (state, denied) = await ConnectorAccess.FindAsync(HttpContext, id, catalog, cancellationToken);
        if (denied is not null || state is null)
        {
            return NotFound();
        }

        if (Reason(reason) is not { } why)
        {
            return RedirectToPage(new { id });
        }

        var (jobId, _, refused) = await ConnectorsApi.QueueAsync(state, trigger, HubUser.Of(User)!.Id, why, scheduler, log, time, cancellationToken);
        (Message, Failed) = refused is null
            ? ($"{(trigger == SyncTrigger.Reprocess ? "Re-processing" : "A sync")} of {id} is queued (job {jobId}).", false)
            : ($"{id} is {ConnectorCatalog.Name(state.Lifecycle)}: nothing was queued.", true);
        return RedirectToPage(new { id });
    }

    /// <summary>The reason given, or <c>null</c> after saying what is wrong with it.</summary>
    private string? Reason(string? reason)
    {
        var why = reason?.Trim();
        if (string.IsNullOrEmpty(why) || why.Length > Actors.MaxReasonLength || why.Any(char.IsControl))
        {
            (Message, Failed) = ($"Give a reason (1 to {Actors.MaxReasonLength} characters): it is recorded with the action.", true);
            return null;
        }

        return why;
    }
}
