using System.Collections.Concurrent;
using Hub.Contracts;
using Hub.Core.Store;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Hub.Tests.Infrastructure;

/// <summary>What a subscriber received: the message and the message id it came with.</summary>
public sealed record Delivery(Guid? MessageId, DossierStatusChanged Message);

/// <summary>
/// What a subscriber of the hub's events made of them, as a downstream system would: every event applied once by its
/// <see cref="DossierStatusChanged.EventId"/> (repeats are counted, not applied), the current change of each dossier
/// chosen by the change's own order (event time, source version, content hash: the store's rule, so the arrival order
/// does not matter) and each step by its key (the content with the greatest hash, as the store keeps it).
/// </summary>
public sealed class SubscriberView
{
    private readonly Lock _lock = new();
    private readonly HashSet<Guid> _applied = [];
    private readonly Dictionary<DossierKey, (DossierChange Change, byte[] Hash)> _current = [];
    private readonly Dictionary<(DossierKey Dossier, string StepKey), (DossierStep Step, byte[] Hash)> _steps = [];

    /// <summary>Every delivery of a <see cref="DossierStatusChanged"/>, repeats included, in arrival order.</summary>
    public ConcurrentQueue<Delivery> Deliveries { get; } = new();

    /// <summary>Deliveries of both kinds, repeats included.</summary>
    public int Received { get; private set; }

    /// <summary>Deliveries whose event had been applied already.</summary>
    public int Redelivered { get; private set; }

    /// <summary>Deliveries whose message id was not the event's id.</summary>
    public int WrongMessageIds { get; private set; }

    /// <summary>Distinct events applied.</summary>
    public int Applied
    {
        get
        {
            lock (_lock)
            {
                return _applied.Count;
            }
        }
    }

    /// <summary>The ids of the events applied.</summary>
    public HashSet<Guid> AppliedIds()
    {
        lock (_lock)
        {
            return [.. _applied];
        }
    }

    public void Apply(Guid? messageId, DossierStatusChanged message)
    {
        Deliveries.Enqueue(new Delivery(messageId, message));
        lock (_lock)
        {
            if (!Seen(messageId, message.EventId))
            {
                var key = new DossierKey(message.Change.SourceSystem, message.Change.NativeId);
                var hash = ChangeHashing.Hash(message.Change);
                if (!_current.TryGetValue(key, out var current) || Newer(message.Change, hash, current.Change, current.Hash))
                {
                    _current[key] = (message.Change, hash);
                }
            }
        }
    }

    public void Apply(Guid? messageId, DossierStepAdded message)
    {
        lock (_lock)
        {
            if (!Seen(messageId, message.EventId))
            {
                var key = (new DossierKey(message.Step.SourceSystem, message.Step.NativeId), Convert.ToHexString(ChangeHashing.StepKey(message.Step)));
                var hash = ChangeHashing.Hash(message.Step);
                if (!_steps.TryGetValue(key, out var stored) || hash.AsSpan().SequenceCompareTo(stored.Hash) > 0)
                {
                    _steps[key] = (message.Step, hash);
                }
            }
        }
    }

    /// <summary>Whether the event was applied before; counts the delivery, and the application when it was not.</summary>
    private bool Seen(Guid? messageId, Guid eventId)
    {
        Received++;
        if (messageId != eventId)
        {
            WrongMessageIds++;
        }

        if (!_applied.Add(eventId))
        {
            Redelivered++;
            return true;
        }

        return false;
    }

    /// <summary>The store's order of newness (StatusStore.CompareNewness): event time to the microsecond, source version, content hash.</summary>
    private static bool Newer(DossierChange a, byte[] aHash, DossierChange b, byte[] bHash)
    {
        var byTime = ChangeHashing.ToMicroseconds(a.EventTime).CompareTo(ChangeHashing.ToMicroseconds(b.EventTime));
        if (byTime != 0)
        {
            return byTime > 0;
        }

        var byVersion = (a.SourceVersion ?? long.MinValue).CompareTo(b.SourceVersion ?? long.MinValue);
        return byVersion != 0 ? byVersion > 0 : aHash.AsSpan().SequenceCompareTo(bHash) > 0;
    }

