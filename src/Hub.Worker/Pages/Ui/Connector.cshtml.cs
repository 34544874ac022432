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
/// One connector: its state, its throughput and lag over the last 24 hours, runs and open quarantine, and the actions on
/// it (sync now, pause, resume, re-process, back-fill after a count, retry of a failed run), each with a reason recorded
/// in the exchange log with the signed-in principal as the actor.
/// </summary>
public sealed class ConnectorModel(
    ConnectorCatalog catalog, SyncLedger ledger, SyncRunner runner, SyncScheduler scheduler, ExchangeLog log, TimeProvider time) : PageModel
{
    /// <summary>The connector's activity over the last 24 hours, hour by hour (from its runs).</summary>
    public IReadOnlyList<ActivityBucket> Activity { get; private set; } = [];

    /// <summary>
    /// The range last counted and the count's reason, offered for the back-fill, as the form sent them: <c>from|to|reason</c>
    /// (the ends were read as ISO dates, so hold no bar). One string: TempData reads a lone date, or a reason that looks like
    /// one, back as a <see cref="DateTime"/>.
    /// </summary>
    [TempData]
    public string? CountedRange { get; set; }

    /// <summary>The start of the range last counted.</summary>
    public string? CountedFrom => CountedRange?.Split('|', 3)[0];

    /// <summary>The end of the range last counted.</summary>
    public string? CountedTo => CountedRange?.Split('|', 3) is [_, var to, _] ? to : null;

    /// <summary>The reason of the count, offered again for the back-fill.</summary>
    public string? CountedReason => CountedRange?.Split('|', 3) is [_, _, var reason] ? reason : null;

    /// <summary>The records counted in that range.</summary>
    [TempData]
    public int? Counted { get; set; }

    /// <summary>Which runs may be retried (failed, abandoned or skipped ones that no later success made pointless).</summary>
    public IReadOnlySet<long> Retryable { get; private set; } = new HashSet<long>();

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

    public async Task<IActionResult> OnPostCountAsync(string id, string? from, string? to, string? reason, CancellationToken cancellationToken)
    {
        var (state, denied) = await ConnectorAccess.FindAsync(HttpContext, id, catalog, cancellationToken);
        if (denied is not null || state is null)
        {
            return NotFound();
        }

        if (Reason(reason) is not { } why || RangeOf(state, from, to) is not { } range)
        {
            return RedirectToPage(new { id });
        }

        var (count, _, refused) = await ConnectorsApi.CountBackfillAsync(state, range, HubUser.Of(User)!.Id, why, runner, log, time, cancellationToken);
        if (refused is not null)
        {
            (Message, Failed) = (ConnectorsApi.Detail(refused), true);
            return RedirectToPage(new { id });
        }

        (Message, Failed) = (count!.Message, false);
        (CountedRange, Counted) = ($"{from}|{to}|{why}", count.Records);
        return RedirectToPage(new { id });
    }

    public async Task<IActionResult> OnPostBackfillAsync(string id, string? from, string? to, string? reason, CancellationToken cancellationToken)
    {
        var (state, denied) = await ConnectorAccess.FindAsync(HttpContext, id, catalog, cancellationToken);
        if (denied is not null || state is null)
        {
            return NotFound();
        }

        if (Reason(reason) is not { } why || RangeOf(state, from, to) is not { } range)
        {
            return RedirectToPage(new { id });
        }

        var (jobId, _, refused) = await ConnectorsApi.QueueBackfillAsync(state, range, null, HubUser.Of(User)!.Id, why, runner, scheduler, log, time, cancellationToken);
        (Message, Failed) = refused is null
            ? ($"A back-fill of {id} from {from} to {to} is queued (job {jobId}).", false)
            : (ConnectorsApi.Detail(refused), true);
        return RedirectToPage(new { id });
    }

    public async Task<IActionResult> OnPostRetryAsync(string id, long runId, string? reason, CancellationToken cancellationToken)
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

        var (queued, _, refused) = await ConnectorsApi.RetryRunAsync(state, runId, HubUser.Of(User)!.Id, why, ledger, runner, scheduler, log, time, cancellationToken);
        (Message, Failed) = refused is null
            ? ($"Run {runId} is retried: a {(queued!.Trigger == SyncTrigger.Backfill ? "back-fill" : queued.Trigger == SyncTrigger.Reprocess ? "re-processing" : "sync")} of {id} is queued (job {queued.JobId}).", false)
            : (ConnectorsApi.Detail(refused), true);
        return RedirectToPage(new { id });
    }

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
        Activity = ConnectorActivity.Buckets(await ledger.RunsEndedSinceAsync(id, ConnectorActivity.Since(now), cancellationToken), now);
        var retryable = new HashSet<long>();
        foreach (var run in Runs.Where(r => r.Outcome is RunOutcome.Failed or RunOutcome.Abandoned or RunOutcome.Skipped))
        {
            if (BackfillRules.RetryRefusal(run, await ledger.LaterSuccessAsync(run, cancellationToken)) is null)
            {
                retryable.Add(run.Id);
            }
        }

        Retryable = retryable;
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

    /// <summary>The range given, or <c>null</c> after saying what is wrong with it.</summary>
    private BackfillRange? RangeOf(ConnectorState state, string? from, string? to)
    {
        var (range, problem) = BackfillRules.Parse(from, to, state.Registration.TimeZone, time.GetUtcNow());
        if (range is null)
        {
            (Message, Failed) = (problem, true);
        }

        return range;
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
