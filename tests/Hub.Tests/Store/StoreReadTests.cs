using Hub.Contracts;
using Hub.Tests.Infrastructure;

namespace Hub.Tests.Store;

public class StoreReadTests
{
    [Fact]
    public async Task A_dossier_reads_by_code_and_by_key_with_history_steps_and_due_date_moves()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("read");
        var store = Changes.Store(db);
        var changes = new[]
        {
            Changes.Change("H56", "R1", 10, NationalStatus.Received, dueDays: 3),
            Changes.Change("H56", "R1", 20, NationalStatus.Processing, dueDays: 3),
            Changes.Change("H56", "R1", 30, NationalStatus.SupplementRequested, dueDays: 3) with { DueAt = null }, // empty due date: not a move
            Changes.Change("H56", "R1", 40, NationalStatus.Processing, dueDays: 5),
            Changes.Change("H56", "R1", 50, NationalStatus.Resolved, dueDays: 5),
        };
        var steps = new[]
        {
            Changes.Step("H56", "R1", 20, NationalStatus.Processing, "Thẩm định hồ sơ"),
            Changes.Step("H56", "R1", 10, NationalStatus.Received, "Tiếp nhận hồ sơ"),
            Changes.Step("H56", "R1", 10, NationalStatus.Received, "Tiếp nhận hồ sơ"),
        };
        await store.WriteAsync(new ChangeBatch { Dossiers = changes.Reverse().ToList(), Steps = steps }, CancellationToken.None);

        var byCode = await store.GetByCodeAsync("H56-R1", CancellationToken.None);
        var byKey = await store.GetByKeyAsync(new DossierKey("H56", "R1"), CancellationToken.None);

        Assert.NotNull(byCode);
        Assert.Equal(byCode.Current, byKey!.Current);
        Assert.Equal(NationalStatus.Resolved, byCode.Current.Status);
        Assert.Equal(changes.Select(c => c.Status), byCode.History.Select(h => h.Change.Status));
        Assert.Equal(["Tiếp nhận hồ sơ", "Thẩm định hồ sơ"], byCode.Steps.Select(s => s.Step.Action));
        Assert.Collection(byCode.DueDates,
            m => Assert.Equal((Changes.T0.AddDays(3), (DateTimeOffset?)null), (m.DueAt, m.PreviousDueAt)),
            m => Assert.Equal((Changes.T0.AddDays(5), (DateTimeOffset?)Changes.T0.AddDays(3), Changes.T0.AddMinutes(40)), (m.DueAt, m.PreviousDueAt, m.ChangedAt)));
    }

    [Fact]
    public async Task An_unknown_dossier_reads_as_null()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("unknown");
        var store = Changes.Store(db);
        Assert.Null(await store.GetByCodeAsync("NO-SUCH-CODE", CancellationToken.None));
        Assert.Null(await store.GetByKeyAsync(new DossierKey("H56", "nothing"), CancellationToken.None));
    }

    [Fact]
    public async Task Steps_resent_with_other_details_keep_one_row_chosen_the_same_way_in_any_order()
    {
        var a = Changes.Step("H56", "S", 5, NationalStatus.Processing, "Thẩm định", officer: "Officer A");
        var b = Changes.Step("H56", "S", 5, NationalStatus.Processing, "Thẩm định", officer: "Officer B");
        var officers = new List<string?>();
        foreach (var order in new[] { new[] { a, b }, new[] { b, a } })
        {
            await using var db = await TestDatabase.CreateSchemaAsync("steporder");
            var store = Changes.Store(db);
            foreach (var step in order)
            {
                await store.WriteAsync(new ChangeBatch { Steps = [step] }, CancellationToken.None);
            }

            await store.WriteAsync(new ChangeBatch { Dossiers = [Changes.Change("H56", "S", 5, NationalStatus.Processing)] }, CancellationToken.None);
            var stored = await store.GetByKeyAsync(new DossierKey("H56", "S"), CancellationToken.None);
            officers.Add(Assert.Single(stored!.Steps).Step.Officer);
        }

        Assert.Equal(officers[0], officers[1]);
    }
}
