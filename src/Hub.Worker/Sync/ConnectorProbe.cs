using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using Hub.Connectors;
using Hub.Contracts;
using Hub.Core.Mapping;
using Hub.Core.Sync;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Sync;

/// <summary>Limits of connector checks and previews (<c>Hub:Probe</c>).</summary>
public sealed class ProbeOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Hub:Probe";

    /// <summary>Default of <see cref="Timeout"/>.</summary>
    public const int DefaultTimeoutSeconds = 20;

    /// <summary>Default of <see cref="MaxRecords"/>.</summary>
    public const int DefaultMaxRecords = 50;

    /// <summary>Default of <see cref="DefaultRecords"/>.</summary>
    public const int DefaultSampleSize = 10;

    /// <summary>Default of <see cref="MaxPages"/>.</summary>
    public const int DefaultMaxPages = 3;

    /// <summary>
    /// Time allowed for a whole check or preview, every call to the source included (log-in, token, pages). Someone is
    /// waiting for the answer, so a probe never retries: the source either answers within this time or the probe says so.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(DefaultTimeoutSeconds);

    /// <summary>The largest sample a preview may ask for.</summary>
    [Range(1, 1000)]
    public int MaxRecords { get; set; } = DefaultMaxRecords;

    /// <summary>The sample size of a preview that does not say.</summary>
    [Range(1, 1000)]
    public int DefaultRecords { get; set; } = DefaultSampleSize;

    /// <summary>Pages a preview reads at most, however small they are.</summary>
    [Range(1, 100)]
    public int MaxPages { get; set; } = DefaultMaxPages;
}