    /// <summary>The view's current changes and steps, as text lines in the store's order, to compare with <see cref="StoreLinesAsync"/>.</summary>
    public (List<string> Current, List<string> Steps) Lines()
    {
        lock (_lock)
        {
            return (
                [.. _current.Values.Select(c => Line(c.Change)).Order(StringComparer.Ordinal)],
                [.. _steps.Values.Select(s => Line(s.Step)).Order(StringComparer.Ordinal)]);
        }
    }

    /// <summary>What the store holds as each dossier's current change and as its steps, as the same text lines as <see cref="Lines"/>.</summary>
    public static async Task<(List<string> Current, List<string> Steps)> StoreLinesAsync(NpgsqlDataSource db)
    {
        var current = new List<string>();
        await using (var command = db.CreateCommand($"select {StatusStore.ChangeColumns} from dossier"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                current.Add(Line(StatusStore.ReadChange(reader, 0)));
            }
        }

        var steps = new List<string>();
        await using (var command = db.CreateCommand($"select {StatusStore.StepColumns} from dossier_step"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                steps.Add(Line(StatusStore.ReadStep(reader, 0)));
            }
        }

        return ([.. current.Order(StringComparer.Ordinal)], [.. steps.Order(StringComparer.Ordinal)]);
    }

    /// <summary>
    /// The event ids of everything the store holds: one per change of the history, one per step (its stored content);
    /// each is what the outbox published for that record (<see cref="Outbox.EventIdOf"/>).
    /// </summary>
    public static async Task<(HashSet<Guid> Changes, HashSet<Guid> Steps)> StoredEventIdsAsync(NpgsqlDataSource db)
    {
        async Task<HashSet<Guid>> Read(string kind, string sql)
        {
            var ids = new HashSet<Guid>();
            await using var command = db.CreateCommand(sql);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                ids.Add(Outbox.EventIdOf(kind, reader.GetString(0), reader.GetString(1), reader.GetFieldValue<byte[]>(2)));
            }

            return ids;
        }

        return (await Read(Outbox.ChangeKind, "select source_system, native_id, change_hash from dossier_change"),
            await Read(Outbox.StepKind, "select source_system, native_id, content_hash from dossier_step"));
    }

    private static string Line(DossierChange c) =>
        $"{c.SourceSystem}|{c.NativeId}|{Convert.ToHexString(ChangeHashing.Hash(c))}|{c.EventTime.UtcTicks}|{c.SourceVersion}|{c.Status}|{c.DossierCode}";

    private static string Line(DossierStep s) =>
        $"{s.SourceSystem}|{s.NativeId}|{Convert.ToHexString(ChangeHashing.StepKey(s))}|{Convert.ToHexString(ChangeHashing.Hash(s))}|{s.StepTime.UtcTicks}|{s.Officer}";

    /// <summary>
    /// Waits until every event the store's records were announced with has been applied, or the timeout has passed;
    /// <see cref="AssertEqualsStoreAsync"/> then says what is missing, if anything.
    /// </summary>
    public async Task WaitForStoredAsync(NpgsqlDataSource db, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (DateTimeOffset.UtcNow < deadline)
        {
            var (changes, steps) = await SubscriberView.StoredEventIdsAsync(db);
            var applied = AppliedIds();
            if (changes.IsSubsetOf(applied) && steps.IsSubsetOf(applied))
            {
                return;
            }

            await Task.Delay(500);
        }
    }

    /// <summary>
    /// The store and the view agree: every change of the history and every stored step was received (by event id),
    /// every change event received is a change of the history, every message id is its event's id, and the view's current
    /// change of each dossier and its steps are the store's.
    /// </summary>
    public async Task AssertEqualsStoreAsync(NpgsqlDataSource db)
    {
        var (changes, steps) = await SubscriberView.StoredEventIdsAsync(db);
        var applied = AppliedIds();
        var missingChanges = changes.Count(id => !applied.Contains(id));
        var missingSteps = steps.Count(id => !applied.Contains(id));
        Assert.True(missingChanges == 0 && missingSteps == 0,
            $"{missingChanges} of {changes.Count} stored changes and {missingSteps} of {steps.Count} stored steps never reached the subscriber.");
        var invented = Deliveries.Select(d => d.Message.EventId).Distinct().Count(id => !changes.Contains(id));
        Assert.True(invented == 0, $"{invented} change events received name no change of the history.");
        Assert.Equal(0, WrongMessageIds);

        var (storeCurrent, storeSteps) = await SubscriberView.StoreLinesAsync(db);
        var (viewCurrent, viewSteps) = Lines();
        Assert.True(storeCurrent.SequenceEqual(viewCurrent, StringComparer.Ordinal),
            $"The subscriber's current changes differ from the store's ({viewCurrent.Count} against {storeCurrent.Count}); first difference: " +
            FirstDifference(storeCurrent, viewCurrent));
        Assert.True(storeSteps.SequenceEqual(viewSteps, StringComparer.Ordinal),
            $"The subscriber's steps differ from the store's ({viewSteps.Count} against {storeSteps.Count}); first difference: " +
            FirstDifference(storeSteps, viewSteps));
    }

    private static string FirstDifference(List<string> expected, List<string> actual)
    {
        for (var i = 0; i < Math.Min(expected.Count, actual.Count); i++)
        {
            if (expected[i] != actual[i])
            {
                return $"store {expected[i]}, view {actual[i]}";
            }
        }

        return expected.Count > actual.Count ? $"store {expected[actual.Count]}, view none" : actual.Count > expected.Count ? $"view {actual[expected.Count]}, store none" : "none";
    }
}

