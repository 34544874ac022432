using Hub.Contracts;
using Hub.Core.Store;
using Hub.Tests.Infrastructure;

namespace Hub.Tests.Store;

public class StoreValidationTests
{
    public static TheoryData<string, DossierChange, string> InvalidChanges => new()
    {
        { "missing native id", Changes.Change("H56", "X", 5, NationalStatus.Processing) with { NativeId = "" }, "NativeId is missing" },
        { "missing dossier code", Changes.Change("H56", "X", 5, NationalStatus.Processing) with { DossierCode = " " }, "DossierCode is missing" },
        { "status out of range", Changes.Change("H56", "X", 5, (NationalStatus)11), "Status 11 is not a national status code" },
        { "status zero", Changes.Change("H56", "X", 5, 0), "Status 0 is not a national status code" },
        { "unknown channel", Changes.Change("H56", "X", 5, NationalStatus.Processing) with { Channel = (Channel)9 }, "Channel 9" },
        { "NUL in text", Changes.Change("H56", "X", 5, NationalStatus.Processing) with { ProcedureName = "a\0b" }, "ProcedureName contains a NUL" },
        { "control character in code", Changes.Change("H56", "X", 5, NationalStatus.Processing) with { DossierCode = "A\nB" }, "DossierCode 'A\nB' has leading or trailing spaces or control characters" },
        { "event time far in the future", Changes.Change("H56", "X", 5, NationalStatus.Processing) with { EventTime = DateTimeOffset.UtcNow.AddDays(30) }, "EventTime" },
        { "event time missing", Changes.Change("H56", "X", 5, NationalStatus.Processing) with { EventTime = default }, "EventTime is missing" },
        { "absurd due date", Changes.Change("H56", "X", 5, NationalStatus.Processing) with { DueAt = new DateTimeOffset(1, 1, 1, 0, 0, 0, TimeSpan.Zero) }, "DueAt" },
        { "code of another dossier", Changes.Change("H56", "X", 5, NationalStatus.Processing) with { DossierCode = "H56-OLD" }, "DossierCode 'H56-OLD' already belongs to dossier 'OLD' of source system 'H56'" },
    };

    [Theory]
    [MemberData(nameof(InvalidChanges))]
    public async Task An_invalid_record_is_reported_with_its_reason_and_corrupts_nothing(string caseName, DossierChange invalid, string reason)
    {
        await using var db = await TestDatabase.CreateSchemaAsync("invalid");
        var store = Changes.Store(db);
        var existing = Changes.Change("H56", "OLD", 1, NationalStatus.Processing);
        await store.WriteAsync(new ChangeBatch { Dossiers = [existing], Steps = [Changes.Step("H56", "OLD", 1, NationalStatus.Processing, "Thẩm định")] }, CancellationToken.None);
        var before = await StoreSnapshot.TakeAsync(db);

        var good = Changes.Change("H56", "NEW", 2, NationalStatus.Received);
        var result = await store.WriteAsync(new ChangeBatch { Dossiers = [good, invalid] }, CancellationToken.None);

        var rejected = Assert.Single(result.Rejected);
        Assert.Equal(RecordKind.DossierChange, rejected.Kind);
        Assert.Equal(1, rejected.Index);
        Assert.True(rejected.Reason.Contains(reason, StringComparison.Ordinal), $"{caseName}: reason was '{rejected.Reason}'");

        // The valid record of the batch is stored; what was stored before is untouched; nothing of the invalid one is written.
        Assert.NotNull(await store.GetByKeyAsync(new DossierKey("H56", "NEW"), CancellationToken.None));
        var stored = await store.GetByKeyAsync(new DossierKey("H56", "OLD"), CancellationToken.None);
        Assert.Equal(existing.EventTime, stored!.Current.EventTime);
        Assert.Single(stored.History);
        await using var cleanup = db.CreateCommand("delete from dossier_change where native_id = 'NEW'; delete from dossier where native_id = 'NEW'");
        await cleanup.ExecuteNonQueryAsync();
        Assert.Equal(before, await StoreSnapshot.TakeAsync(db));
    }

    [Fact]
    public async Task An_invalid_step_is_reported_and_the_valid_ones_are_stored()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("badstep");
        var store = Changes.Store(db);
        var good = Changes.Step("H56", "S1", 1, NationalStatus.Received, "Tiếp nhận hồ sơ");
        var bad = Changes.Step("H56", "S1", 2, NationalStatus.Processing, "Thẩm định") with { StatusAfter = (NationalStatus)42 };
        var noTime = Changes.Step("H56", "S1", 3, NationalStatus.Processing, "Thẩm định") with { StepTime = default };

        var result = await store.WriteAsync(new ChangeBatch { Steps = [good, bad, noTime] }, CancellationToken.None);

        Assert.Equal(1, result.StepRowsChanged);
        Assert.Collection(result.Rejected,
            r => Assert.Equal((RecordKind.Step, 1, "StatusAfter 42 is not a national status code (1-10)."), (r.Kind, r.Index, r.Reason)),
            r => Assert.Equal((RecordKind.Step, 2, "StepTime is missing."), (r.Kind, r.Index, r.Reason)));
    }

    [Fact]
    public async Task Two_dossiers_claiming_one_code_in_a_batch_keep_the_first_key_and_reject_the_other()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("dupcode");
        var store = Changes.Store(db);
        var a = Changes.Change("H56", "A", 1, NationalStatus.Received) with { DossierCode = "SAME" };
        var b = Changes.Change("H56", "B", 1, NationalStatus.Received) with { DossierCode = "SAME" };

        var result = await store.WriteAsync(new ChangeBatch { Dossiers = [b, a] }, CancellationToken.None);

        var rejected = Assert.Single(result.Rejected);
        Assert.Equal(("B", 0), (rejected.NativeId, rejected.Index));
        Assert.Equal("A", (await store.GetByCodeAsync("SAME", CancellationToken.None))!.Current.NativeId);
    }
}
