using Hub.Connectors;
using Hub.Core.Audit;
using Hub.Core.Sync;
using Hub.Worker.Telemetry;

namespace Hub.Worker.Sync;

/// <summary>What a dry run of a back-fill found at the source.</summary>
/// <param name="InRange">Records changed in the range.</param>
/// <param name="Undated">Records without a readable change time (a back-fill passes them to the write path, as a sync would).</param>
/// <param name="RecordsRead">Every record read, those before and after the range included.</param>
/// <param name="Pages">Pages read.</param>
/// <param name="Complete">Whether the whole range was read; <c>false</c> when the page limit stopped the count first.</param>
public sealed record BackfillCount(int InRange, int Undated, int RecordsRead, int Pages, bool Complete);

/// <summary>Back-fills: a past range of a pull connector's source read again and stored, the connector's cursor untouched.</summary>
public sealed partial class SyncRunner
{
    /// <summary>
    /// The pull source of a connector when it can be back-filled, created as a run would create it; or the reason it
    /// cannot (not a pull kind, or a source that does not implement <see cref="IBackfillSource"/>).
    /// </summary>
    public (IBackfillSource? Source, string? Refusal) BackfillSourceFor(ConnectorRegistration connector)
    {
        ArgumentNullException.ThrowIfNull(connector);
        if (kinds.Find(connector.Kind) is not IPullConnectorKind kind)
        {
            return (null, $"Connector '{connector.Id}' is of kind '{connector.Kind}', which does not pull: only pull connectors are back-filled.");
        }

        var source = kind.CreateSource(new ConnectorContext(
            connector.Id, connector.SourceSystem, connector.Configuration, httpClients.For(connector).Client,
            loggerFactory.CreateLogger("Hub.Connectors." + connector.Kind), timeProvider));
        if (source is IBackfillSource backfill)
        {
            return (backfill, null);
        }

        _ = source.DisposeAsync().AsTask();
        return (null, $"Connector kind '{connector.Kind}' cannot read its source from a given time, so it cannot be back-filled.");
    }

    /// <summary>
    /// Counts the records the source has in <paramref name="range"/>, reading at most <paramref name="maxPages"/> pages,
    /// and stores nothing at all (no status, run, cursor, quarantine or exchange-log entry).
    /// </summary>
    /// <exception cref="ConnectorException">The source failed, or cannot be read from a given time.</exception>
    public async Task<BackfillCount> CountBackfillAsync(IBackfillSource source, BackfillRange range, int maxPages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(range);
        var cursor = source.CursorAt(range.From);
        int inRange = 0, undated = 0, read = 0, pages = 0;
        while (pages < maxPages)
        {
            var page = await source.PullAsync(cursor, cancellationToken);
            pages++;
            read += page.Records.Count;
            var (keep, passedEnd) = InRange(source, page, range);
            undated += keep.Count(r => source.ChangedAt(r) is null);
            inRange += keep.Count(r => source.ChangedAt(r) is not null);
            if (passedEnd || !page.HasMore)
            {
                return new BackfillCount(inRange, undated, read, pages, Complete: true);
            }

            cursor = page.Cursor;
        }

        return new BackfillCount(inRange, undated, read, pages, Complete: false);
    }

