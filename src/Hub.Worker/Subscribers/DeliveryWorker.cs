using System.Collections.Concurrent;
using System.Text.Json;
using Hub.Connectors;
using Hub.Contracts;
using Hub.Core.Audit;
using Hub.Core.Delivery;
using Hub.Core.Store;
using Hub.Worker.Sync;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Subscribers;

/// <summary>
/// Delivers the events routed to subscriptions through their subscriber kinds. Each subscription is delivered by one
/// node at a time (a lease on its row, renewed per batch), in a task of its own, so a slow or failing subscriber never
/// holds back the others. A failed event is tried again after a backoff that doubles per attempt; past the
/// subscription's budget, or refused for good, it goes to the dead-letter list until an operator replays it. Every
/// request and reply is an entry of the exchange log, recorded with the outcome in one transaction.
/// </summary>
/// <remarks>Services that need the database are resolved when the loop first runs: the database is started by a hosted service of its own.</remarks>
public sealed partial class DeliveryWorker(
    IServiceProvider services,
    IOptions<SubscriptionOptions> options,
    TimeProvider timeProvider,
    ILoggerFactory loggers,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    private static readonly TimeSpan PurgeEvery = TimeSpan.FromHours(1);

    /// <summary>The subscriptions this node is delivering now, each in a task of its own.</summary>
    private readonly ConcurrentDictionary<string, byte> _busy = new(StringComparer.Ordinal);

    private readonly List<Task> _tasks = [];

    private Deliveries Deliveries => services.GetRequiredService<Deliveries>();

    private SubscriptionCatalog Catalog => services.GetRequiredService<SubscriptionCatalog>();

    /// <summary>This node's name in leases: host, process and a random part, so a restarted process is a new node.</summary>
    public string Node { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Deliver)
        {
            return;
        }

        var purgedAt = DateTimeOffset.MinValue;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            // First wait: the database is started and migrated by hosted services of its own.
            await Task.Delay(failures == 0 ? settings.DeliveryInterval : TimeSpan.FromSeconds(Math.Min(30, 1 << Math.Min(failures, 5))), timeProvider, stoppingToken);
            try
            {
                _tasks.RemoveAll(t => t.IsCompleted);
                foreach (var id in await Deliveries.DueSubscriptionsAsync(Node, stoppingToken))
                {
                    // Marked busy before its task starts and unmarked when it ends: never two tasks for one subscription.
                    if (_busy.TryAdd(id, 0))
                    {
                        _tasks.Add(Task.Run(async () =>
                        {
                            try
                            {
                                await RunAsync(id, stoppingToken);
                            }
                            finally
                            {
                                _busy.TryRemove(id, out _);
                            }
                        }, CancellationToken.None));
                    }
                }

                var now = timeProvider.GetUtcNow();
                if (now - purgedAt >= PurgeEvery)
                {
                    await Deliveries.PurgeDeliveredAsync(now - settings.KeepDelivered, stoppingToken);
                    purgedAt = now;
                }

                failures = 0;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                failures++;
                LogLoopFailed(logger, failures, e);
            }
        }

        await Task.WhenAll(_tasks);
    }

    /// <summary>Delivers one subscription's due events, batch after batch, while this node holds its lease.</summary>
    private async Task RunAsync(string subscriptionId, CancellationToken stoppingToken)
    {
        var settings = options.Value;
        try
        {
            if (!await Deliveries.LeaseAsync(subscriptionId, Node, settings.Lease, stoppingToken))
            {
                return;
            }

            try
            {
                var state = await Catalog.GetAsync(subscriptionId, stoppingToken);
                if (state is null || !state.Registration.Active)
                {
                    return;
                }

                var registration = state.Registration;
                if (services.GetRequiredService<ConnectorKinds>().Find(registration.Kind) is not ISubscriberConnectorKind kind)
                {
                    LogKindMissing(logger, subscriptionId, registration.Kind);
                    return;
                }

                var configuration = Catalog.Configuration(registration);
                var http = services.GetRequiredService<ConnectorHttpClients>().For(SubscriptionCatalog.LogId(subscriptionId), registration.Resilience);
                while (!stoppingToken.IsCancellationRequested)
                {
                    var due = await Deliveries.DueAsync(subscriptionId, registration.Delivery.BatchSize, stoppingToken);
                    if (due.Count == 0
                        || !await DeliverBatchAsync(registration, kind, configuration, http.Client, due, stoppingToken)
                        || !await Deliveries.LeaseAsync(subscriptionId, Node, settings.Lease, stoppingToken))
                    {
                        return;
                    }
                }
            }
            finally
            {
                await Deliveries.ReleaseAsync(subscriptionId, Node, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what was not recorded stays due and is delivered again.
        }
        catch (Exception e)
        {
            LogSubscriptionFailed(logger, subscriptionId, e);
        }
    }

    /// <summary>Delivers one batch and records the outcome; false when the lease was lost (another node took over).</summary>
    private async Task<bool> DeliverBatchAsync(
        SubscriptionRegistration registration, ISubscriberConnectorKind kind, JsonElement configuration, HttpClient http,
        IReadOnlyList<DueDelivery> due, CancellationToken stoppingToken)
    {
        var events = due.ToDictionary(d => d.Id, Message);
        var updates = new List<DeliveryUpdate>();
        var superseded = kind.LatestStateOnly ? await SupersededAsync(registration.Id, due, events, stoppingToken) : [];
        updates.AddRange(superseded.Select(id => new DeliveryUpdate(id, DeliveryStatus.Delivered, Tried: false, null, TimeSpan.Zero, Superseded: true)));
        var send = due.Where(d => !superseded.Contains(d.Id)).ToList();
        var report = send.Count == 0
            ? new DeliveryReport(new Dictionary<Guid, DeliveryOutcome>(), [])
            : await SendAsync(registration, kind, configuration, http, [.. send.Select(d => new OutboundEvent(d.EventId, events[d.Id], d.Attempts + 1))], stoppingToken);

        var delivered = new List<DeliveredState>();
        var random = Random.Shared;
        foreach (var d in send)
        {
            var outcome = report.Outcomes.GetValueOrDefault(d.EventId)
                ?? DeliveryOutcome.Failed($"The {registration.Kind} sink reported no outcome for event {d.EventId}.");
            if (outcome.Delivered)
            {
                updates.Add(new DeliveryUpdate(d.Id, DeliveryStatus.Delivered, Tried: true, null, TimeSpan.Zero, Superseded: false));
                if (kind.LatestStateOnly && events[d.Id] is DossierStatusChanged changed)
                {
                    delivered.Add(DeliveredState.Of(changed.Change));
                }
            }
            else
            {
                var attempt = d.Attempts + 1;
                var dead = !outcome.Retryable || attempt >= registration.Delivery.MaxAttempts;
                var error = dead && outcome.Retryable
                    ? $"{outcome.Failure} (attempt {attempt} of {registration.Delivery.MaxAttempts}: dead-lettered)"
                    : outcome.Failure;
                updates.Add(new DeliveryUpdate(d.Id, dead ? DeliveryStatus.Dead : DeliveryStatus.Failed, Tried: true, error,
                    dead ? TimeSpan.Zero : registration.Delivery.Backoff(attempt, random.NextDouble()), Superseded: false));
            }
        }

        var recorded = await Deliveries.RecordAsync(registration.Id, Node, updates, delivered,
            [.. report.Exchanges.SelectMany(x => Entries(registration, x))], CancellationToken.None);
        if (!recorded)
        {
            LogLeaseLost(logger, registration.Id);
        }

        return recorded;
    }

    /// <summary>Hands a batch to the subscription's sink; a sink that throws fails every event of the batch, with the reason.</summary>
    private async Task<DeliveryReport> SendAsync(
        SubscriptionRegistration registration, ISubscriberConnectorKind kind, JsonElement configuration, HttpClient http,
        IReadOnlyList<OutboundEvent> batch, CancellationToken stoppingToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        limit.CancelAfter(options.Value.BatchTimeout);
        try
        {
            await using var sink = kind.CreateSink(new SubscriberContext(
                registration.Id, configuration, http, loggers.CreateLogger($"Hub.Subscribers.{registration.Kind}"), timeProvider));
            return await sink.DeliverAsync(batch, limit.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            var (reason, retryable) = e switch
            {
                ConnectorException c => (c.Message, c.Retryable),
                OperationCanceledException => ($"The {registration.Kind} sink did not finish the batch within Hub:Subscriptions:BatchTimeout ({options.Value.BatchTimeout}).", true),
                _ => ($"The {registration.Kind} sink failed: {e.GetType().Name}: {e.Message}", true),
            };
            LogBatchFailed(logger, registration.Id, batch.Count, reason);
            return new DeliveryReport(batch.ToDictionary(b => b.EventId, _ => DeliveryOutcome.Failed(reason, retryable)), []);
        }
    }

    /// <summary>
    /// For a latest-state subscriber, the status changes it must not be sent: those no later than the latest change
    /// of their dossier already delivered, or than a later one in the same batch (which is sent instead).
    /// </summary>
    private async Task<HashSet<long>> SupersededAsync(
        string subscriptionId, IReadOnlyList<DueDelivery> due, IReadOnlyDictionary<long, object> events, CancellationToken cancellationToken)
    {
        var changes = due.Where(d => events[d.Id] is DossierStatusChanged)
            .Select(d => (d.Id, State: DeliveredState.Of(((DossierStatusChanged)events[d.Id]).Change)))
            .ToList();
        var delivered = await Deliveries.DeliveredStatesAsync(subscriptionId,
            [.. changes.Select(c => (c.State.SourceSystem, c.State.NativeId)).Distinct()], cancellationToken);
        var superseded = new HashSet<long>();
        foreach (var dossier in changes.GroupBy(c => (c.State.SourceSystem, c.State.NativeId)))
        {
            var latest = dossier.Aggregate((a, b) => b.State.IsLaterThan(a.State) ? b : a);
            var known = delivered.GetValueOrDefault(dossier.Key);
            foreach (var (id, state) in dossier)
            {
                if (id != latest.Id || (known is not null && !state.IsLaterThan(known)))
                {
                    superseded.Add(id);
                }
            }
        }

        return superseded;
    }

    private static object Message(DueDelivery d) => d.EventKind switch
    {
        Outbox.ChangeKind => JsonSerializer.Deserialize<DossierStatusChanged>(d.EventJson, SubscriptionRouter.Json)!,
        Outbox.StepKind => JsonSerializer.Deserialize<DossierStepAdded>(d.EventJson, SubscriptionRouter.Json)!,
        _ => throw new InvalidOperationException($"Delivery {d.Id} holds an event of an unknown kind {d.EventKind}."),
    };

    /// <summary>The exchange-log entries of one request: what was sent, and the subscriber's reply (the receipt).</summary>
    private IEnumerable<ExchangeRecord> Entries(SubscriptionRegistration registration, DeliveryExchange x)
    {
        var now = timeProvider.GetUtcNow();
        var detail = JsonSerializer.Serialize(new
        {
            subscription = registration.Id,
            operation = x.Operation,
            events = x.EventIds,
            status = x.StatusCode,
            accepted = x.Accepted,
        }, SubscriptionRouter.Json);
        yield return new ExchangeRecord
        {
            Kind = ExchangeRecord.MessageKind,
            ConnectorId = SubscriptionCatalog.LogId(registration.Id),
            Direction = "outbound",
            Transport = registration.Kind,
            ReceivedAt = now,
            ContentType = x.ContentType,
            Payload = x.RequestWithheld is null ? x.Request : null,
            PayloadWithheld = x.RequestWithheld,
            Outcome = x.Accepted ? "done" : "failed",
            Reason = x.Reason,
            Dossiers = [.. x.Dossiers.Distinct(StringComparer.Ordinal)],
            Action = "delivery." + x.Operation,
            Detail = detail,
        };
        if (x.StatusCode is not null)
        {
            yield return new ExchangeRecord
            {
                Kind = ExchangeRecord.MessageKind,
                ConnectorId = SubscriptionCatalog.LogId(registration.Id),
                Direction = "inbound",
                Transport = registration.Kind,
                ReceivedAt = now,
                ContentType = "application/json",
                Payload = x.Reply,
                Outcome = x.Accepted ? "stored" : "rejected",
                Reason = x.Reason,
                Dossiers = [.. x.Dossiers.Distinct(StringComparer.Ordinal)],
                Action = "receipt." + x.Operation,
                Detail = detail,
            };
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivering to subscribers failed ({Failures} in a row); deliveries stay due")]
    private static partial void LogLoopFailed(ILogger logger, int failures, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Subscription {SubscriptionId}: its kind {Kind} is not loaded here; its deliveries wait")]
    private static partial void LogKindMissing(ILogger logger, string subscriptionId, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscription {SubscriptionId}: delivering failed; its deliveries stay due")]
    private static partial void LogSubscriptionFailed(ILogger logger, string subscriptionId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscription {SubscriptionId}: a batch of {Count} events failed: {Reason}")]
    private static partial void LogBatchFailed(ILogger logger, string subscriptionId, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscription {SubscriptionId}: this node lost its lease during a batch; the batch's outcome was not recorded and another node delivers it again")]
    private static partial void LogLeaseLost(ILogger logger, string subscriptionId);
}
