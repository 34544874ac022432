using System.Collections.Concurrent;
using System.Text.Json;
using Hub.Connectors;
using Hub.Core.Audit;
using Hub.Core.Mapping;
using Hub.Core.Sync;
using Hub.Worker.Telemetry;
using Npgsql;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace Hub.Worker.Sync;

/// <summary>
/// Runs a pull connector: page after page, maps the raw records, and stores each page's changes, its quarantined
/// records, the run's counters and the connector's new cursor in one transaction. A run killed at any point resumes
/// from the last stored cursor: nothing is skipped, and what is read twice is stored once.
/// </summary>
/// <remarks>
/// At most one run per connector at a time across every hub process: the run holds the connector's PostgreSQL
/// advisory lock (<see cref="SyncLedger.TryAcquireAsync"/>), and each page's cursor move checks that nobody else moved
/// it. Record contents never reach the logs (personal data): only counts, ids and reasons' categories do. Every page
/// is appended to the exchange log as an inbound message, with the requests that fetched it as outbound ones, in the
/// page's transaction; a page the source failed to deliver, or that was not stored, is a rejected message with why.
/// </remarks>
public sealed partial class SyncRunner(
    ConnectorCatalog catalog,
    SyncLedger ledger,
    RecordIngest ingest,
    ConnectorKinds kinds,
    ConnectorHttpClients httpClients,
    ExchangeLog exchangeLog,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory,
    ILogger<SyncRunner> logger)
{
    /// <summary>How long a re-processing waits for a run of the same connector to end before it is skipped.</summary>
    public static readonly TimeSpan ReprocessWait = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan ReprocessPoll = TimeSpan.FromMilliseconds(500);

    /// <summary>Records read before the quarantine threshold is checked during a run (it is always checked at the end).</summary>
    public const int ThresholdMinimumRecords = 1000;

    private readonly ConcurrentDictionary<string, (string Json, RecordMapper Mapper)> _mappers = new(StringComparer.Ordinal);

    /// <summary>Runs a connector now, unless a run of it is already in progress somewhere.</summary>
    /// <param name="connectorId">The connector.</param>
    /// <param name="trigger">What started the run.</param>
    /// <param name="cancellationToken">Stops the run (it resumes from its last stored cursor).</param>
    /// <param name="retryOf">The failed run an operator retries with this one, if any.</param>
    /// <exception cref="UnknownConnectorException">No connector has the id.</exception>
    public async Task<SyncRunRecord> RunAsync(string connectorId, SyncTrigger trigger, CancellationToken cancellationToken, long? retryOf = null)
    {
        using var activity = HubTelemetry.StartRun(connectorId, trigger);
        await using var lease = await ledger.TryAcquireAsync(connectorId, cancellationToken);
        if (lease is null)
        {
            return await SkippedAsync(connectorId, trigger, activity, cancellationToken);
        }

        // Read after taking the lock: the cursor is the one the last run stored.
        var state = await catalog.GetAsync(connectorId, cancellationToken) ?? throw new UnknownConnectorException(connectorId);
        var connector = state.Registration;
        var runId = await ledger.StartRunAsync(lease, trigger, state.Cursor, connector.Mapping.Version, cancellationToken, retryOf: retryOf);
        LogStarted(logger, connectorId, runId, trigger);

        var http = httpClients.For(connector);
        var retriesBefore = http.Retries;
        var pages = 0;
        var total = PageCounts.Zero;
        RunFailure? failure = null;
        ExchangeRecord? rejected = null;
        PullPage? unstored = null;
        var pulling = false;
        try
        {
            var mapper = MapperFor(connector);
            var kind = kinds.GetPull(connector.Kind);
            await using var source = kind.CreateSource(new ConnectorContext(
                connector.Id, connector.SourceSystem, connector.Configuration, http.Client,
                loggerFactory.CreateLogger("Hub.Connectors." + connector.Kind), timeProvider));

            var cursor = state.Cursor;
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
                var pageLedger = new IngestLedger(runId, MoveCursor: true, cursor, page.Cursor)
                {
                    Message = PageMessage(connector, page, runId),
                    Sent = [.. page.Requests.Select(r => SentMessage(connector, r, runId))],
                };
                IngestResult stored;
                using (HubTelemetry.StartStep(HubTelemetry.PageStore, connectorId))
                {
                    stored = await ingest.StoreAsync(connector, mapper, page.Records, pageLedger, cancellationToken);
                }

                unstored = null;
                total = total.Add(stored.Counts);
                cursor = page.Cursor;

                if (total.RecordsRead >= ThresholdMinimumRecords && TooManyBad(connector, total) is { } tooMany)
                {
                    failure = tooMany;
                    break;
                }

                if (!page.HasMore)
                {
                    failure = TooManyBad(connector, total);
                    break;
                }
            }
        }
        catch (Exception e) when (Classify(e, cancellationToken) is { } classified)
        {
            failure = classified;
            rejected = RejectedPage(connector, runId, pulling, unstored, e, classified, cancellationToken);
        }

        return await FinishAsync(connectorId, runId, rejected, pages + (int)(http.Retries - retriesBefore), failure, total, activity);
    }

    /// <summary>
    /// Ends a pull run: logs the page the store refused, records the outcome and the attempts (pages plus retries), ends
    /// its telemetry and log lines; the run as recorded.
    /// </summary>
    private async Task<SyncRunRecord> FinishAsync(
        string connectorId, long runId, ExchangeRecord? rejected, int attempts, RunFailure? failure, PageCounts total, System.Diagnostics.Activity? activity)
    {
        if (rejected is not null)
        {
            await AppendRejectedAsync(connectorId, runId, rejected);
        }

        var outcome = failure is null ? RunOutcome.Succeeded : RunOutcome.Failed;
        await ledger.FinishRunAsync(runId, outcome, attempts, failure, CancellationToken.None);
        HubTelemetry.RunEnded(connectorId, outcome);
        HubTelemetry.EndRun(activity, runId, outcome, failure);
        if (failure is null)
        {
            LogSucceeded(logger, connectorId, runId, total.RecordsRead, total.ChangesStored, total.Unchanged, total.Quarantined);
        }
        else
        {
            LogFailed(logger, connectorId, runId, failure.Side, failure.Retryable, failure.Reason);
        }

        return await ledger.GetRunAsync(runId, CancellationToken.None) ?? throw new InvalidOperationException($"Run {runId} vanished.");
    }

    /// <summary>
    /// Maps the connector's open quarantined records again with its current mapping: those that now map are stored and
    /// marked resolved, the others keep their (new) reason. The connector's cursor does not move.
    /// </summary>
    public async Task<SyncRunRecord> ReprocessQuarantineAsync(string connectorId, CancellationToken cancellationToken)
    {
        using var activity = HubTelemetry.StartRun(connectorId, SyncTrigger.Reprocess);

        // Asked for right after a mapping change, often while a sync still runs: wait for it a little rather than skip.
        var lease = await ledger.TryAcquireAsync(connectorId, cancellationToken);
        for (var waited = TimeSpan.Zero; lease is null && waited < ReprocessWait; waited += ReprocessPoll)
        {
            await Task.Delay(ReprocessPoll, timeProvider, cancellationToken);
            lease = await ledger.TryAcquireAsync(connectorId, cancellationToken);
        }

        await using var _ = lease;
        if (lease is null)
        {
            return await SkippedAsync(connectorId, SyncTrigger.Reprocess, activity, cancellationToken);
        }

        var state = await catalog.GetAsync(connectorId, cancellationToken) ?? throw new UnknownConnectorException(connectorId);
        var connector = state.Registration;
        var runId = await ledger.StartRunAsync(lease, SyncTrigger.Reprocess, state.Cursor, connector.Mapping.Version, cancellationToken);
        RunFailure? failure = null;
        var pages = 0;
        try
        {
            var mapper = MapperFor(connector);
            long afterId = 0;
            while (true)
            {
                var open = await ledger.ListQuarantineAsync(connectorId, openOnly: true, afterId, 1000, cancellationToken);
                if (open.Count == 0)
                {
                    break;
                }

                pages++;
                afterId = open[^1].Id;
                var records = open.Select(q => ToRawRecord(q)).ToList();
                var action = new ExchangeRecord
                {
                    Kind = ExchangeRecord.AdminKind,
                    Action = "quarantine.reprocessed",
                    Actor = HubActor,
                    Outcome = "done",
                };
                using (HubTelemetry.StartStep(HubTelemetry.PageStore, connectorId))
                {
                    await ingest.StoreAsync(connector, mapper, records,
                        new IngestLedger(runId, MoveCursor: false, state.Cursor, state.Cursor, open.Select(q => q.Id).ToList()) { Message = action }, cancellationToken);
                }
            }
        }
        catch (Exception e) when (Classify(e, cancellationToken) is { } classified)
        {
            failure = classified;
        }

        var reprocessed = failure is null ? RunOutcome.Succeeded : RunOutcome.Failed;
        await ledger.FinishRunAsync(runId, reprocessed, pages, failure, CancellationToken.None);
        HubTelemetry.RunEnded(connectorId, reprocessed);
        HubTelemetry.EndRun(activity, runId, reprocessed, failure);
        return await ledger.GetRunAsync(runId, CancellationToken.None) ?? throw new InvalidOperationException($"Run {runId} vanished.");
    }

    /// <summary>The compiled mapping of a connector, compiled again when the mapping changes.</summary>
    /// <exception cref="ConnectorException">The mapping is invalid (a configuration problem).</exception>
    public RecordMapper MapperFor(ConnectorRegistration connector)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(connector.Mapping, ConnectorCatalog.Json);
        if (_mappers.TryGetValue(connector.Id, out var cached) && cached.Json == json)
        {
            return cached.Mapper;
        }

        RecordMapper mapper;
        try
        {
            mapper = RecordMapper.Compile(connector.Mapping);
        }
        catch (MappingDefinitionException e)
        {
            throw new ConnectorException(FailureSide.Configuration, false, $"The mapping '{connector.Mapping.Version}' is invalid: {e.Message}", e);
        }

        _mappers[connector.Id] = (json, mapper);
        return mapper;
    }

    /// <summary>The actor of what the hub does by itself (runs, re-processing).</summary>
    public const string HubActor = "hub";

    /// <summary>The media type of a page logged as its records' JSON, when the connector could not supply the bytes it received.</summary>
    public const string RecordsContentType = "application/vnd.hub.records+json";

    /// <summary>A pulled page as the exchange log keeps it: the bytes the source sent, or else the records' JSON.</summary>
    internal ExchangeRecord PageMessage(ConnectorRegistration connector, PullPage page, long runId) => new()
    {
        Kind = ExchangeRecord.MessageKind,
        ConnectorId = connector.Id,
        Direction = "inbound",
        Transport = connector.Kind,
        ReceivedAt = page.ReceivedAt ?? timeProvider.GetUtcNow(),
        ContentType = page.Content is null ? RecordsContentType : page.ContentType,
        Payload = page.Content ?? RecordsJson(page.Records),
        Outcome = "stored",
        RunId = runId,
    };

    private static ExchangeRecord SentMessage(ConnectorRegistration connector, SentRequest request, long runId) => new()
    {
        Kind = ExchangeRecord.MessageKind,
        ConnectorId = connector.Id,
        Direction = "outbound",
        Transport = connector.Kind,
        ReceivedAt = request.SentAt,
        ContentType = request.ContentType,
        Payload = request.Withheld is null ? request.Body : null,
        PayloadWithheld = request.Withheld,
        Outcome = "done",
        RunId = runId,
        MappingVersion = connector.Mapping.Version,
        Detail = JsonSerializer.Serialize(new { method = request.Method, target = request.Target }),
    };

    /// <summary>
    /// A page that did not make it into the store: the source failed to deliver it or answered something unreadable
    /// (while <paramref name="pulling"/>), or the hub could not store it. <c>null</c> when the run stopped between pages
    /// because the hub was asked to (no message was lost then).
    /// </summary>
    private ExchangeRecord? RejectedPage(
        ConnectorRegistration connector, long runId, bool pulling, PullPage? unstored, Exception e, RunFailure failure, CancellationToken cancellationToken)
    {
        if (!pulling && unstored is null)
        {
            return null;
        }

        if (pulling && e is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        var received = e as ConnectorException;
        return new ExchangeRecord
        {
            Kind = ExchangeRecord.MessageKind,
            ConnectorId = connector.Id,
            Direction = "inbound",
            Transport = connector.Kind,
            ReceivedAt = unstored?.ReceivedAt ?? timeProvider.GetUtcNow(),
            ContentType = unstored is not null
                ? unstored.Content is null ? RecordsContentType : unstored.ContentType
                : received?.ReceivedContentType,
            Payload = unstored is not null ? unstored.Content ?? RecordsJson(unstored.Records) : received?.ReceivedContent,
            Outcome = "rejected",
            Reason = pulling ? failure.Reason : "The page was received but not stored: " + failure.Reason,
            MappingVersion = connector.Mapping.Version,
            RunId = runId,
            Detail = JsonSerializer.Serialize(new { side = failure.Side.ToString(), retryable = failure.Retryable, pageReceived = unstored is not null }),
        };
    }

    private async Task AppendRejectedAsync(string connectorId, long runId, ExchangeRecord rejected)
    {
        try
        {
            await exchangeLog.AppendAsync(rejected, CancellationToken.None);
        }
        catch (NpgsqlException e)
        {
            // The run's failure is recorded next (or fails the same way); the log line says what the exchange log lacks.
            LogRejectedNotLogged(logger, connectorId, runId, e.Message);
        }
    }

    private static byte[] RecordsJson(IReadOnlyList<RawRecord> records)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var record in records)
            {
                writer.WriteStartObject();
                writer.WriteString("kind", record.Kind == RawRecordKind.Step ? "step" : "dossier");
                writer.WritePropertyName("record");
                record.Payload.WriteTo(writer);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return buffer.ToArray();
    }

    private static RunFailure? TooManyBad(ConnectorRegistration connector, PageCounts total) =>
        total.RecordsRead > 0 && total.Quarantined > connector.QuarantineThreshold * total.RecordsRead
            ? new RunFailure(FailureSide.SourceData, false,
                $"{total.Quarantined} of {total.RecordsRead} records ({100.0 * total.Quarantined / total.RecordsRead:0.#}%) were quarantined, " +
                $"above the connector's threshold of {100 * connector.QuarantineThreshold:0.#}%. They are kept in quarantine with their reasons; " +
                "fix the mapping (or ask the source to fix its data) and re-process them.")
            : null;

    /// <summary>Whose side a failure is on and whether a retry can help; <c>null</c> for the caller's own cancellation.</summary>
    internal static RunFailure? Classify(Exception e, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested =>
            new RunFailure(FailureSide.Hub, true, "The hub stopped during the run; the next run resumes from the last stored cursor."),
        ConnectorException c => new RunFailure(c.Side, c.Retryable, c.Message),
        BrokenCircuitException => new RunFailure(FailureSide.SourceUnreachable, true,
            "The connector's circuit is open after repeated failures of the source; the hub waits before trying it again."),
        TimeoutRejectedException => new RunFailure(FailureSide.SourceUnreachable, true, "The source did not answer in time, retries included."),
        RateLimiterRejectedException => new RunFailure(FailureSide.Hub, true, "The connector's rate limit rejected a request."),
        HttpRequestException h => new RunFailure(FailureSide.SourceUnreachable, true, $"The source could not be reached: {h.Message}"),
        CursorConflictException c => new RunFailure(FailureSide.Hub, true, c.Message),
        NpgsqlException n => new RunFailure(FailureSide.Hub, true, $"The hub's database failed: {n.Message}"),
        _ => new RunFailure(FailureSide.Hub, false, $"{e.GetType().Name}: {e.Message}"),
    };

    private static RawRecord ToRawRecord(QuarantinedRecord q)
    {
        using var document = System.Text.Json.JsonDocument.Parse(q.Payload);
        return new RawRecord(q.Kind == "step" ? RawRecordKind.Step : RawRecordKind.Dossier, document.RootElement.Clone());
    }

    private async Task<SyncRunRecord> SkippedAsync(string connectorId, SyncTrigger trigger, System.Diagnostics.Activity? activity, CancellationToken cancellationToken)
    {
        LogSkipped(logger, connectorId);
        if (await catalog.GetAsync(connectorId, cancellationToken) is null)
        {
            throw new UnknownConnectorException(connectorId);
        }

        var id = await ledger.RecordSkippedAsync(connectorId, trigger, cancellationToken);
        HubTelemetry.RunEnded(connectorId, RunOutcome.Skipped);
        HubTelemetry.EndRun(activity, id, RunOutcome.Skipped, null);
        return await ledger.GetRunAsync(id, cancellationToken) ?? throw new InvalidOperationException($"Run {id} vanished.");
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Connector {ConnectorId}: run {RunId}: the rejected page could not be appended to the exchange log: {Error}")]
    private static partial void LogRejectedNotLogged(ILogger logger, string connectorId, long runId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connector {ConnectorId}: a run is already in progress; this one is skipped")]
    private static partial void LogSkipped(ILogger logger, string connectorId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connector {ConnectorId}: run {RunId} started ({Trigger})")]
    private static partial void LogStarted(ILogger logger, string connectorId, long runId, SyncTrigger trigger);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Connector {ConnectorId}: run {RunId} succeeded: {Read} records read, {Stored} changes stored, {Unchanged} unchanged, {Quarantined} quarantined")]
    private static partial void LogSucceeded(ILogger logger, string connectorId, long runId, int read, int stored, int unchanged, int quarantined);

    [LoggerMessage(Level = LogLevel.Error, Message = "Connector {ConnectorId}: run {RunId} failed on the {Side} side (retryable: {Retryable}): {Reason}")]
    private static partial void LogFailed(ILogger logger, string connectorId, long runId, FailureSide side, bool retryable, string reason);
}
