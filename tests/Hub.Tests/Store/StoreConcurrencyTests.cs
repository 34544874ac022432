using Hub.Contracts;
using Hub.Tests.Infrastructure;

namespace Hub.Tests.Store;

public class StoreConcurrencyTests
{
    [Fact]
    public async Task Concurrent_writers_on_the_same_dossiers_neither_deadlock_nor_lose_an_update()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("concurrent");
        var store = Changes.Store(db);
        const int dossiers = 600, writers = 4, rounds = 4;

        // Every writer touches every dossier in every round, with its own event times, in its own input order.
        var all = new List<DossierChange>();
        var tasks = new List<Task>();
        for (var round = 0; round < rounds; round++)
        {
            tasks.Clear();
            for (var w = 0; w < writers; w++)
            {
                var minute = (round * writers) + w;
                var batch = Enumerable.Range(0, dossiers)
                    .Select(d => Changes.Change("H56", $"C{d:0000}", minute + (d % 7), (NationalStatus)(1 + ((minute + d) % 10))))
                    .ToList();
                if (w % 2 == 1)
                {
                    batch.Reverse();
                }

                all.AddRange(batch);
                tasks.Add(Task.Run(() => store.WriteAsync(new ChangeBatch { Dossiers = batch }, CancellationToken.None)));
            }

            await Task.WhenAll(tasks);
        }

        await using var count = db.CreateCommand("select count(*) from dossier_change");
        Assert.Equal(all.Distinct().Count(), Convert.ToInt32(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
        foreach (var group in all.GroupBy(c => c.NativeId))
        {
            var expected = group.MaxBy(c => c.EventTime)!;
            var ties = group.Where(c => c.EventTime == expected.EventTime).Select(c => c.Status).ToHashSet();
            var stored = await store.GetByKeyAsync(new DossierKey("H56", group.Key), CancellationToken.None);
            Assert.Equal(expected.EventTime, stored!.Current.EventTime);
            Assert.Contains(stored.Current.Status, ties);
        }
    }

    [Fact]
    public async Task Two_writers_creating_the_same_new_dossiers_at_once_both_succeed()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("newrace");
        var store = Changes.Store(db);
        for (var round = 0; round < 10; round++)
        {
            var a = Enumerable.Range(0, 300).Select(d => Changes.Change("G09", $"N{round}-{d}", 1, NationalStatus.Received)).ToList();
            var b = Enumerable.Range(0, 300).Select(d => Changes.Change("G09", $"N{round}-{d}", 2, NationalStatus.Processing)).Reverse().ToList();
            var results = await Task.WhenAll(
                Task.Run(() => store.WriteAsync(new ChangeBatch { Dossiers = a }, CancellationToken.None)),
                Task.Run(() => store.WriteAsync(new ChangeBatch { Dossiers = b }, CancellationToken.None)));
            Assert.All(results, r => Assert.Empty(r.Rejected));
        }

        await using var check = db.CreateCommand("select count(*) filter (where status = 4), count(*) from dossier");
        await using var reader = await check.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(3000L, reader.GetInt64(1));
        Assert.Equal(3000L, reader.GetInt64(0));
    }

    [Fact]
    public async Task Two_writers_claiming_one_new_code_for_different_dossiers_at_once_store_one_and_reject_the_other()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("coderace");
        var store = Changes.Store(db);
        for (var round = 0; round < 20; round++)
        {
            // Many shared codes per round, so that the two transactions really interleave on the unique index.
            var codes = Enumerable.Range(0, 200).Select(i => $"RACE-{round}-{i}").ToList();
            var a = codes.Select((code, i) => Changes.Change("H56", $"A{round}-{i}", 1, NationalStatus.Received) with { DossierCode = code }).ToList();
            var b = codes.Select((code, i) => Changes.Change("G09", $"B{round}-{i}", 1, NationalStatus.Received) with { DossierCode = code }).Reverse().ToList();

            var results = await Task.WhenAll(
                Task.Run(() => store.WriteAsync(new ChangeBatch { Dossiers = a }, CancellationToken.None)),
                Task.Run(() => store.WriteAsync(new ChangeBatch { Dossiers = b }, CancellationToken.None)));

            // Every code ends with exactly one owner; every change of the other side is rejected with the owner named.
            Assert.Equal(codes.Count, results.Sum(r => r.CurrentRowsChanged));
            Assert.Equal(codes.Count, results.Sum(r => r.Rejected.Count));
            Assert.All(results.SelectMany(r => r.Rejected), r => Assert.Contains("already belongs to dossier", r.Reason, StringComparison.Ordinal));
        }

        await using var owners = db.CreateCommand("select count(*), count(distinct dossier_code) from dossier");
        await using var reader = await owners.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(4000L, reader.GetInt64(0));
        Assert.Equal(4000L, reader.GetInt64(1));
    }
}
