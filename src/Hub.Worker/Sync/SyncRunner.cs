using System.Collections.Concurrent;
using Hub.Connectors;
using Hub.Core.Mapping;
using Hub.Core.Sync;
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
/// it. Record contents never reach the logs (personal data): only counts, ids and reasons' categories do.
/// </remarks>
public sealed partial class SyncRunner(
    ConnectorCatalog catalog,
    SyncLedger ledger,
    RecordIngest ingest,
    ConnectorKinds kinds,
    ConnectorHttpClients httpClients,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory,
    ILogger<SyncRunner> logger)
{
    /// <summary>Records read before the quarantine threshold is checked during a run (it is always checked at the end).</summary>
    public const int ThresholdMinimumRecords = 1000;

    private readonly ConcurrentDictionary<string, (string Json, RecordMapper Mapper)> _mappers = new(StringComparer.Ordinal);

    /// <summary>Runs a connector now, unless a run of it is already in progress somewhere.</summary>
    /// <exception cref="UnknownConnectorException">No connector has the id.</exception>
    public async Task<SyncRunRecord> RunAsync(string connectorId, SyncTrigger trigger, CancellationToken cancellationToken)
    {
        await using var lease = await ledger.TryAcquireAsync(connectorId, cancellationToken);
        if (lease is null)
        {
            return await SkippedAsync(connectorId, trigger, cancellationToken);
        }

        // Read after taking the lock: the cursor is the one the last run stored.
        var state = await catalog.GetAsync(connectorId, cancellationToken) ?? throw new UnknownConnectorException(connectorId);
        var connector = state.Registration;
        var runId = await ledger.StartRunAsync(lease, trigger, state.Cursor, connector.Mapping.Version, cancellationToken);
        LogStarted(logger, connectorId, runId, trigger);

        var http = httpClients.For(connector);
        var retriesBefore = http.Retries;
        var pages = 0;
        var total = PageCounts.Zero;
        RunFailure? failure = null;
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
                var page = await source.PullAsync(cursor, cancellationToken);
                pages++;
                var stored = await ingest.StoreAsync(
                    connector, mapper, page.Records, new IngestLedger(runId, MoveCursor: true, cursor, page.Cursor), cancellationToken);
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
        }

        var attempts = pages + (int)(http.Retries - retriesBefore);
        var outcome = failure is null ? RunOutcome.Succeeded : RunOutcome.Failed;
        await ledger.FinishRunAsync(runId, outcome, attempts, failure, CancellationToken.None);
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
        await using var lease = await ledger.TryAcquireAsync(connectorId, cancellationToken);
        if (lease is null)
        {
            return await SkippedAsync(connectorId, SyncTrigger.Reprocess, cancellationToken);
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
                await ingest.StoreAsync(connector, mapper, records,
                    new IngestLedger(runId, MoveCursor: false, state.Cursor, state.Cursor, open.Select(q => q.Id).ToList()), cancellationToken);
            }
        }
        catch (Exception e) when (Classify(e, cancellationToken) is { } classified)
        {
            failure = classified;
        }

        await ledger.FinishRunAsync(runId, failure is null ? RunOutcome.Succeeded : RunOutcome.Failed, pages, failure, CancellationToken.None);
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

    private static RunFailure? TooManyBad(ConnectorRegistration connector, PageCounts total) =>
        total.RecordsRead > 0 && total.Quarantined > connector.QuarantineThreshold * total.RecordsRead
            ? new RunFailure(FailureSide.SourceData, false,
                $"{total.Quarantined} of {total.RecordsRead} records ({100.0 * total.Quarantined / total.RecordsRead:0.#}%) were quarantined, " +
                $"above the connector's threshold of {100 * connector.QuarantineThreshold:0.#}%. They are kept in quarantine with their reasons; " +
                "fix the mapping (or ask the source to fix its data) and re-process them.")
            : null;

    /// <summary>Whose side a failure is on and whether a retry can help; <c>null</c> for the caller's own cancellation.</summary>
    private static RunFailure? Classify(Exception e, CancellationToken cancellationToken) => e switch
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

    private async Task<SyncRunRecord> SkippedAsync(string connectorId, SyncTrigger trigger, CancellationToken cancellationToken)
    {
        LogSkipped(logger, connectorId);
        if (await catalog.GetAsync(connectorId, cancellationToken) is null)
        {
            throw new UnknownConnectorException(connectorId);
        }

        var id = await ledger.RecordSkippedAsync(connectorId, trigger, cancellationToken);
        return await ledger.GetRunAsync(id, cancellationToken) ?? throw new InvalidOperationException($"Run {id} vanished.");
    }

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

/// <summary>No connector has the id.</summary>
public sealed class UnknownConnectorException : Exception
{
    /// <summary>Creates the exception for an id.</summary>
    public UnknownConnectorException(string connectorId)
        : base($"No connector is registered with id '{connectorId}'.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public UnknownConnectorException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public UnknownConnectorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
