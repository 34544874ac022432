using System.Text.Json;
using Hub.Connectors;
using Hub.Connectors.Mapping;
using Hub.Contracts;
using Hub.Core.Sync;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Sync;

public class SyncLedgerTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    internal static ConnectorRegistration Registration(string id) => new()
    {
        Id = id,
        Kind = "rest-pull",
        SourceSystem = "sys-" + id,
        DisplayName = "Test " + id,
        Configuration = JsonDocument.Parse("""{"baseUrl":"http://127.0.0.1:1"}""").RootElement.Clone(),
        Mapping = new MappingDefinition
        {
            Version = "test/1",
            StatusCodes = new Dictionary<string, int> { ["1"] = 1 },
            Dossier = new Dictionary<string, FieldMapping> { ["DossierCode"] = "code", ["EventTime"] = "t", ["Status"] = "s" },
        },
        Schedule = "*/5 * * * *",
    };

    [Fact]
    public async Task A_registration_round_trips_and_saving_again_keeps_the_cursor()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("ledger_catalog");
        var catalog = TestSecrets.Catalog(db);
        var registration = Registration("c1") with { QuarantineThreshold = 0.2, Resilience = new ConnectorResilience { MaxRetries = 7 } };
        await catalog.SaveAsync(registration, None);
        await using (var connection = await db.OpenConnectionAsync())
        {
            await SyncLedger.MoveCursorAsync(connection, "c1", null, "cursor-1", DateTimeOffset.UtcNow, None);
        }

        await catalog.SaveAsync(registration with { DisplayName = "Renamed" }, None);
        var state = await catalog.GetAsync("c1", None);

        Assert.NotNull(state);
        Assert.Equal("cursor-1", state.Cursor);
        Assert.Equal("Renamed", state.Registration.DisplayName);
        Assert.Equal(0.2, state.Registration.QuarantineThreshold);
        Assert.Equal(7, state.Registration.Resilience.MaxRetries);
        Assert.Equal("test/1", state.Registration.Mapping.Version);
        Assert.Equal("code", state.Registration.Mapping.Dossier["DossierCode"].Path);
        Assert.True(JsonElement.DeepEquals(registration.Configuration, state.Registration.Configuration));
        Assert.Null(await catalog.GetAsync("nope", None));
    }

    [Fact]
    public async Task Only_one_lease_per_connector_exists_at_a_time_and_it_is_released_on_dispose()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("ledger_lock");
        var catalog = TestSecrets.Catalog(db);
        await catalog.SaveAsync(Registration("c1"), None);
        await catalog.SaveAsync(Registration("c2"), None);
        var ledger = new SyncLedger(db, TimeProvider.System);

        var first = await ledger.TryAcquireAsync("c1", None);
        Assert.NotNull(first);
        Assert.Null(await ledger.TryAcquireAsync("c1", None));
        await using (var other = await ledger.TryAcquireAsync("c2", None))
        {
            Assert.NotNull(other);
        }

        await first.DisposeAsync();
        await using var again = await ledger.TryAcquireAsync("c1", None);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task A_cursor_moved_by_someone_else_fails_the_move_and_leaves_it_as_it_was()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("ledger_cursor");
        await TestSecrets.Catalog(db).SaveAsync(Registration("c1"), None);
        await using var connection = await db.OpenConnectionAsync();
        await SyncLedger.MoveCursorAsync(connection, "c1", null, "a", DateTimeOffset.UtcNow, None);

        var e = await Assert.ThrowsAsync<CursorConflictException>(() => SyncLedger.MoveCursorAsync(connection, "c1", null, "b", DateTimeOffset.UtcNow, None));

        Assert.Contains("c1", e.Message, StringComparison.Ordinal);
        Assert.Equal("a", (await TestSecrets.Catalog(db).GetAsync("c1", None))!.Cursor);
    }

    [Fact]
    public async Task A_page_commits_with_the_batch_or_not_at_all()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("ledger_tx");
        await TestSecrets.Catalog(db).SaveAsync(Registration("c1"), None);
        var store = Changes.Store(db);
        var batch = new ChangeBatch { Dossiers = [Changes.Change("sys-c1", "D1", 10, NationalStatus.Received)] };

        // The callback fails after the batch and the cursor were written: nothing of either remains.
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteAsync(batch, async (connection, result, ct) =>
        {
            await SyncLedger.MoveCursorAsync(connection, "c1", null, "after-page-1", DateTimeOffset.UtcNow, ct);
            throw new InvalidOperationException("fail before commit");
        }, None));
        Assert.Null(await store.GetByKeyAsync(new DossierKey("sys-c1", "D1"), None));
        Assert.Null((await TestSecrets.Catalog(db).GetAsync("c1", None))!.Cursor);

        await store.WriteAsync(batch, (connection, result, ct) =>
            SyncLedger.MoveCursorAsync(connection, "c1", null, "after-page-1", DateTimeOffset.UtcNow, ct), None);
        Assert.NotNull(await store.GetByKeyAsync(new DossierKey("sys-c1", "D1"), None));
        Assert.Equal("after-page-1", (await TestSecrets.Catalog(db).GetAsync("c1", None))!.Cursor);
    }

    [Fact]
    public async Task The_same_bad_record_resent_is_kept_once_and_counted()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("ledger_quarantine");
        await TestSecrets.Catalog(db).SaveAsync(Registration("c1"), None);
        var ledger = new SyncLedger(db, TimeProvider.System);
        long runId;
        await using (var lease = await ledger.TryAcquireAsync("c1", None))
        {
            runId = await ledger.StartRunAsync(lease!, SyncTrigger.Manual, null, "test/1", None);
        }

        var entry = new QuarantineEntry("dossier", """{"code":"X","s":"99"}""", "unmapped code 99", "test/1");
        await using (var connection = await db.OpenConnectionAsync())
        {
            await SyncLedger.QuarantineAsync(connection, "c1", runId, [entry, entry], DateTimeOffset.UtcNow, None);
            await SyncLedger.QuarantineAsync(connection, "c1", runId, [entry with { Reason = "unmapped code 99 (again)" }], DateTimeOffset.UtcNow, None);
        }

        var kept = Assert.Single(await ledger.ListQuarantineAsync("c1", openOnly: true, 0, 10, None));
        Assert.Equal(2, kept.TimesSeen);
        Assert.Equal("unmapped code 99 (again)", kept.Reason);
        Assert.Equal(entry.Payload, kept.Payload);
    }

    [Fact]
    public async Task A_run_left_running_by_a_dead_process_is_marked_abandoned_by_the_next_run()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("ledger_abandoned");
        await TestSecrets.Catalog(db).SaveAsync(Registration("c1"), None);
        var ledger = new SyncLedger(db, TimeProvider.System);
        long first, second;
        await using (var lease = await ledger.TryAcquireAsync("c1", None))
        {
            first = await ledger.StartRunAsync(lease!, SyncTrigger.Schedule, null, "test/1", None);
        }

        await using (var lease = await ledger.TryAcquireAsync("c1", None))
        {
            second = await ledger.StartRunAsync(lease!, SyncTrigger.Manual, null, "test/1", None);
            await ledger.FinishRunAsync(second, RunOutcome.Failed, 3, new RunFailure(FailureSide.SourceAuth, false, "401"), None);
        }

        var abandoned = await ledger.GetRunAsync(first, None);
        var failed = await ledger.GetRunAsync(second, None);
        Assert.Equal(RunOutcome.Abandoned, abandoned!.Outcome);
        Assert.Equal(FailureSide.Hub, abandoned.Failure!.Side);
        Assert.Equal((RunOutcome.Failed, FailureSide.SourceAuth, false, 3), (failed!.Outcome, failed.Failure!.Side, failed.Failure.Retryable, failed.Attempts));
    }

    [Fact]
    public async Task Irregular_and_correcting_moves_are_counted_as_the_history_stands()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("ledger_irregular");
        var store = Changes.Store(db);
        var first = await store.WriteAsync(new ChangeBatch
        {
            Dossiers =
            [
                Changes.Change("s", "A", 10, NationalStatus.Submitted),
                Changes.Change("s", "A", 20, NationalStatus.Received),
                Changes.Change("s", "A", 30, NationalStatus.Resolved), // 2 → 9 expected
                Changes.Change("s", "B", 10, NationalStatus.Received),
                Changes.Change("s", "B", 20, NationalStatus.ResultReturned), // 2 → 10 skips: irregular
            ],
        }, None);
        var second = await store.WriteAsync(new ChangeBatch
        {
            Dossiers =
            [
                Changes.Change("s", "A", 40, NationalStatus.Processing), // 9 → 4: correction
                Changes.Change("s", "A", 20, NationalStatus.Received), // already stored: not counted
            ],
        }, None);

        Assert.Equal(1, first.IrregularTransitions);
        Assert.Equal(1, second.IrregularTransitions);
    }

    internal static async Task<long> CountAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
