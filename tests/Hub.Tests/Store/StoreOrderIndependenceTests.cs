using Hub.Contracts;
using Hub.Tests.Infrastructure;

namespace Hub.Tests.Store;

public class StoreOrderIndependenceTests
{
    private const int Trials = 200;

    [Fact]
    public async Task Any_order_with_duplicates_in_any_batches_gives_the_identical_state_and_history()
    {
        var set = Changes.Varied(new Random(20251117));
        string reference;
        await using (var referenceDb = await TestDatabase.CreateSchemaAsync("ref"))
        {
            var result = await Changes.Store(referenceDb).WriteAsync(set, CancellationToken.None);
            Assert.Empty(result.Rejected);
            reference = await StoreSnapshot.TakeAsync(referenceDb);
        }

        var random = new Random(7);
        for (var trial = 0; trial < Trials; trial++)
        {
            await using var db = await TestDatabase.CreateSchemaAsync("perm");
            var store = Changes.Store(db);

            // Shuffle, duplicate some records, cut into random batches; resend some batches; run some pairs at once.
            var dossiers = Changes.Shuffle(set.Dossiers.Concat(set.Dossiers.Where(_ => random.Next(5) == 0)), random);
            var steps = Changes.Shuffle(set.Steps.Concat(set.Steps.Where(_ => random.Next(5) == 0)), random);
            var batches = new List<ChangeBatch>();
            int di = 0, si = 0;
            while (di < dossiers.Count || si < steps.Count)
            {
                var dn = Math.Min(random.Next(1, 15), dossiers.Count - di);
                var sn = Math.Min(random.Next(0, 15), steps.Count - si);
                batches.Add(new ChangeBatch { Dossiers = dossiers.GetRange(di, dn), Steps = steps.GetRange(si, sn) });
                di += dn;
                si += sn;
            }

            for (var b = 0; b < batches.Count; b++)
            {
                if (b + 1 < batches.Count && random.Next(3) == 0)
                {
                    await Task.WhenAll(
                        store.WriteAsync(batches[b], CancellationToken.None),
                        store.WriteAsync(batches[b + 1], CancellationToken.None));
                    b++;
                }
                else
                {
                    await store.WriteAsync(batches[b], CancellationToken.None);
                }

                if (random.Next(4) == 0)
                {
                    await store.WriteAsync(batches[random.Next(b + 1)], CancellationToken.None);
                }
            }

            var snapshot = await StoreSnapshot.TakeAsync(db);
            Assert.True(reference == snapshot, $"Trial {trial} differs from the reference.\n--- reference\n{reference}\n--- trial\n{snapshot}");
        }
    }

    [Fact]
    public async Task Current_state_is_the_newest_change_by_event_time_then_source_version()
    {
        var set = Changes.Varied(new Random(99));
        await using var db = await TestDatabase.CreateSchemaAsync("newest");
        var store = Changes.Store(db);
        await store.WriteAsync(new ChangeBatch { Dossiers = Changes.Shuffle(set.Dossiers, new Random(1)) }, CancellationToken.None);

        foreach (var group in set.Dossiers.GroupBy(c => new DossierKey(c.SourceSystem, c.NativeId)))
        {
            var newestTime = group.Max(c => c.EventTime);
            var candidates = group.Where(c => c.EventTime == newestTime).ToList();
            var newestVersion = candidates.Max(c => c.SourceVersion ?? long.MinValue);
            candidates = [.. candidates.Where(c => (c.SourceVersion ?? long.MinValue) == newestVersion)];

            var stored = await store.GetByKeyAsync(group.Key, CancellationToken.None);
            Assert.NotNull(stored);
            Assert.Contains(candidates, c => c.Status == stored.Current.Status && c.SourceStatus == stored.Current.SourceStatus);
            Assert.Equal(newestTime, stored.Current.EventTime);
            Assert.Equal(group.Distinct().Count(), stored.History.Count);
        }
    }

    [Fact]
    public async Task An_older_change_enters_the_history_but_does_not_overwrite_a_newer_state()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("older");
        var store = Changes.Store(db);
        var newer = Changes.Change("H56", "A1", 120, NationalStatus.Resolved);
        var older = Changes.Change("H56", "A1", 60, NationalStatus.Processing);

        await store.WriteAsync(new ChangeBatch { Dossiers = [newer] }, CancellationToken.None);
        var result = await store.WriteAsync(new ChangeBatch { Dossiers = [older] }, CancellationToken.None);

        Assert.Equal(1, result.HistoryRowsAdded);
        Assert.Equal(0, result.CurrentRowsChanged);
        var stored = await store.GetByKeyAsync(new DossierKey("H56", "A1"), CancellationToken.None);
        Assert.Equal(NationalStatus.Resolved, stored!.Current.Status);
        Assert.Equal([NationalStatus.Processing, NationalStatus.Resolved], stored.History.Select(h => h.Change.Status));
    }

    [Fact]
    public async Task A_higher_source_version_wins_at_the_same_event_time_whatever_the_arrival_order()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("version");
        var store = Changes.Store(db);
        var v2 = Changes.Change("H56", "V1", 10, NationalStatus.SupplementRequested, version: 2);
        var v1 = Changes.Change("H56", "V1", 10, NationalStatus.Processing, version: 1);

        await store.WriteAsync(new ChangeBatch { Dossiers = [v2] }, CancellationToken.None);
        await store.WriteAsync(new ChangeBatch { Dossiers = [v1] }, CancellationToken.None);

        var stored = await store.GetByKeyAsync(new DossierKey("H56", "V1"), CancellationToken.None);
        Assert.Equal(NationalStatus.SupplementRequested, stored!.Current.Status);
        Assert.Equal(2, stored.Current.SourceVersion);
        Assert.Equal(2, stored.History.Count);
    }

    [Fact]
    public async Task Resending_a_batch_adds_nothing()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("resend");
        var store = Changes.Store(db);
        var set = Changes.Varied(new Random(5));

        var first = await store.WriteAsync(set, CancellationToken.None);
        var before = await StoreSnapshot.TakeAsync(db);
        var twice = new ChangeBatch { Dossiers = [.. set.Dossiers, .. set.Dossiers], Steps = [.. set.Steps, .. set.Steps] };
        var second = await store.WriteAsync(twice, CancellationToken.None);

        Assert.Equal(set.Dossiers.Distinct().Count(), first.HistoryRowsAdded);
        Assert.Equal((set.Dossiers.Count * 2, set.Steps.Count * 2), (second.DossierChangesReceived, second.StepsReceived));
        Assert.Equal(0, second.HistoryRowsAdded);
        Assert.Equal(0, second.CurrentRowsChanged);
        Assert.Equal(0, second.StepRowsChanged);
        Assert.Equal(before, await StoreSnapshot.TakeAsync(db));
    }
}
