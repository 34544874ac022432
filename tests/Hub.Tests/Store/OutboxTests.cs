using Hub.Contracts;
using Hub.Core.Store;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Store;

/// <summary>
/// The transactional outbox on a real PostgreSQL: every change the store accepts and every step it stores is announced
/// once, in the batch's own transaction; a dispatch publishes them exactly as stored, at least once, and dispatchers
/// running at the same time never take the same event.
/// </summary>
public class OutboxTests
{
    private static Outbox OutboxOf(NpgsqlDataSource db) => new(db, TimeProvider.System);

    private static async Task<long> CountAsync(NpgsqlDataSource db, string where = "true")
    {
        await using var command = db.CreateCommand($"select count(*) from outbox where {where}");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<List<OutboxEvent>> DispatchAllAsync(Outbox outbox, int max = 1000)
    {
        var published = new List<OutboxEvent>();
        while ((await outbox.DispatchAsync(max, (events, _) => { published.AddRange(events); return Task.CompletedTask; }, CancellationToken.None)) is { } d
               && d.Published + d.Superseded > 0)
        {
        }

        return published;
    }

    [Fact]
    public async Task Every_accepted_change_and_stored_step_is_announced_once_and_published_exactly_as_stored()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("outbox");
        var store = Changes.Store(db);
        var first = new ChangeBatch
        {
            Dossiers =
            [
                Changes.Change("H56", "A", 10, NationalStatus.Received),
                Changes.Change("H56", "A", 20, NationalStatus.Processing),
                Changes.Change("H56", "B", 10, NationalStatus.Received),
                Changes.Change("H56", "A", 20, NationalStatus.Processing), // the same change twice in a batch
                Changes.Change("H56", "C", 10, NationalStatus.Received) with { DossierCode = "H56-A" }, // another dossier's code: rejected
            ],
            Steps =
            [
                Changes.Step("H56", "A", 10, NationalStatus.Received, "Tiếp nhận hồ sơ"),
                Changes.Step("H56", "A", 20, NationalStatus.Processing, "Thẩm định hồ sơ"),
            ],
        };
        var result = await store.WriteAsync(first, CancellationToken.None);
        Assert.Single(result.Rejected);
        Assert.Equal(3, result.HistoryRowsAdded);
        Assert.Equal(5, await CountAsync(db));

        // Sent again: nothing new is stored, so nothing new is announced. An older change arriving late is announced,
        // as not current.
        await store.WriteAsync(first, CancellationToken.None);
        Assert.Equal(5, await CountAsync(db));
        await store.WriteAsync(new ChangeBatch { Dossiers = [Changes.Change("H56", "A", 5, NationalStatus.Submitted)] }, CancellationToken.None);
        Assert.Equal(6, await CountAsync(db));

        var published = await DispatchAllAsync(OutboxOf(db));

        var stored = (await store.GetByKeyAsync(new DossierKey("H56", "A"), CancellationToken.None))!;
        var storedB = (await store.GetByKeyAsync(new DossierKey("H56", "B"), CancellationToken.None))!;
        var changes = published.Select(e => e.Message).OfType<DossierStatusChanged>().ToList();
        var steps = published.Select(e => e.Message).OfType<DossierStepAdded>().ToList();
        Assert.Equal(
            stored.History.Select(h => h.Change).Concat(storedB.History.Select(h => h.Change)).OrderBy(c => (c.NativeId, c.EventTime)),
            changes.Select(c => c.Change).OrderBy(c => (c.NativeId, c.EventTime)));
        // Current when stored: A at 20 and B at 10 were; A at 10 was replaced in the same batch; A at 5 came late.
        Assert.Equal(
            [("A", 5, false), ("A", 10, false), ("A", 20, true), ("B", 10, true)],
            changes.Select(c => (c.Change.NativeId, (int)(c.Change.EventTime - Changes.T0).TotalMinutes, c.Current)).Order());
        Assert.Equal(stored.Steps.Select(s => s.Step), steps.Select(s => s.Step).OrderBy(s => s.StepTime));
        Assert.All(steps, s => Assert.Equal("H56-A", s.DossierCode));
        Assert.Equal(published.Count, published.Select(e => e.EventId).Distinct().Count());
        Assert.Equal(0, await OutboxOf(db).PendingAsync(CancellationToken.None));
        Assert.Empty(await DispatchAllAsync(OutboxOf(db)));
    }

