using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.Common;
using Hangfire.PostgreSql;
using Hangfire.Storage;
using Hub.Core.Sync;
using Hub.Worker.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hub.Worker.Sync;

/// <summary>Settings of the scheduler.</summary>
public sealed class SyncSchedulerOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Hub:Scheduler";

    /// <summary>Whether this hub process runs scheduled and manual syncs. Processes that only serve the API can turn it off.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Runs this process executes at the same time (each connector's run mostly waits on its source).</summary>
    public int WorkerCount { get; set; } = 20;

    /// <summary>How often connector schedules are read again from the database, so that changes reach every process.</summary>
    public TimeSpan ScheduleRefresh { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the queue is polled for manual syncs (no long polling: it costs a connection per worker).</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often this process's Hangfire server records that it is alive (Hangfire's default).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Heartbeats the server may miss before readiness says the scheduler of this process is not running.</summary>
    public const int MissedHeartbeats = 3;

    /// <summary>Schema of the scheduler's own tables.</summary>
    public string SchemaName { get; set; } = "hangfire";
}

/// <summary>
/// Hangfire, used for schedules only: one recurring job per active pull connector, from its cron expression and time
/// zone, plus a queue for "sync now". Jobs carry only the connector id. The server and its storage are created here,
/// after the hub's database is up, rather than through Hangfire's global configuration.
/// </summary>
/// <remarks>
/// Hangfire does not decide who runs a connector: every run takes the connector's own lock
/// (<see cref="SyncLedger.TryAcquireAsync"/>), so two processes, a schedule and a "sync now" never run one connector
/// at once, whatever the scheduler does after a crash.
/// </remarks>
public sealed partial class SyncScheduler(
    HubDatabase database,
    IServiceProvider services,
    ConnectorKinds kinds,
    IServiceScopeFactory scopes,
    IOptions<SyncSchedulerOptions> options,
    TimeProvider timeProvider,
    ILogger<SyncScheduler> logger) : IHostedService, IAsyncDisposable
{
    /// <summary>Prefix of the recurring job id of each connector.</summary>
    public const string JobPrefix = "sync:";

    private readonly CancellationTokenSource _stopping = new();
    private BackgroundJobServer? _server;
    private Task? _refreshLoop;
    private int _disposed;

    /// <summary>The name of this process's Hangfire server; Hangfire's server ids are it in lower case, a colon and a GUID.</summary>
    public string ServerName { get; } = $"hub:{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>The scheduler's storage; <c>null</c> when the scheduler is off.</summary>
    public JobStorage? Storage { get; private set; }

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            LogDisabled(logger);
            return Task.CompletedTask;
        }

        Storage = new PostgreSqlStorage(new DataSourceConnections(database.DataSource), new PostgreSqlStorageOptions
        {
            SchemaName = settings.SchemaName,
            PrepareSchemaIfNecessary = true,
            QueuePollInterval = settings.QueuePollInterval,
            EnableLongPolling = false,
            // Jobs being processed keep their fetch alive (sliding), so a long back-fill is not fetched twice, while the
            // job of a killed process is queued again after 5 minutes. The connector lock prevents a second run anyway.
            InvisibilityTimeout = TimeSpan.FromMinutes(5),
            UseSlidingInvisibilityTimeout = true,
            // The storage's locks are table rows: a killed process leaves them behind until this timeout (10 min by
            // default), holding back every schedule. Its critical sections last milliseconds.
            DistributedLockTimeout = TimeSpan.FromMinutes(1),
        });
        _server = new BackgroundJobServer(
            new BackgroundJobServerOptions
            {
                WorkerCount = settings.WorkerCount,
                ServerName = ServerName,
                Activator = new AspNetCoreJobActivator(scopes),
                SchedulePollingInterval = TimeSpan.FromSeconds(5),
                HeartbeatInterval = settings.HeartbeatInterval,
            },
            Storage);
        _refreshLoop = RefreshLoopAsync(settings.ScheduleRefresh, _stopping.Token);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_refreshLoop is not null)
        {
            try
            {
                await _refreshLoop.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _server?.SendStop();
        if (_server is not null)
        {
            await _server.WaitForShutdownAsync(cancellationToken);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        // Registered as a singleton and as a hosted service: the container may dispose it more than once.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        _server?.Dispose();
        _stopping.Dispose();
    }

    /// <summary>Queues a run of the connector now ("sync now"); returns the job id.</summary>
    public string EnqueueSync(string connectorId, SyncTrigger trigger) =>
        new BackgroundJobClient(RequireStorage()).Create(
            trigger == SyncTrigger.Reprocess
                ? Job.FromExpression<SyncJobs>(j => j.ReprocessAsync(connectorId, CancellationToken.None))
                : Job.FromExpression<SyncJobs>(j => j.RunManualAsync(connectorId, CancellationToken.None)),
            new Hangfire.States.EnqueuedState());

    /// <summary>Queues a sync of the connector from its current cursor that retries the failed run <paramref name="retryOf"/>; returns the job id.</summary>
    public string EnqueueRetry(string connectorId, long retryOf) =>
        new BackgroundJobClient(RequireStorage()).Create(
            Job.FromExpression<SyncJobs>(j => j.RetrySyncAsync(connectorId, retryOf, CancellationToken.None)),
            new Hangfire.States.EnqueuedState());

    /// <summary>Queues a back-fill of the connector over the range, resuming from run <paramref name="resumeRunId"/> when given; returns the job id.</summary>
    public string EnqueueBackfill(string connectorId, BackfillRange range, long? resumeRunId)
    {
        ArgumentNullException.ThrowIfNull(range);
        var (from, to) = (range.From, range.To);
        return new BackgroundJobClient(RequireStorage()).Create(
            Job.FromExpression<SyncJobs>(j => j.BackfillAsync(connectorId, from, to, resumeRunId, CancellationToken.None)),
            new Hangfire.States.EnqueuedState());
    }

    /// <summary>
    /// Brings the recurring jobs in line with the registered connectors: one per active pull connector with a schedule,
    /// none for the others. A connector with an invalid schedule is logged and left without a job; the others go on.
    /// </summary>
    public async Task RefreshSchedulesAsync(CancellationToken cancellationToken)
    {
        var storage = RequireStorage();
        var manager = new RecurringJobManager(storage);
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        // Resolved here, not in the constructor: the database is only up once its own hosted service started.
        var catalog = services.GetRequiredService<ConnectorCatalog>();
        foreach (var state in await catalog.ListAsync(cancellationToken))
        {
            var connector = state.Registration;
            if (!connector.Active || string.IsNullOrWhiteSpace(connector.Schedule) || kinds.Find(connector.Kind) is not Hub.Connectors.IPullConnectorKind)
            {
                continue;
            }

            var id = connector.Id;
            try
            {
                manager.AddOrUpdate(
                    JobPrefix + id,
                    Job.FromExpression<SyncJobs>(j => j.RunScheduledAsync(id, CancellationToken.None)),
                    connector.Schedule,
                    new RecurringJobOptions { TimeZone = TimeZoneInfo.FindSystemTimeZoneById(connector.TimeZone), MisfireHandling = MisfireHandlingMode.Relaxed });
                wanted.Add(JobPrefix + id);
            }
            catch (Exception e) when (e is ArgumentException or TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                LogBadSchedule(logger, id, connector.Schedule, connector.TimeZone, e.Message);
            }
        }

        using var connection = storage.GetConnection();
        foreach (var job in connection.GetRecurringJobs())
        {
            if (job.Id.StartsWith(JobPrefix, StringComparison.Ordinal) && !wanted.Contains(job.Id))
            {
                manager.RemoveIfExists(job.Id);
            }
        }
    }

    private async Task RefreshLoopAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RefreshSchedulesAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The loop must outlive a database hiccup; the failure is logged, and retried at the next tick.
                LogRefreshFailed(logger, e);
            }

            await Task.Delay(interval, timeProvider, cancellationToken);
        }
    }

    private JobStorage RequireStorage() =>
        Storage ?? throw new InvalidOperationException("The scheduler is off in this hub process (Hub:Scheduler:Enabled is false).");

    [LoggerMessage(Level = LogLevel.Information, Message = "The scheduler is off in this process (Hub:Scheduler:Enabled=false)")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Connector {ConnectorId}: schedule '{Schedule}' in time zone '{TimeZone}' is invalid and is not scheduled: {Reason}")]
    private static partial void LogBadSchedule(ILogger logger, string connectorId, string? schedule, string timeZone, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Refreshing the connector schedules failed; trying again at the next interval")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);

    /// <summary>Hangfire's connections come from the hub's data source (pooled, same credentials).</summary>
    private sealed class DataSourceConnections(NpgsqlDataSource dataSource) : IConnectionFactory
    {
        public NpgsqlConnection GetOrCreateConnection() => dataSource.CreateConnection();
    }
}

/// <summary>The jobs the scheduler runs: they take only the connector id, and can run again from the start safely.</summary>
public sealed class SyncJobs(SyncRunner runner)
{
    /// <summary>A scheduled run. A failed run is recorded in the hub's run table, not retried by the scheduler: the next schedule resumes it.</summary>
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [JobDisplayName("Sync {0} (schedule)")]
    public Task RunScheduledAsync(string connectorId, CancellationToken cancellationToken) =>
        runner.RunAsync(connectorId, SyncTrigger.Schedule, cancellationToken);

    /// <summary>A run asked for by an operator.</summary>
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [JobDisplayName("Sync {0} (manual)")]
    public Task RunManualAsync(string connectorId, CancellationToken cancellationToken) =>
        runner.RunAsync(connectorId, SyncTrigger.Manual, cancellationToken);

    /// <summary>An operator's retry of a failed sync: a sync from the connector's current cursor, naming the run it retries.</summary>
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [JobDisplayName("Sync {0} (retry of run {1})")]
    public Task RetrySyncAsync(string connectorId, long retryOf, CancellationToken cancellationToken) =>
        runner.RunAsync(connectorId, SyncTrigger.Manual, cancellationToken, retryOf);

    /// <summary>
    /// A back-fill of a past range. Not retried by the scheduler (an operator retries it from the run history); a job
    /// whose process died is fetched again after the storage's invisibility timeout and resumes from the run's progress.
    /// </summary>
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [JobDisplayName("Back-fill {0} from {1} to {2}")]
    public Task BackfillAsync(string connectorId, DateTimeOffset from, DateTimeOffset to, long? resumeRunId, CancellationToken cancellationToken) =>
        runner.BackfillAsync(connectorId, new BackfillRange(from, to), resumeRunId, cancellationToken);

    /// <summary>Re-processing of the connector's quarantined records.</summary>
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [JobDisplayName("Re-process quarantine of {0}")]
    public Task ReprocessAsync(string connectorId, CancellationToken cancellationToken) =>
        runner.ReprocessQuarantineAsync(connectorId, cancellationToken);
}
