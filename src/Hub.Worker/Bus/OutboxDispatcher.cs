using Hub.Contracts;
using Hub.Core.Store;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Bus;

/// <summary>
/// Publishes the store's transactional outbox on the bus: claims pending events, publishes each with its stable event
/// id as the message id, marks them sent and commits, until the outbox is empty; then waits
/// <see cref="BusOptions.DispatchInterval"/>. A crash or a failed publish leaves the claimed events pending, so each is
/// published at least once (docs/decisions/0018).
/// </summary>
public sealed partial class OutboxDispatcher(
    IServiceProvider services, IOptions<BusOptions> options, TimeProvider timeProvider, ILogger<OutboxDispatcher> logger) : BackgroundService
{
    /// <summary>How often the rows of events sent longer ago than <see cref="BusOptions.KeepSent"/> are deleted.</summary>
    private static readonly TimeSpan PurgeEvery = TimeSpan.FromHours(1);

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.DispatchOutbox)
        {
            return;
        }

        var failures = 0;
        var purgedAt = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            // First wait: the database is started and migrated by hosted services of its own.
            await Task.Delay(failures == 0 ? settings.DispatchInterval : Backoff(failures, settings.DispatchInterval), timeProvider, stoppingToken);
            try
            {
                await DrainAsync(stoppingToken);
                failures = 0;
                var now = timeProvider.GetUtcNow();
                if (now - purgedAt >= PurgeEvery)
                {
                    await services.GetRequiredService<Outbox>().PurgeSentAsync(now - settings.KeepSent, stoppingToken);
                    purgedAt = now;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The events stay pending; the loop outlives a database or bus outage and tries again, backing off.
                failures++;
                LogDispatchFailed(logger, failures, e);
            }
        }
    }

    /// <summary>Publishes until the outbox has nothing this node can take.</summary>
    public async Task<int> DrainAsync(CancellationToken cancellationToken)
    {
        var outbox = services.GetRequiredService<Outbox>();
        var bus = services.GetRequiredService<IBus>();
        var total = 0;
        while (true)
        {
            var dispatch = await outbox.DispatchAsync(options.Value.DispatchBatchSize, (events, ct) => PublishAsync(bus, events, options.Value.PublishTimeout, ct), cancellationToken);
            total += dispatch.Published;
            if (dispatch.Published + dispatch.Superseded == 0)
            {
                return total;
            }
        }
    }

    private static async Task PublishAsync(IPublishEndpoint bus, IReadOnlyList<OutboxEvent> events, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await PublishAllAsync(bus, events, limit.Token);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The bus did not publish {events.Count} events within Hub:Bus:PublishTimeout ({timeout}); is the broker reachable?");
        }
    }

    /// <summary>
    /// Publishes a claim's events all at once and waits for every one: with RabbitMQ each publish completes when the
    /// broker confirms it, so awaiting them one after the other cost a round trip to the broker per event and held a
    /// node to a few hundred events per second. Events may reach consumers in any order (docs/decisions/0018), so
    /// nothing depends on the order of one claim's publishes; if any fails, none of the claim is marked sent.
    /// </summary>
    private static Task PublishAllAsync(IPublishEndpoint bus, IReadOnlyList<OutboxEvent> events, CancellationToken cancellationToken)
    {
        var publishing = new Task[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var id = e.EventId;
            publishing[i] = e.Message switch
            {
                DossierStatusChanged changed => bus.Publish(changed, c => c.MessageId = id, cancellationToken),
                DossierStepAdded step => bus.Publish(step, c => c.MessageId = id, cancellationToken),
                _ => throw new InvalidOperationException($"The outbox holds an event of an unknown type {e.Message.GetType().Name}."),
            };
        }

        return Task.WhenAll(publishing);
    }

    private static TimeSpan Backoff(int failures, TimeSpan interval) =>
        TimeSpan.FromTicks(Math.Min(interval.Ticks * (1L << Math.Min(failures, 6)), TimeSpan.FromMinutes(1).Ticks));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing the outbox failed ({Failures} in a row); the events stay pending and are published again")]
    private static partial void LogDispatchFailed(ILogger logger, int failures, Exception exception);
}