    [Fact]
    public async Task A_batch_rolled_back_announces_nothing()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("outbox_rollback");
        var store = Changes.Store(db);
        var batch = new ChangeBatch
        {
            Dossiers = [Changes.Change("H56", "R", 10, NationalStatus.Received)],
            Steps = [Changes.Step("H56", "R", 10, NationalStatus.Received, "Tiếp nhận hồ sơ")],
        };

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteAsync(batch,
            (_, _, _) => throw new InvalidOperationException("the cursor could not be stored"), CancellationToken.None));

        Assert.Equal(0, await CountAsync(db));
        Assert.Null(await store.GetByKeyAsync(new DossierKey("H56", "R"), CancellationToken.None));
    }

    [Fact]
    public async Task A_failed_publish_leaves_the_events_pending_and_they_are_published_again_with_the_same_ids()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("outbox_retry");
        var store = Changes.Store(db);
        await store.WriteAsync(new ChangeBatch { Dossiers = [Changes.Change("H56", "P", 10, NationalStatus.Received), Changes.Change("H56", "Q", 10, NationalStatus.Received)] }, CancellationToken.None);
        var outbox = OutboxOf(db);
        var attempted = new List<Guid>();

        await Assert.ThrowsAsync<TimeoutException>(() => outbox.DispatchAsync(10, (events, _) =>
        {
            attempted.AddRange(events.Select(e => e.EventId));
            throw new TimeoutException("the bus did not confirm");
        }, CancellationToken.None));

        Assert.Equal(2, await outbox.PendingAsync(CancellationToken.None));
        var published = await DispatchAllAsync(outbox);
        Assert.Equal(attempted, published.Select(e => e.EventId));
        Assert.Equal(0, await outbox.PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Purging_deletes_only_events_sent_before_the_cutoff()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("outbox_purge");
        var store = Changes.Store(db);
        var outbox = OutboxOf(db);
        await store.WriteAsync(new ChangeBatch { Dossiers = [Changes.Change("H56", "S1", 10, NationalStatus.Received)] }, CancellationToken.None);
        await DispatchAllAsync(outbox);
        await store.WriteAsync(new ChangeBatch { Dossiers = [Changes.Change("H56", "S2", 10, NationalStatus.Received)] }, CancellationToken.None);

        Assert.Equal(0, await outbox.PurgeSentAsync(DateTimeOffset.UtcNow.AddMinutes(-5), CancellationToken.None));
        Assert.Equal(1, await outbox.PurgeSentAsync(DateTimeOffset.UtcNow.AddMinutes(5), CancellationToken.None));

        Assert.Equal(1, await CountAsync(db));
        Assert.Equal(1, await outbox.PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Dispatchers_running_at_once_take_different_events()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("outbox_concurrent");
        var store = Changes.Store(db);
        await store.WriteAsync(new ChangeBatch
        {
            Dossiers = [.. Enumerable.Range(0, 10).Select(i => Changes.Change("H56", $"N{i}", 10, NationalStatus.Received))],
        }, CancellationToken.None);
        var release = new TaskCompletionSource();
        var claimed = new TaskCompletionSource();
        var first = new List<OutboxEvent>();

        // The first dispatcher holds its claim of five events until released.
        var holding = OutboxOf(db).DispatchAsync(5, async (events, ct) =>
        {
            first.AddRange(events);
            claimed.SetResult();
            await release.Task.WaitAsync(ct);
        }, CancellationToken.None);
        await claimed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var second = await DispatchAllAsync(OutboxOf(db), max: 3);
        release.SetResult();
        await holding;

        Assert.Equal(5, first.Count);
        Assert.Equal(5, second.Count);
        Assert.Empty(first.Select(e => e.EventId).Intersect(second.Select(e => e.EventId)));
        Assert.Equal(0, await OutboxOf(db).PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_step_waits_for_its_dossier_and_a_step_changed_again_before_publication_is_published_once_as_stored()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("outbox_steps");
        var store = Changes.Store(db);
        var outbox = OutboxOf(db);
        await store.WriteAsync(new ChangeBatch { Steps = [Changes.Step("H56", "W", 10, NationalStatus.Received, "Tiếp nhận hồ sơ")] }, CancellationToken.None);

        Assert.Empty(await DispatchAllAsync(outbox));
        Assert.Equal(1, await outbox.PendingAsync(CancellationToken.None));

        // The same step with other details (a greater content hash wins in the table), then the dossier's header.
        var a = Changes.Step("H56", "W", 10, NationalStatus.Received, "Tiếp nhận hồ sơ", officer: "Officer A");
        var b = Changes.Step("H56", "W", 10, NationalStatus.Received, "Tiếp nhận hồ sơ", officer: "Officer B");
        await store.WriteAsync(new ChangeBatch { Steps = [a] }, CancellationToken.None);
        await store.WriteAsync(new ChangeBatch { Steps = [b] }, CancellationToken.None);
        await store.WriteAsync(new ChangeBatch { Dossiers = [Changes.Change("H56", "W", 10, NationalStatus.Received)] }, CancellationToken.None);

        var published = await DispatchAllAsync(outbox);
        var stored = Assert.Single((await store.GetByKeyAsync(new DossierKey("H56", "W"), CancellationToken.None))!.Steps);
        var step = Assert.Single(published.Select(e => e.Message).OfType<DossierStepAdded>());
        Assert.Equal(stored.Step, step.Step);
        Assert.Equal("H56-W", step.DossierCode);
        Assert.Single(published.Select(e => e.Message).OfType<DossierStatusChanged>());
        Assert.Equal(0, await outbox.PendingAsync(CancellationToken.None));
    }
}
