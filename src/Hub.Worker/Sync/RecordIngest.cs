using System.Text.Json;
using Hub.Connectors;
using Hub.Contracts;
using Hub.Core.Audit;
using Hub.Core.Mapping;
using Hub.Core.Store;
using Hub.Core.Sync;
using Hub.Worker.Telemetry;

namespace Hub.Worker.Sync;

/// <summary>
/// The one way raw records enter the store, pulled or pushed: map each record with the connector's mapping, write
/// the changes, and in the same transaction keep the bad records in quarantine (with their reasons) and record the
/// page in the ledger (a run's counters and cursor). Nothing is half-written: either all of it is committed or none.
/// </summary>
public sealed class RecordIngest(StatusStore store, TimeProvider timeProvider)
{
    /// <summary>Maps and stores records.</summary>
    /// <param name="connector">The connector they came from.</param>
    /// <param name="mapper">Its compiled mapping.</param>
    /// <param name="records">The raw records.</param>
    /// <param name="ledger">What else to record in the same transaction.</param>
    /// <param name="cancellationToken">Cancels; nothing is committed.</param>
    /// <exception cref="ReplayedDeliveryException">The ledger's <see cref="IngestLedger.Delivery"/> was already recorded; nothing is committed.</exception>
    public async Task<IngestResult> StoreAsync(
        ConnectorRegistration connector, RecordMapper mapper, IReadOnlyList<RawRecord> records, IngestLedger ledger, CancellationToken cancellationToken)
    {
        var changes = new List<DossierChange>(records.Count);
        var changeOrigins = new List<int>(records.Count);
        var steps = new List<DossierStep>();
        var stepOrigins = new List<int>();
        var bad = new Dictionary<int, string>();
        for (var i = 0; i < records.Count; i++)
        {
            var mapped = mapper.Map(records[i], connector.SourceSystem);
            if (mapped.QuarantineReason is { } reason)
            {
                bad[i] = reason;
                continue;
            }

            if (mapped.Change is { } change)
            {
                changes.Add(change);
                changeOrigins.Add(i);
            }

            foreach (var step in mapped.Steps)
            {
                steps.Add(step);
                stepOrigins.Add(i);
            }
        }

        IngestResult? outcome = null;
        await store.WriteAsync(new ChangeBatch { Dossiers = changes, Steps = steps }, async (connection, result, ct) =>
        {
            if (ledger.Delivery is { } delivery)
            {
                // First, so that a replayed delivery stops here and rolls back what the batch wrote.
                await WebhookDeliveries.RecordAsync(connection, connector.Id, delivery, ct);
            }

            // Runs again if the store retries the transaction: start from the mapping failures each time.
            var quarantined = new SortedDictionary<int, string>(bad);
            foreach (var rejected in result.Rejected)
            {
                var origin = rejected.Kind == RecordKind.DossierChange ? changeOrigins[rejected.Index] : stepOrigins[rejected.Index];
                quarantined.TryAdd(origin, "rejected by the store: " + rejected.Reason);
            }

            var now = timeProvider.GetUtcNow();
            var entries = quarantined
                .Select(q => new QuarantineEntry(KindName(records[q.Key].Kind), records[q.Key].Payload.GetRawText(), q.Value, connector.Mapping.Version))
                .ToList();
            var counts = new PageCounts(
                Pages: 1,
                RecordsRead: records.Count,
                ChangesStored: result.HistoryRowsAdded,
                Unchanged: result.DossierChangesReceived - result.HistoryRowsAdded - result.Rejected.Count(r => r.Kind == RecordKind.DossierChange),
                StepsStored: result.StepRowsChanged,
                Irregular: result.IrregularTransitions,
                Quarantined: quarantined.Count);

            await SyncLedger.QuarantineAsync(connection, connector.Id, ledger.RunId, entries, now, ct);
            if (ledger.RunId is { } runId)
            {
                await SyncLedger.AddPageAsync(connection, runId, counts, ledger.CursorAfter, ct);
            }

            if (NewestEventTime(changes, result.Rejected) is { } newest)
            {
                await SyncLedger.NoteNewestEventAsync(connection, connector.Id, newest, ct);
            }

            if (ledger.MoveCursor)
            {
                await SyncLedger.MoveCursorAsync(connection, connector.Id, ledger.CursorBefore, ledger.CursorAfter, now, ct);
            }

            if (ledger.ResolveQuarantined is { } resolve)
            {
                var resolved = resolve.Where((_, i) => !quarantined.ContainsKey(i)).ToList();
                await SyncLedger.ResolveQuarantinedAsync(connection, resolved, ledger.RunId ?? 0, now, ct);
            }

            var problems = quarantined.Select(q => new IngestProblem(q.Key, q.Value)).ToList();
            foreach (var sent in ledger.Sent)
            {
                await ExchangeLog.AppendAsync(connection, sent, now, ct);
            }

            if (ledger.Message is { } message)
            {
                // The message that brought these records, committed exactly when they are.
                await ExchangeLog.AppendAsync(connection, MessageEntry(message, connector, ledger, changes, counts, problems), now, ct);
            }

            outcome = new IngestResult(counts, problems);
        }, cancellationToken);

        // Counted once committed (the store may run the transaction again), for pulls, pushes and re-processing alike.
        HubTelemetry.PageStored(connector.Id, outcome!.Counts);
        return outcome;
    }

