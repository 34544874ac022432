using System.Collections.Concurrent;
using Hub.Contracts;
using Hub.Core.Store;
using Hub.Tests.Infrastructure;
using Hub.Worker.Bus;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hub.Tests.Bus;

/// <summary>
/// The outbox dispatcher publishing on a real MassTransit bus (in memory, with its test harness) from a real
/// PostgreSQL: each stored change and step reaches a consumer with its stable event id as the message id; and a real
/// hub process publishes its own outbox.
/// </summary>
public class OutboxDispatcherTests
{
    /// <summary>A subscriber that records what it received, by message id.</summary>
    public sealed class Recorder : IConsumer<DossierStatusChanged>, IConsumer<DossierStepAdded>
    {
        public static readonly ConcurrentDictionary<Guid, object> Received = new();

        public Task Consume(ConsumeContext<DossierStatusChanged> context)
        {
            Received[context.MessageId!.Value] = context.Message;
            return Task.CompletedTask;
        }

        public Task Consume(ConsumeContext<DossierStepAdded> context)
        {
            Received[context.MessageId!.Value] = context.Message;
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Stored_changes_and_steps_reach_a_consumer_exactly_as_stored_with_their_event_ids()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("dispatch");
        var store = Changes.Store(db);
        await store.WriteAsync(new ChangeBatch
        {
            Dossiers = [Changes.Change("H56", "D1", 10, NationalStatus.Received), Changes.Change("H56", "D1", 20, NationalStatus.Processing)],
            Steps = [Changes.Step("H56", "D1", 15, NationalStatus.Received, "Tiếp nhận hồ sơ")],
        }, CancellationToken.None);

        await using var provider = new ServiceCollection()
            .AddSingleton<NpgsqlDataSource>(db)
            .AddSingleton(TimeProvider.System)
            .AddSingleton<Outbox>()
            .AddMassTransitTestHarness(x =>
            {
                x.DisableUsageTelemetry();
                x.AddConsumer<Recorder>();
            })
            .BuildServiceProvider(true);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        var dispatcher = new OutboxDispatcher(provider, Options.Create(new BusOptions { DispatchBatchSize = 2 }), TimeProvider.System, NullLogger<OutboxDispatcher>.Instance);

        Assert.Equal(3, await dispatcher.DrainAsync(CancellationToken.None));

        var stored = (await store.GetByKeyAsync(new DossierKey("H56", "D1"), CancellationToken.None))!;
        var consumer = harness.GetConsumerHarness<Recorder>();
        Assert.True(await consumer.Consumed.Any<DossierStatusChanged>(c => c.Context.Message.Change == stored.Current));
        Assert.True(await consumer.Consumed.Any<DossierStepAdded>(c => c.Context.Message.Step == stored.Steps[0].Step));
        var published = harness.Published.Select<DossierStatusChanged>().Select(p => (p.Context.MessageId, p.Context.Message.EventId)).ToList();
        Assert.Equal(2, published.Count);
        Assert.All(published, p => Assert.Equal(p.EventId, p.MessageId));
        Assert.Equal(stored.History.Select(h => h.Change).OrderBy(c => c.EventTime),
            harness.Published.Select<DossierStatusChanged>().Select(p => p.Context.Message.Change).OrderBy(c => c.EventTime));
        Assert.Equal(0, await provider.GetRequiredService<Outbox>().PendingAsync(CancellationToken.None));
        await harness.Stop();
    }

    [Fact]
    public async Task A_hub_process_publishes_its_outbox_on_its_own()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("dispatch_host");
        var work = Directory.CreateTempSubdirectory("hub-dispatch-").FullName;
        try
        {
            await using var hub = HubProcess.Start(work, new Dictionary<string, string>
            {
                ["ConnectionStrings__Hub"] = db.ConnectionString,
                ["Hub__Bus__DispatchInterval"] = "00:00:00.200",
            });
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(90));
            await Changes.Store(db).WriteAsync(new ChangeBatch
            {
                Dossiers = [.. Enumerable.Range(0, 20).Select(i => Changes.Change("H56", $"H{i}", 10, NationalStatus.Received))],
            }, CancellationToken.None);
            var outbox = new Outbox(db, TimeProvider.System);

            var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
            while (await outbox.PendingAsync(CancellationToken.None) > 0 && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            Assert.Equal(0, await outbox.PendingAsync(CancellationToken.None));
            await using var sent = db.CreateCommand("select count(*) from outbox where sent_at is not null");
            Assert.Equal(20L, await sent.ExecuteScalarAsync());
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
