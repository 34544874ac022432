using System.Diagnostics;
using Hub.Contracts;
using Hub.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Hub.Tests.Bus;

/// <summary>The tests that run several hub processes under load on RabbitMQ: one at a time, since each loads the whole machine.</summary>
[CollectionDefinition(Name)]
public sealed class HubNodesCollection
{
    public const string Name = "hub nodes under load";
}

/// <summary>
/// The outbox's promise under crashes: a hub killed (SIGKILL) while it publishes, between the broker's confirmation and
/// the commit that marks the rows sent, publishes those events again after its restart; nothing stored is left
/// unpublished, and a subscriber that applies events by id ends up with exactly the store's state.
/// </summary>
[Collection(HubNodesCollection.Name)]
public class DispatcherCrashTests(ITestOutputHelper output)
{
    private const int Kills = 3;

    [Fact]
    public async Task A_dispatcher_killed_between_publish_and_commit_publishes_every_stored_change_at_least_once_and_the_subscriber_applies_each_once()
    {
        var clock = Stopwatch.StartNew();
        var broker = await TestRabbitMq.CreateVirtualHostAsync("crash");
        await using var db = await TestDatabase.CreateSchemaAsync("dispatch_crash");
        var work = Directory.CreateTempSubdirectory("hub-dispatch-crash-").FullName;
        try
        {
            // The subscriber's queue is bound before anything is published: RabbitMQ drops what no queue is bound for.
            await using var subscriber = await BusSubscriber.StartAsync(broker);

            // A subscription delivered by the hub itself: its routing and deliveries are killed too.
            await using var webhook = await WebhookSubscriber.StartAsync();
            await webhook.SubscribeAsync(db, "crash-copy");
            var settings = new Dictionary<string, string>(broker.HubSettings(db))
            {
                // Small transactions, so that a kill lands between claims, publishes and commits.
                ["Hub__Bus__DispatchBatchSize"] = "20",
                ["Hub__Scheduler__Enabled"] = "false",
                ["Hub__Subscriptions__Lease"] = "00:00:05",
                ["Hub__Subscriptions__BatchTimeout"] = "00:00:03",
                ["Hub__Subscriptions__DeliveryInterval"] = "00:00:00.200",
            };
            var hub = HubProcess.Start(work, settings);
            try
            {
                await hub.WaitReadyAsync(TimeSpan.FromSeconds(90));
                using var stop = new CancellationTokenSource();
                var load = new Load(Changes.Store(db));
                var writer = load.RunAsync(TimeSpan.FromMilliseconds(250), stop.Token);

                var random = new Random(18);
                var kills = new List<string>();
                var killedMidDispatch = 0;
                for (var k = 0; k < Kills; k++)
                {
                    await Task.Delay(random.Next(1500, 3000));

                    // Kill while a dispatch transaction is open (its claimed rows are locked): it has published some of
                    // its events, or is about to, and has not marked them sent.
                    var open = false;
                    for (var wait = 0; wait < 400 && !(open = await DispatchOpenAsync(db)); wait++)
                    {
                        await Task.Delay(5);
                    }

                    hub.Kill();
                    killedMidDispatch += open ? 1 : 0;
                    var pending = await ScalarAsync(db, "select count(*) from outbox where sent_at is null");
                    var sent = await ScalarAsync(db, "select count(*) from outbox where sent_at is not null");
                    kills.Add($"kill {k + 1} at {clock.Elapsed.TotalSeconds:0.0} s: {pending} pending, {sent} sent, dispatch open {open}, " +
                        $"{subscriber.View.Received} deliveries so far");
                    Assert.True(pending > 0, $"Kill {k + 1} found the outbox empty: it did not interrupt publishing.");

                    // Restarted on the same database and virtual host while the writes go on.
                    await hub.DisposeAsync();
                    hub = HubProcess.Start(work, settings);
                    await hub.WaitReadyAsync(TimeSpan.FromSeconds(90));
                }

                await Task.Delay(1000);
                await stop.CancelAsync();
                await writer;

                var drained = Stopwatch.StartNew();
                for (var wait = 0; wait < 600 && await ScalarAsync(db, "select count(*) from outbox where sent_at is null") > 0; wait++)
                {
                    Assert.False(hub.HasExited, $"The hub exited:\n{hub.Output}");
                    await Task.Delay(100);
                }

                Assert.Equal(0L, await ScalarAsync(db, "select count(*) from outbox where sent_at is null"));
                await subscriber.WaitForStoredAsync(db, TimeSpan.FromSeconds(30));

                var view = subscriber.View;
                var history = await ScalarAsync(db, "select count(*) from dossier_change");
                var steps = await ScalarAsync(db, "select count(*) from dossier_step");
                foreach (var line in kills)
                {
                    output.WriteLine(line);
                }

                output.WriteLine($"{load.Batches} batches written ({load.ChangesSent} changes, {load.StepsSent} steps sent); stored {history} changes " +
                    $"(history), {steps} steps, {await ScalarAsync(db, "select count(*) from outbox")} outbox rows; outbox drained " +
                    $"{drained.Elapsed.TotalSeconds:0.0} s after the writes stopped");
                output.WriteLine($"Subscriber: {view.Received} deliveries, {view.Applied} events applied, {view.Redelivered} redelivered " +
                    $"(published again after a kill); {killedMidDispatch} of {Kills} kills hit an open dispatch; {clock.Elapsed.TotalSeconds:0} s in all");

                // Nothing stored was left unpublished (the assertion names what is missing), and the view is the store.
                await subscriber.AssertViewEqualsStoreAsync(db);

                // The webhook subscriber, fed by the hub's routing and delivery through the same kills, applied every event once.
                await webhook.View.WaitForStoredAsync(db, TimeSpan.FromSeconds(60));
                output.WriteLine($"Webhook subscriber: {webhook.View.Received} events received, {webhook.View.Applied} applied, {webhook.View.Redelivered} redelivered");
                await webhook.View.AssertEqualsStoreAsync(db);
                Assert.Empty(webhook.BadSignatures);

                // The kills interrupted dispatches that had published events without marking them sent: those came again.
                Assert.True(killedMidDispatch > 0, "No kill hit an open dispatch transaction.");
                Assert.True(view.Redelivered > 0, "No event was delivered twice: no kill landed between a publish and its commit.");
            }
            finally
            {
                await hub.DisposeAsync();
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Whether a dispatcher holds claimed outbox rows right now: a transaction with the outbox's row-share lock other than the writer's.</summary>
    private static async Task<bool> DispatchOpenAsync(NpgsqlDataSource db) => await ScalarAsync(db, """
        select count(*) from pg_locks
        where relation = 'outbox'::regclass and mode = 'RowShareLock' and pid <> pg_backend_pid()
        """) > 0;

    private static async Task<long> ScalarAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// Writes batches of changes and steps through the store, as the hub's ingest does: new dossiers, progress of earlier
    /// ones, late older changes (history only), resent changes (nothing new) and steps resent with other details.
    /// </summary>
    private sealed class Load(Hub.Core.Store.StatusStore store)
    {
        private const int NewPerBatch = 15;

        private readonly Random _random = new(2018);
        private readonly List<(string System, string Id, int Minute)> _dossiers = [];

        public int Batches { get; private set; }

        public int ChangesSent { get; private set; }

        public int StepsSent { get; private set; }

        public async Task RunAsync(TimeSpan pause, CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                var batch = Next();
                var result = await store.WriteAsync(batch, CancellationToken.None);
                Assert.Empty(result.Rejected);
                Batches++;
                ChangesSent += batch.Dossiers.Count;
                StepsSent += batch.Steps.Count;
                try
                {
                    await Task.Delay(pause, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        private ChangeBatch Next()
        {
            var changes = new List<DossierChange>();
            var steps = new List<DossierStep>();
            for (var i = 0; i < NewPerBatch; i++)
            {
                var system = i % 2 == 0 ? "H56" : "G09";
                var id = $"K{Batches:0000}-{i:00}";
                var minute = _random.Next(0, 5000);
                _dossiers.Add((system, id, minute));
                changes.Add(Changes.Change(system, id, minute, NationalStatus.Received));
                changes.Add(Changes.Change(system, id, minute + 5, NationalStatus.Processing, version: 1));
                steps.Add(Changes.Step(system, id, minute, NationalStatus.Received, "Tiếp nhận hồ sơ"));
                steps.Add(Changes.Step(system, id, minute + 5, NationalStatus.Processing, "Chuyển phòng chuyên môn"));
            }

            var picked = new HashSet<int>();
            for (var j = 0; j < 10 && _dossiers.Count > 2 * NewPerBatch; j++)
            {
                // Earlier dossiers, each once per batch.
                var pick = _random.Next(_dossiers.Count - NewPerBatch);
                if (!picked.Add(pick))
                {
                    continue;
                }

                var (system, id, minute) = _dossiers[pick];
                var later = minute + 10 + _random.Next(1, 3000);
                switch (_random.Next(4))
                {
                    case 0:
                        // Progress: a newer change becomes current.
                        changes.Add(Changes.Change(system, id, later, NationalStatus.Resolved, version: 2, dueDays: 5));
                        steps.Add(Changes.Step(system, id, later, NationalStatus.Resolved, $"Giải quyết {later}"));
                        break;
                    case 1:
                        // A late, older change: history only.
                        changes.Add(Changes.Change(system, id, minute - 1 - _random.Next(100), NationalStatus.Submitted));
                        break;
                    case 2:
                        // Sent again: nothing new to store or announce.
                        changes.Add(Changes.Change(system, id, minute, NationalStatus.Received));
                        steps.Add(Changes.Step(system, id, minute, NationalStatus.Received, "Tiếp nhận hồ sơ"));
                        break;
                    default:
                        // The same step with other details: the store keeps one content per step key.
                        steps.Add(Changes.Step(system, id, minute + 5, NationalStatus.Processing, "Chuyển phòng chuyên môn",
                            officer: $"Officer {(char)('A' + _random.Next(26))}"));
                        break;
                }
            }

            return new ChangeBatch { Dossiers = changes, Steps = steps };
        }
    }
}