    private static ExchangeRecord MessageEntry(
        ExchangeRecord message, ConnectorRegistration connector, IngestLedger ledger, List<DossierChange> changes,
        PageCounts counts, List<IngestProblem> problems)
    {
        // Steps name their dossier by the source's native id only; the changes carry the codes.
        var dossiers = changes.Select(c => c.DossierCode);
        var detail = JsonSerializer.Serialize(new
        {
            recordsRead = counts.RecordsRead,
            changesStored = counts.ChangesStored,
            unchanged = counts.Unchanged,
            stepsStored = counts.StepsStored,
            irregular = counts.Irregular,
            quarantined = problems.Select(p => new { index = p.Index, reason = p.Reason }),
        });
        var admin = message.Kind == ExchangeRecord.AdminKind;
        return message with
        {
            ConnectorId = message.ConnectorId ?? connector.Id,
            Direction = admin ? message.Direction : message.Direction ?? "inbound",
            Outcome = admin ? "done" : "stored",
            Dossiers = [.. message.Dossiers, .. dossiers],
            MappingVersion = message.MappingVersion ?? connector.Mapping.Version,
            RunId = message.RunId ?? ledger.RunId,
            Detail = message.Detail ?? detail,
        };
    }

    /// <summary>The newest event time among the changes the store accepted (a rejected one may carry any date).</summary>
    private static DateTimeOffset? NewestEventTime(List<DossierChange> changes, IReadOnlyList<RejectedRecord> rejected)
    {
        var refused = rejected.Where(r => r.Kind == RecordKind.DossierChange).Select(r => r.Index).ToHashSet();
        DateTimeOffset? newest = null;
        for (var i = 0; i < changes.Count; i++)
        {
            if (!refused.Contains(i) && (newest is null || changes[i].EventTime > newest))
            {
                newest = changes[i].EventTime;
            }
        }

        return newest;
    }

    private static string KindName(RawRecordKind kind) => kind == RawRecordKind.Step ? "step" : "dossier";
}

/// <summary>What to record in the ledger with an ingested set of records.</summary>
/// <param name="RunId">The run the records belong to; <c>null</c> for pushed records outside runs.</param>
/// <param name="MoveCursor">Whether to move the connector's cursor from <paramref name="CursorBefore"/> to <paramref name="CursorAfter"/>.</param>
/// <param name="CursorBefore">The cursor the records were read after.</param>
/// <param name="CursorAfter">The cursor after them: the run's progress, recorded on the run whether or not the connector's cursor moves.</param>
/// <param name="ResolveQuarantined">For re-processing: the quarantined record id of each record; those stored are marked resolved.</param>
public sealed record IngestLedger(long? RunId, bool MoveCursor = false, string? CursorBefore = null, string? CursorAfter = null, IReadOnlyList<long>? ResolveQuarantined = null)
{
    /// <summary>Pushed records: no run, no cursor.</summary>
    public static readonly IngestLedger Push = new(RunId: null);

    /// <summary>
    /// A pushed delivery to record in the same transaction; when the connector already has it, nothing is stored and
    /// <see cref="ReplayedDeliveryException"/> is thrown.
    /// </summary>
    public WebhookDelivery? Delivery { get; init; }

    /// <summary>
    /// The message the records came in, appended to the exchange log in the same transaction as them (so the log and
    /// the store cannot disagree after a crash). The hub fills in what it made of it: outcome <c>stored</c> (records it
    /// quarantined are listed in the detail), the dossiers touched, the mapping version, the run and the counts; fields
    /// the caller set are kept. An <see cref="ExchangeRecord.AdminKind"/> record (re-processing quarantined records,
    /// which no message brought) gets outcome <c>done</c> and no direction. <c>null</c>: nothing is logged here.
    /// </summary>
    public ExchangeRecord? Message { get; init; }

    /// <summary>
    /// Entries appended as they are, before <see cref="Message"/>, in the same transaction: the requests the hub sent to
    /// get the message (a pulled page's search request, its log-in).
    /// </summary>
    public IReadOnlyList<ExchangeRecord> Sent { get; init; } = [];
}

/// <summary>The outcome of ingesting records.</summary>
/// <param name="Counts">What was read, stored and quarantined.</param>
/// <param name="Quarantined">The records kept in quarantine: their position and reason.</param>
public sealed record IngestResult(PageCounts Counts, IReadOnlyList<IngestProblem> Quarantined);

/// <summary>A record kept in quarantine: its position among the ingested records and why.</summary>
public sealed record IngestProblem(int Index, string Reason);