/// <summary>
/// "Test connection" and "preview" of a pull connector, registered or not: reaches the live source, reads from the
/// beginning (no cursor), maps what it read with the connector's mapping and stores nothing at all (no status, run,
/// cursor, quarantine, exchange-log entry or job).
/// </summary>
/// <remarks>
/// Probes do not use the connector's sync client (<see cref="ConnectorHttpClients"/>): its retries would keep a person
/// waiting for minutes, and a probe's failures would count towards the circuit breaker of the running syncs. Each probe
/// gets a client of its own, without retries, disposed with it, and the whole probe is bounded by
/// <see cref="ProbeOptions.Timeout"/>. Probes are rare and manual, so a fresh connection pool per probe costs nothing
/// that matters. Record contents never reach the logs, only counts.
/// </remarks>
public sealed partial class ConnectorProbe(
    ConnectorKinds kinds,
    IOptions<ProbeOptions> options,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory,
    ILogger<ConnectorProbe> logger)
{
    /// <summary>Connectors being probed by this process now.</summary>
    private readonly ConcurrentDictionary<string, byte> _running = new(StringComparer.Ordinal);

    /// <summary>The probe's settings.</summary>
    public ProbeOptions Options => options.Value;

    /// <summary>
    /// Claims the connector for one probe; <c>null</c> when this process is probing it already. One probe at a time per
    /// connector, so that repeated clicks (or a script) cannot flood a provincial system that sync runs already rate-limit.
    /// </summary>
    public IDisposable? TryBegin(string connectorId)
    {
        ArgumentNullException.ThrowIfNull(connectorId);
        return _running.TryAdd(connectorId, 0) ? new Claim(_running, connectorId) : null;
    }

    /// <summary>
    /// Whether the connector can be checked and previewed: not when its kind only receives pushed messages. A kind the
    /// hub does not know (a plugin removed) can: the probe then fails at stage <c>configuration</c> saying so.
    /// </summary>
    public bool CanProbe(ConnectorRegistration connector)
    {
        ArgumentNullException.ThrowIfNull(connector);
        return kinds.Find(connector.Kind) is null or IPullConnectorKind;
    }

    /// <summary>Reaches the source, authenticates and reads one page. A failure is a result, not an exception.</summary>
    public async Task<ProbeCheck> CheckAsync(ConnectorRegistration connector, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        var started = timeProvider.GetTimestamp();
        var timeout = options.Value.Timeout;
        using var timer = new CancellationTokenSource(timeout, timeProvider);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        CheckResult result;
        try
        {
            await using var probe = Open(connector);
            // WaitAsync: a kind that ignores the token must not keep the caller waiting beyond the timeout.
            result = await probe.Source.CheckAsync(limit.Token).WaitAsync(limit.Token);
        }
        catch (Exception e) when (Failure(e, timeout, cancellationToken) is { } failure)
        {
            result = CheckResult.Failure(failure.Stage, failure.Message);
        }

        var elapsed = timeProvider.GetElapsedTime(started);
        LogChecked(logger, connector.Id, result.Succeeded, result.Stage, result.RecordsRead, (long)elapsed.TotalMilliseconds);
        return new ProbeCheck(result, elapsed);
    }

    /// <summary>
    /// Reads up to <paramref name="limit"/> records from the beginning of the source (at most
    /// <see cref="ProbeOptions.MaxPages"/> pages) and maps each one; a source failure ends the sample early and is reported.
    /// </summary>
    public async Task<ProbePreview> PreviewAsync(ConnectorRegistration connector, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var started = timeProvider.GetTimestamp();
        var settings = options.Value;
        using var timer = new CancellationTokenSource(settings.Timeout, timeProvider);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);

        var records = new List<PreviewRecord>();
        var problems = new List<PreviewProblem>();
        var read = 0;
        var pages = 0;
        var complete = false;
        ProbeFailure? failure = null;
        try
        {
            var mapper = Compile(connector);
            await using var probe = Open(connector);
            string? cursor = null;
            while (read < limit && pages < settings.MaxPages)
            {
                var page = await probe.Source.PullAsync(cursor, deadline.Token).WaitAsync(deadline.Token);
                pages++;
                var taken = Math.Min(page.Records.Count, limit - read);
                for (var i = 0; i < taken; i++)
                {
                    var index = read + i;
                    var mapped = mapper.Map(page.Records[i], connector.SourceSystem);
                    if (mapped.IsQuarantined)
                    {
                        problems.AddRange(mapped.Problems.Select(p => new PreviewProblem(index, p.Field, p.Path, p.Problem)));
                    }
                    else
                    {
                        records.Add(new PreviewRecord(index, mapped.Change?.NativeId ?? mapped.Steps.FirstOrDefault()?.NativeId, mapped.Change, mapped.Steps));
                    }
                }

                read += taken;
                cursor = page.Cursor;
                if (!page.HasMore)
                {
                    // Everything the source has now was read, unless the last page was cut at the limit.
                    complete = taken == page.Records.Count;
                    break;
                }
            }
        }
        catch (Exception e) when (Failure(e, settings.Timeout, cancellationToken) is { } classified)
        {
            failure = classified;
        }

        var elapsed = timeProvider.GetElapsedTime(started);
        LogPreviewed(logger, connector.Id, read, records.Count, problems.Select(p => p.Index).Distinct().Count(), pages, (long)elapsed.TotalMilliseconds);
        if (failure is not null)
        {
            LogPreviewStopped(logger, connector.Id, failure.Stage, failure.Message);
        }

        return new ProbePreview(connector.Id, connector.Mapping.Version, read, pages, complete, records, problems, failure, elapsed);
    }

    private static RecordMapper Compile(ConnectorRegistration connector)
    {
        try
        {
            return RecordMapper.Compile(connector.Mapping);
        }
        catch (MappingDefinitionException e)
        {
            throw new ConnectorException(FailureSide.Configuration, false, $"The mapping '{connector.Mapping.Version}' is invalid: {e.Message}", e);
        }
    }

    /// <summary>The connector's source over a client of the probe's own.</summary>
    private Probe Open(ConnectorRegistration connector)
    {
        var kind = kinds.GetPull(connector.Kind);
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.Value.Timeout,
            AutomaticDecompression = System.Net.DecompressionMethods.All,
        };
        var http = new HttpClient(handler, disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        try
        {
            var source = kind.CreateSource(new ConnectorContext(
                connector.Id, connector.SourceSystem, connector.Configuration, http,
                loggerFactory.CreateLogger("Hub.Connectors." + connector.Kind), timeProvider));
            return new Probe(source, http);
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    /// <summary>At which stage a probe failed and why; <c>null</c> when the caller itself gave up (the request was aborted).</summary>
    private static ProbeFailure? Failure(Exception e, TimeSpan timeout, CancellationToken callerToken) => e switch
    {
        OperationCanceledException when callerToken.IsCancellationRequested => null,
        OperationCanceledException => new ProbeFailure(CheckStage.Reach,
            $"Timed out after {timeout.TotalSeconds:0.#} seconds (Hub:Probe:Timeout): the source did not answer in time."),
        ConnectorException c => new ProbeFailure(
            c.Side switch
            {
                FailureSide.SourceUnreachable => CheckStage.Reach,
                FailureSide.SourceAuth => CheckStage.Authenticate,
                FailureSide.Configuration => CheckStage.Configuration,
                _ => CheckStage.Read,
            },
            c.Message),
        HttpRequestException h => new ProbeFailure(CheckStage.Reach, $"The source could not be reached: {h.Message}"),
        _ => null,
    };

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Connector {ConnectorId}: check {Outcome} at stage {Stage}, {Records} records read, in {ElapsedMs} ms")]
    private static partial void LogChecked(ILogger logger, string connectorId, bool outcome, CheckStage stage, int records, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Connector {ConnectorId}: preview read {Records} records ({Mapped} mapped, {Unmappable} unmappable) in {Pages} pages in {ElapsedMs} ms")]
    private static partial void LogPreviewed(ILogger logger, string connectorId, int records, int mapped, int unmappable, int pages, long elapsedMs);

    // Connector messages name URLs, statuses and settings, never record contents or secrets (IConnectorKind's contract).
    [LoggerMessage(Level = LogLevel.Information, Message = "Connector {ConnectorId}: preview stopped at stage {Stage}: {Reason}")]
    private static partial void LogPreviewStopped(ILogger logger, string connectorId, CheckStage stage, string reason);

    private sealed class Claim(ConcurrentDictionary<string, byte> running, string connectorId) : IDisposable
    {
        public void Dispose() => running.TryRemove(connectorId, out _);
    }

    private sealed class Probe(IPullSource source, HttpClient http) : IAsyncDisposable
    {
        public IPullSource Source { get; } = source;

        public async ValueTask DisposeAsync()
        {
            await Source.DisposeAsync();
            http.Dispose();
        }
    }
}

/// <summary>Why a probe stopped: the stage and a message an IT team can act on (never a secret or record content).</summary>
public sealed record ProbeFailure(CheckStage Stage, string Message);

/// <summary>The outcome of a check and how long it took.</summary>
public sealed record ProbeCheck(CheckResult Result, TimeSpan Elapsed);

/// <summary>A record of a preview sample that the mapping turned into canonical records.</summary>
/// <param name="Index">Its position in the sample, from 0.</param>
/// <param name="SourceRecordId">The source's id of the dossier (its native id).</param>
/// <param name="Change">The dossier change; <c>null</c> for a step record.</param>
/// <param name="Steps">The processing steps it holds.</param>
public sealed record PreviewRecord(int Index, string? SourceRecordId, DossierChange? Change, IReadOnlyList<DossierStep> Steps);

/// <summary>One reason a record of the sample cannot be mapped (it would be quarantined).</summary>
public sealed record PreviewProblem(int Index, string? Field, string? Path, string Problem);

/// <summary>The outcome of a preview.</summary>
/// <param name="ConnectorId">The connector.</param>
/// <param name="MappingVersion">The version of the mapping the sample was mapped with.</param>
/// <param name="RecordsRead">Records in the sample, mapped or not.</param>
/// <param name="PagesRead">Pages read from the source.</param>
/// <param name="Records">The records of the sample that map, with what they give.</param>
/// <param name="Problems">Why the others do not: the reasons the quarantine would give, one per problem.</param>
/// <param name="Complete">Whether the sample holds everything the source has now (the last page was read whole).</param>
/// <param name="Failure">Why reading stopped early; <c>null</c> when it did not.</param>
/// <param name="Elapsed">How long the preview took.</param>
public sealed record ProbePreview(
    string ConnectorId,
    string MappingVersion,
    int RecordsRead,
    int PagesRead,
    bool Complete,
    IReadOnlyList<PreviewRecord> Records,
    IReadOnlyList<PreviewProblem> Problems,
    ProbeFailure? Failure,
    TimeSpan Elapsed);