    /// <summary>
    /// Back-fills a connector: reads its source from <paramref name="range"/>'s start, stores the records changed in the
    /// range through the normal write path (what the store has is ignored), and stops after the first page past the
    /// range's end. The connector's cursor does not move; the run's own <c>cursor_after</c> is its progress, so a back-fill
    /// killed at any point resumes there: from the run <paramref name="resumeRunId"/> when given (a retry), or else from
    /// an unfinished back-fill of the same range whose process died (first). Takes the connector's run lock like a sync, waiting
    /// up to <see cref="ReprocessWait"/> for a run in progress before it is recorded as skipped.
    /// </summary>
    /// <exception cref="UnknownConnectorException">No connector has the id.</exception>
    public async Task<SyncRunRecord> BackfillAsync(string connectorId, BackfillRange range, long? resumeRunId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(range);
        using var activity = HubTelemetry.StartRun(connectorId, SyncTrigger.Backfill);
        var lease = await ledger.TryAcquireAsync(connectorId, cancellationToken);
        for (var waited = TimeSpan.Zero; lease is null && waited < ReprocessWait; waited += ReprocessPoll)
        {
            await Task.Delay(ReprocessPoll, timeProvider, cancellationToken);
            lease = await ledger.TryAcquireAsync(connectorId, cancellationToken);
        }

        await using var _ = lease;
        if (lease is null)
        {
            LogSkipped(logger, connectorId);
            var skipped = await ledger.RecordSkippedAsync(connectorId, SyncTrigger.Backfill, cancellationToken, range, resumeRunId);
            HubTelemetry.RunEnded(connectorId, RunOutcome.Skipped);
            HubTelemetry.EndRun(activity, skipped, RunOutcome.Skipped, null);
            return await ledger.GetRunAsync(skipped, cancellationToken) ?? throw new InvalidOperationException($"Run {skipped} vanished.");
        }

        var state = await catalog.GetAsync(connectorId, cancellationToken) ?? throw new UnknownConnectorException(connectorId);
        var connector = state.Registration;

        // Where to start: the progress of a back-fill of the range whose process died (this very job, run again by the
        // scheduler after a crash), else of the run retried, else the range's start.
        var resumed = await ledger.FindUnfinishedBackfillAsync(connectorId, range, cancellationToken)
            ?? (resumeRunId is { } retried
                && await ledger.GetRunAsync(retried, cancellationToken) is { Trigger: SyncTrigger.Backfill } run && run.ConnectorId == connectorId && run.Range == range
                    ? run
                    : null);

        var http = httpClients.For(connector);
        var retriesBefore = http.Retries;
        var pages = 0;
        var total = PageCounts.Zero;
        RunFailure? failure = null;
        ExchangeRecord? rejected = null;
        PullPage? unstored = null;
        var pulling = false;
        long runId = 0;
        try
        {
            var mapper = MapperFor(connector);
            var kind = kinds.GetPull(connector.Kind);
            await using var pullSource = kind.CreateSource(new ConnectorContext(
                connector.Id, connector.SourceSystem, connector.Configuration, http.Client,
                loggerFactory.CreateLogger("Hub.Connectors." + connector.Kind), timeProvider));
            var source = pullSource as IBackfillSource ?? throw new ConnectorException(
                FailureSide.Configuration, false, $"Connector kind '{connector.Kind}' cannot read its source from a given time, so it cannot be back-filled.");
            var cursor = resumed?.CursorAfter ?? source.CursorAt(range.From);
            runId = await ledger.StartRunAsync(lease, SyncTrigger.Backfill, cursor, connector.Mapping.Version, cancellationToken, range, resumed?.Id ?? resumeRunId);
            LogStarted(logger, connectorId, runId, SyncTrigger.Backfill);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                pulling = true;
                PullPage page;
                using (HubTelemetry.StartStep(HubTelemetry.PagePull, connectorId))
                {
                    page = await source.PullAsync(cursor, cancellationToken);
                }

                pulling = false;
                unstored = page;
                pages++;
                var (keep, passedEnd) = InRange(source, page, range);
                var pageLedger = new IngestLedger(runId, MoveCursor: false, cursor, page.Cursor)
                {
                    Message = PageMessage(connector, page, runId),
                    Sent = [.. page.Requests.Select(r => SentMessage(connector, r, runId))],
                };
                IngestResult stored;
                using (HubTelemetry.StartStep(HubTelemetry.PageStore, connectorId))
                {
                    stored = await ingest.StoreAsync(connector, mapper, keep, pageLedger, cancellationToken);
                }

                unstored = null;
                total = total.Add(stored.Counts);
                cursor = page.Cursor;
                if (passedEnd || !page.HasMore)
                {
                    failure = TooManyBad(connector, total);
                    break;
                }
            }
        }
        catch (Exception e) when (Classify(e, cancellationToken) is { } classified)
        {
            failure = classified;
            if (runId == 0)
            {
                // Failed before the run was recorded (the mapping or the kind): record it, so that the operator sees why.
                runId = await ledger.StartRunAsync(lease, SyncTrigger.Backfill, resumed?.CursorAfter, connector.Mapping.Version, CancellationToken.None, range, resumed?.Id ?? resumeRunId);
            }

            rejected = RejectedPage(connector, runId, pulling, unstored, e, classified, cancellationToken);
        }

        return await FinishAsync(connectorId, runId, rejected, pages + (int)(http.Retries - retriesBefore), failure, total, activity);
    }

    /// <summary>
    /// The records of a page to store for a range: those changed in it, and those without a readable change time; and
    /// whether the page reached past the range's end (the feed is ordered by change time, so no later page is in range).
    /// </summary>
    private static (List<RawRecord> Keep, bool PassedEnd) InRange(IBackfillSource source, PullPage page, BackfillRange range)
    {
        var keep = new List<RawRecord>(page.Records.Count);
        var passedEnd = false;
        foreach (var record in page.Records)
        {
            switch (source.ChangedAt(record))
            {
                case null:
                    keep.Add(record);
                    break;
                case { } at when range.Contains(at):
                    keep.Add(record);
                    break;
                case { } at when at >= range.To:
                    passedEnd = true;
                    break;
            }
        }

        return (keep, passedEnd);
    }
}
