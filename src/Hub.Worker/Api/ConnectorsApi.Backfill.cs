using System.Globalization;
using System.Text.Json;
using Hub.Connectors;
using Hub.Core.Audit;
using Hub.Core.Sync;
using Hub.Worker.Sync;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Hub.Worker.Api;

/// <summary>
/// Back-fills and retries (docs/decisions/0017-backfill.md). Each request is an administrative entry of the exchange log
/// with the caller and the reason: <c>backfill.counted</c> (a dry run, with its count), <c>backfill.requested</c> (with the
/// range and the job id) and <c>run.retried</c> (with the run retried and the job id).
/// </summary>
public static partial class ConnectorsApi
{
    /// <summary>How long a dry run may read the source, someone waiting for the answer.</summary>
    public static readonly TimeSpan CountTimeout = TimeSpan.FromMinutes(2);

    private static async Task<IResult> BackfillAsync(
        string id, string? from, string? to, bool? dryRun, HttpContext http, ConnectorCatalog catalog, SyncRunner runner, SyncScheduler scheduler,
        ExchangeLog log, TimeProvider time, CancellationToken cancellationToken)
    {
        var (state, actor, reason, refusedCaller) = await CallerAndConnectorAsync(id, http, catalog, cancellationToken);
        if (refusedCaller is not null)
        {
            return refusedCaller;
        }

        var (range, problem) = BackfillRules.Parse(from, to, state.Registration.TimeZone, time.GetUtcNow());
        if (range is null)
        {
            return Results.Problem(title: "Bad back-fill range", detail: problem, statusCode: StatusCodes.Status400BadRequest);
        }

        if (dryRun == true)
        {
            var (count, countEntry, countRefused) = await CountBackfillAsync(state, range, actor, reason, runner, log, time, cancellationToken);
            if (countRefused is not null)
            {
                return countRefused;
            }

            http.Response.Headers[ExchangeEntryHeader] = countEntry.ToString(CultureInfo.InvariantCulture);
            return Results.Ok(count);
        }

        var (jobId, entry, refused) = await QueueBackfillAsync(state, range, null, actor, reason, runner, scheduler, log, time, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        http.Response.Headers[ExchangeEntryHeader] = entry.ToString(CultureInfo.InvariantCulture);
        return Results.Accepted(value: new BackfillQueuedView(id, SyncTrigger.Backfill, range.From, range.To, jobId!));
    }

    private static async Task<IResult> RetryAsync(
        string id, long runId, HttpContext http, ConnectorCatalog catalog, SyncLedger ledger, SyncRunner runner, SyncScheduler scheduler,
        ExchangeLog log, TimeProvider time, CancellationToken cancellationToken)
    {
        var (state, actor, reason, refusedCaller) = await CallerAndConnectorAsync(id, http, catalog, cancellationToken);
        if (refusedCaller is not null)
        {
            return refusedCaller;
        }

        var (queued, entry, refused) = await RetryRunAsync(state, runId, actor, reason, ledger, runner, scheduler, log, time, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        http.Response.Headers[ExchangeEntryHeader] = entry.ToString(CultureInfo.InvariantCulture);
        return Results.Accepted(value: queued);
    }

    /// <summary>The problem's detail of a refusal, for the dashboard's message.</summary>
    internal static string Detail(IResult refused) => refused is ProblemHttpResult problem ? problem.ProblemDetails.Detail ?? problem.ProblemDetails.Title ?? "" : "";

    /// <summary>
    /// Counts the source's records in the range (a dry run: nothing is stored) and logs <c>backfill.counted</c> with the
    /// count; or the problem that prevents it (409: not a back-fillable active or paused pull connector; 502: the source failed).
    /// </summary>
    internal static async Task<(BackfillCountView? Count, long Entry, IResult? Refused)> CountBackfillAsync(
        ConnectorState state, BackfillRange range, string actor, string? reason, SyncRunner runner, ExchangeLog log, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var connector = state.Registration;
        var (source, refused) = BackfillSource(state, runner);
        if (source is null)
        {
            return (null, 0, refused);
        }

        BackfillCount count;
        await using (source)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(CountTimeout);
            try
            {
                count = await runner.CountBackfillAsync(source, range, BackfillRules.MaxCountPages, limit.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return (null, 0, Results.Problem(
                    title: "The source failed",
                    detail: $"Counting took more than {CountTimeout.TotalMinutes:0} minutes; the source is slow or the range is large: back-fill without counting, or count a shorter range.",
                    statusCode: StatusCodes.Status502BadGateway));
            }
            catch (Exception e) when (SyncRunner.Classify(e, cancellationToken) is { } failure)
            {
                return (null, 0, failure.Side == FailureSide.Configuration
                    ? Conflict("Connector cannot be back-filled", failure.Reason)
                    : Results.Problem(title: "The source failed", detail: $"Counting stopped: {failure.Reason}", statusCode: StatusCodes.Status502BadGateway));
            }
        }

        var view = new BackfillCountView(
            connector.Id, range.From, range.To, count.InRange, count.Undated, count.RecordsRead, count.Pages, count.Complete,
            count.Complete
                ? $"The source has {count.InRange} record(s) changed in the range{(count.Undated > 0 ? $", and {count.Undated} without a readable change time" : "")} ({count.Pages} page(s) read)."
                : $"The count stopped after {count.Pages} pages (the limit): the source has at least {count.InRange} record(s) in the range. Count a shorter range, or back-fill without counting.");
        var entry = await log.AppendAsync(new ExchangeRecord
        {
            Kind = ExchangeRecord.AdminKind,
            ConnectorId = connector.Id,
            Transport = "api",
            ReceivedAt = time.GetUtcNow(),
            Outcome = "done",
            Reason = reason,
            MappingVersion = connector.Mapping.Version,
            Actor = actor,
            Action = "backfill.counted",
            Detail = JsonSerializer.Serialize(new
            {
                from = range.From, to = range.To, inRange = count.InRange, undated = count.Undated, recordsRead = count.RecordsRead, pages = count.Pages, complete = count.Complete,
            }),
        }, cancellationToken);
        return (view, entry, null);
    }

    /// <summary>
    /// Queues a back-fill of the range (resuming from run <paramref name="resumeRunId"/> when given) and logs
    /// <c>backfill.requested</c>; or the problem that prevents it.
    /// </summary>
    internal static async Task<(string? JobId, long Entry, IResult? Refused)> QueueBackfillAsync(
        ConnectorState state, BackfillRange range, long? resumeRunId, string actor, string? reason, SyncRunner runner, SyncScheduler scheduler,
        ExchangeLog log, TimeProvider time, CancellationToken cancellationToken)
    {
        var connector = state.Registration;
        var (source, refused) = BackfillSource(state, runner);
        if (source is null)
        {
            return (null, 0, refused);
        }

        await using (source)
        {
            try
            {
                _ = source.CursorAt(range.From);
            }
            catch (ConnectorException e)
            {
                return (null, 0, Conflict("Connector cannot be back-filled", e.Message));
            }
        }

        if (scheduler.Storage is null)
        {
            return (null, 0, SchedulerOff());
        }

        var jobId = scheduler.EnqueueBackfill(connector.Id, range, resumeRunId);
        var entry = await log.AppendAsync(new ExchangeRecord
        {
            Kind = ExchangeRecord.AdminKind,
            ConnectorId = connector.Id,
            Transport = "api",
            ReceivedAt = time.GetUtcNow(),
            Outcome = "done",
            Reason = reason,
            MappingVersion = connector.Mapping.Version,
            Actor = actor,
            Action = resumeRunId is null ? "backfill.requested" : "run.retried",
            Detail = JsonSerializer.Serialize(new { jobId, from = range.From, to = range.To, runId = resumeRunId }),
        }, cancellationToken);
        return (jobId, entry, null);
    }

    /// <summary>
    /// Retries a run of the connector (<see cref="BackfillRules.RetryRefusal"/>): a back-fill over the same range from where
    /// it stopped, a sync from the current cursor, a re-processing; logs <c>run.retried</c> naming the run. Or the problem
    /// that prevents it: 404 for a run of another connector, 409 for a run that cannot or need not be retried.
    /// </summary>
    internal static async Task<(RetryQueuedView? Queued, long Entry, IResult? Refused)> RetryRunAsync(
        ConnectorState state, long runId, string actor, string? reason, SyncLedger ledger, SyncRunner runner, SyncScheduler scheduler,
        ExchangeLog log, TimeProvider time, CancellationToken cancellationToken)
    {
        var id = state.Registration.Id;
        var run = await ledger.GetRunAsync(runId, cancellationToken);
        if (run is null || run.ConnectorId != id)
        {
            return (null, 0, Results.Problem(
                title: "Run not found", detail: $"Connector '{id}' has no run {runId}.", statusCode: StatusCodes.Status404NotFound));
        }

        if (BackfillRules.RetryRefusal(run, await ledger.LaterSuccessAsync(run, cancellationToken)) is { } refusal)
        {
            return (null, 0, Conflict("Run not retried", refusal));
        }

        if (run.Trigger == SyncTrigger.Backfill)
        {
            var (backfillJob, backfillEntry, backfillRefused) = await QueueBackfillAsync(
                state, run.Range!, run.Id, actor, reason, runner, scheduler, log, time, cancellationToken);
            return backfillRefused is not null
                ? (null, 0, backfillRefused)
                : (new RetryQueuedView(id, run.Id, SyncTrigger.Backfill, backfillJob!), backfillEntry, null);
        }

        var trigger = run.Trigger == SyncTrigger.Reprocess ? SyncTrigger.Reprocess : SyncTrigger.Manual;
        if (trigger == SyncTrigger.Manual ? state.Lifecycle != ConnectorLifecycle.Active : state.Lifecycle is not (ConnectorLifecycle.Active or ConnectorLifecycle.Paused))
        {
            return (null, 0, Conflict("Connector not active", $"Connector '{id}' is {ConnectorCatalog.Name(state.Lifecycle)}: "
                + (trigger == SyncTrigger.Manual ? "only an active connector syncs." : "only an active or paused connector's quarantine is re-processed.")));
        }

        if (scheduler.Storage is null)
        {
            return (null, 0, SchedulerOff());
        }

        var jobId = trigger == SyncTrigger.Reprocess ? scheduler.EnqueueSync(id, SyncTrigger.Reprocess) : scheduler.EnqueueRetry(id, run.Id);
        var entry = await log.AppendAsync(new ExchangeRecord
        {
            Kind = ExchangeRecord.AdminKind,
            ConnectorId = id,
            Transport = "api",
            ReceivedAt = time.GetUtcNow(),
            Outcome = "done",
            Reason = reason,
            MappingVersion = state.Registration.Mapping.Version,
            Actor = actor,
            Action = "run.retried",
            Detail = JsonSerializer.Serialize(new { jobId, runId = run.Id, trigger = trigger.ToString().ToLowerInvariant() }),
        }, cancellationToken);
        return (new RetryQueuedView(id, run.Id, trigger, jobId), entry, null);
    }

    /// <summary>A back-fill (and a dry run) needs an active or paused connector: a paused one is back-filled while its schedule rests.</summary>
    /// <summary>The connector's back-fill source, or the 409 that says why it cannot be back-filled (its lifecycle or its kind).</summary>
    private static (IBackfillSource? Source, IResult? Refused) BackfillSource(ConnectorState state, SyncRunner runner)
    {
        if (state.Lifecycle is not (ConnectorLifecycle.Active or ConnectorLifecycle.Paused))
        {
            return (null, Conflict("Connector not active",
                $"Connector '{state.Registration.Id}' is {ConnectorCatalog.Name(state.Lifecycle)}: only an active or paused pull connector is back-filled."));
        }

        var (source, refusal) = runner.BackfillSourceFor(state.Registration);
        return source is null ? (null, Conflict("Connector cannot be back-filled", refusal!)) : (source, null);
    }

    private static IResult Conflict(string title, string detail) => Results.Problem(title: title, detail: detail, statusCode: StatusCodes.Status409Conflict);

    private static IResult SchedulerOff() => Results.Problem(
        title: "Scheduler off",
        detail: "This hub process does not run syncs (Hub:Scheduler:Enabled is false); ask a process that does.",
        statusCode: StatusCodes.Status503ServiceUnavailable);

    /// <summary>What a dry run found: the records the source has in the range.</summary>
    public sealed record BackfillCountView(
        string ConnectorId, DateTimeOffset From, DateTimeOffset To, int Records, int Undated, int RecordsRead, int Pages, bool Complete, string Message);

    /// <summary>A back-fill queued.</summary>
    public sealed record BackfillQueuedView(string ConnectorId, SyncTrigger Trigger, DateTimeOffset From, DateTimeOffset To, string JobId);

    /// <summary>A retry queued: the run retried and the job of the new run.</summary>
    public sealed record RetryQueuedView(string ConnectorId, long RunId, SyncTrigger Trigger, string JobId);
}