/// <summary>Applies each event it consumes to the subscriber's <see cref="SubscriberView"/>.</summary>
public sealed class ViewConsumer(SubscriberView view) : IConsumer<DossierStatusChanged>, IConsumer<DossierStepAdded>
{
    public Task Consume(ConsumeContext<DossierStatusChanged> context)
    {
        view.Apply(context.MessageId, context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<DossierStepAdded> context)
    {
        view.Apply(context.MessageId, context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>
/// A MassTransit bus in the test process, subscribed to both event types on a durable queue of its own in a test's
/// virtual host. Its queue is bound once <see cref="StartAsync"/> returns: start it before the hub publishes, since
/// RabbitMQ drops what no queue is bound for.
/// </summary>
public sealed class BusSubscriber(ServiceProvider provider, IBusControl bus) : IAsyncDisposable
{
    /// <summary>The subscriber's view of the events.</summary>
    public SubscriberView View => provider.GetRequiredService<SubscriberView>();

    /// <summary>Every <see cref="DossierStatusChanged"/> delivered, repeats included.</summary>
    public IReadOnlyCollection<Delivery> Received => View.Deliveries;

    public static async Task<BusSubscriber> StartAsync(TestBroker broker, string queue = "hub-tests-subscriber")
    {
        var provider = new ServiceCollection()
            .AddSingleton<SubscriberView>()
            .AddMassTransit(x =>
            {
                x.DisableUsageTelemetry();
                x.AddConsumer<ViewConsumer>().Endpoint(e => e.Name = queue);
                x.UsingRabbitMq((context, cfg) =>
                {
                    cfg.Host(broker.Host, (ushort)broker.Port, broker.VirtualHost, h =>
                    {
                        h.Username(broker.Username);
                        h.Password(broker.Password);
                    });
                    cfg.ConfigureEndpoints(context);
                });
            })
            .BuildServiceProvider(true);
        var bus = provider.GetRequiredService<IBusControl>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var handle = await bus.StartAsync(cts.Token);
        await handle.Ready.WaitAsync(cts.Token);
        return new BusSubscriber(provider, bus);
    }

    /// <summary>The change deliveries once there are this many distinct messages; fails with the hub's output if not in time.</summary>
    public async Task<List<Delivery>> WaitForAsync(int count, TimeSpan timeout, HubProcess hub)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (Distinct().Count < count)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline,
                $"The subscriber received {Distinct().Count} of {count} events within {timeout}. The hub's output:\n{hub.Output}");
            await Task.Delay(100);
        }

        return Distinct();
    }

    /// <summary>Waits until the view has applied every stored record's event (see <see cref="SubscriberView.WaitForStoredAsync"/>).</summary>
    public Task WaitForStoredAsync(NpgsqlDataSource db, TimeSpan timeout) => View.WaitForStoredAsync(db, timeout);

    /// <summary>The store and the view agree (see <see cref="SubscriberView.AssertEqualsStoreAsync"/>).</summary>
    public Task AssertViewEqualsStoreAsync(NpgsqlDataSource db) => View.AssertEqualsStoreAsync(db);

    private List<Delivery> Distinct() => [.. Received.DistinctBy(d => d.MessageId)];

    public async ValueTask DisposeAsync()
    {
        await bus.StopAsync(CancellationToken.None);
        await provider.DisposeAsync();
    }
}
