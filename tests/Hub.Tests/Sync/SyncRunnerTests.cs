using Hub.Connectors;
using Hub.Contracts;
using Hub.Core.Sync;
using Hub.Tests.Infrastructure;

namespace Hub.Tests.Sync;

public class SyncRunnerTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static ScriptedFeed Feed(string name, params List<string>[] pages)
    {
        var feed = new ScriptedFeed();
        feed.Pages.AddRange(pages);
        ScriptedPullKind.Feeds[name] = feed;
        return feed;
    }

    [Fact]
    public async Task Malformed_and_unmapped_records_are_quarantined_with_their_reasons_and_the_run_still_succeeds()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("runner_quarantine");
        using var hub = new SyncHarness(db, new ScriptedPullKind());
        var good = Enumerable.Range(0, 40).Select(i => SyncHarness.Record("D" + i, i, 2)).ToList();
        var unmapped = SyncHarness.Record("U1", 5, 99);
        var badDate = SyncHarness.Record("B1", 5, 2).Replace("2025-11-17T", "2025-13-17T", StringComparison.Ordinal);
        Feed("q1", good.Take(20).Append(unmapped).ToList(), good.Skip(20).Append(badDate).ToList());
        await hub.Catalog.SaveAsync(SyncHarness.Scripted("q1", "q1", threshold: 0.1), None);

        var run = await hub.Runner.RunAsync("q1", SyncTrigger.Manual, None);

        Assert.Equal(RunOutcome.Succeeded, run.Outcome);
        Assert.Equal(new PageCounts(2, 42, 40, 0, 0, 0, 2), run.Counts);
        var quarantined = await hub.Ledger.ListQuarantineAsync("q1", openOnly: true, 0, 10, None);
        Assert.Equal(2, quarantined.Count);
        Assert.StartsWith("unmapped code 99", quarantined.Single(q => q.Payload.Contains("U1", StringComparison.Ordinal)).Reason, StringComparison.Ordinal);
        var dateReason = quarantined.Single(q => q.Payload.Contains("B1", StringComparison.Ordinal)).Reason;
        Assert.Contains("EventTime", dateReason, StringComparison.Ordinal);
        Assert.Contains("'t'", dateReason, StringComparison.Ordinal);
        Assert.All(quarantined, q => Assert.Equal("simple/1", q.MappingVersion));
        Assert.Null(await hub.Store.GetByKeyAsync(new DossierKey("sys-q1", "U1"), None));
    }

    [Fact]
    public async Task A_share_of_bad_records_above_the_threshold_fails_the_run_on_the_source_data_side_but_keeps_everything()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("runner_threshold");
        using var hub = new SyncHarness(db, new ScriptedPullKind());
        var page = Enumerable.Range(0, 8).Select(i => SyncHarness.Record("D" + i, i, 2))
            .Concat(Enumerable.Range(0, 2).Select(i => SyncHarness.Record("X" + i, i, 42))).ToList();
        Feed("t1", page);
        await hub.Catalog.SaveAsync(SyncHarness.Scripted("t1", "t1", threshold: 0.1), None);

        var run = await hub.Runner.RunAsync("t1", SyncTrigger.Manual, None);

        Assert.Equal(RunOutcome.Failed, run.Outcome);
        Assert.Equal((FailureSide.SourceData, false), (run.Failure!.Side, run.Failure.Retryable));
        Assert.Contains("2 of 10 records", run.Failure.Reason, StringComparison.Ordinal);
        Assert.Equal(8, run.Counts.ChangesStored);
        Assert.Equal(2, (await hub.Ledger.ListQuarantineAsync("t1", true, 0, 10, None)).Count);
    }

    [Fact]
    public async Task A_re_processing_asked_while_a_run_holds_the_connector_waits_for_it_instead_of_being_skipped()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("runner_reprocess_wait");
        using var hub = new SyncHarness(db, new ScriptedPullKind());
        Feed("rw", [SyncHarness.Record("A", 1, 2), SyncHarness.Record("B", 2, 77)]);
        await hub.Catalog.SaveAsync(SyncHarness.Scripted("rw", "rw", threshold: 1), None);
        await hub.Runner.RunAsync("rw", SyncTrigger.Manual, None);
        var statuses = Enumerable.Range(1, 10).ToDictionary(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture), i => i);
        statuses["77"] = 4;
        await hub.Catalog.SaveAsync(SyncHarness.Scripted("rw", "rw", SyncHarness.SimpleMapping("simple/2", statuses), threshold: 1), None);

        // Another run holds the connector for a second: the re-processing waits, then runs.
        var held = await hub.Ledger.TryAcquireAsync("rw", None);
        Assert.NotNull(held);
        var reprocess = hub.Runner.ReprocessQuarantineAsync("rw", None);
        await Task.Delay(1000);
        Assert.False(reprocess.IsCompleted);
        await held.DisposeAsync();
        var run = await reprocess;

        Assert.Equal((RunOutcome.Succeeded, 1), (run.Outcome, run.Counts.ChangesStored));
        Assert.Empty(await hub.Ledger.ListQuarantineAsync("rw", openOnly: true, 0, 10, None));
    }

    [Fact]
    public async Task Quarantined_records_are_stored_by_re_processing_after_the_mapping_is_fixed()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("runner_reprocess");
        using var hub = new SyncHarness(db, new ScriptedPullKind());
        Feed("r1", [SyncHarness.Record("A", 1, 2), SyncHarness.Record("B", 2, 77), SyncHarness.Record("C", 3, 78)]);
        await hub.Catalog.SaveAsync(SyncHarness.Scripted("r1", "r1", threshold: 1), None);
        await hub.Runner.RunAsync("r1", SyncTrigger.Manual, None);
        var cursor = (await hub.Catalog.GetAsync("r1", None))!.Cursor;

        // The province's new code 77 means "processing"; 78 is still unknown.
        var statuses = Enumerable.Range(1, 10).ToDictionary(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture), i => i);
        statuses["77"] = 4;
        await hub.Catalog.SaveAsync(SyncHarness.Scripted("r1", "r1", SyncHarness.SimpleMapping("simple/2", statuses), threshold: 1), None);
        var reprocess = await hub.Runner.ReprocessQuarantineAsync("r1", None);

        Assert.Equal((SyncTrigger.Reprocess, RunOutcome.Succeeded, 1, 1), (reprocess.Trigger, reprocess.Outcome, reprocess.Counts.ChangesStored, reprocess.Counts.Quarantined));
        var b = await hub.Store.GetByKeyAsync(new DossierKey("sys-r1", "B"), None);
        Assert.Equal((NationalStatus.Processing, "77", "simple/2"), (b!.Current.Status, b.Current.SourceStatus, b.Current.MappingVersion));
        var open = Assert.Single(await hub.Ledger.ListQuarantineAsync("r1", openOnly: true, 0, 10, None));
        Assert.StartsWith("unmapped code 78", open.Reason, StringComparison.Ordinal);
        Assert.Equal("simple/2", open.MappingVersion);
        var resolved = (await hub.Ledger.ListQuarantineAsync("r1", openOnly: false, 0, 10, None)).Single(q => q.ResolvedAt is not null);
        Assert.Equal(reprocess.Id, resolved.ResolvedRunId);
        Assert.Equal(cursor, (await hub.Catalog.GetAsync("r1", None))!.Cursor);
    }

    [Fact]
    public async Task A_run_that_fails_midway_keeps_the_pages_before_and_the_next_run_resumes_after_them()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("runner_resume");
        using var hub = new SyncHarness(db, new ScriptedPullKind());
        var pages = Enumerable.Range(0, 5).Select(p => Enumerable.Range(0, 10).Select(i => SyncHarness.Record($"P{p}-{i}", p * 10 + i, 2)).ToList()).ToArray();
        var feed = Feed("m1", pages);
        feed.FailAtPage = 3;
        await hub.Catalog.SaveAsync(SyncHarness.Scripted("m1", "m1"), None);

        var failed = await hub.Runner.RunAsync("m1", SyncTrigger.Schedule, None);
        Assert.Equal((RunOutcome.Failed, FailureSide.SourceUnreachable, true), (failed.Outcome, failed.Failure!.Side, failed.Failure.Retryable));
        Assert.Equal(("3", 30), (failed.CursorAfter, failed.Counts.ChangesStored));
        Assert.Equal("3", (await hub.Catalog.GetAsync("m1", None))!.Cursor);

        var resumed = await hub.Runner.RunAsync("m1", SyncTrigger.Schedule, None);
        Assert.Equal((RunOutcome.Succeeded, "3", "5", 20, 0), (resumed.Outcome, resumed.CursorBefore, resumed.CursorAfter, resumed.Counts.ChangesStored, resumed.Counts.Unchanged));
        Assert.Equal(50, await SyncLedgerTests.CountAsync(db, "select count(*) from dossier_change"));
    }

    [Fact]
    public async Task A_second_run_of_the_same_connector_is_skipped_while_the_first_runs_and_other_connectors_are_not_held_back()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("runner_lock");
        using var hub = new SyncHarness(db, new ScriptedPullKind());
        var slow = Feed("l1", [SyncHarness.Record("A", 1, 2)]);
        slow.Gate = new SemaphoreSlim(0);
        Feed("l2", [SyncHarness.Record("B", 1, 2)]);
        await hub.Catalog.SaveAsync(SyncHarness.Scripted("l1", "l1"), None);
        await hub.Catalog.SaveAsync(SyncHarness.Scripted("l2", "l2"), None);

        var first = hub.Runner.RunAsync("l1", SyncTrigger.Schedule, None);
        while (slow.Pulls == 0)
        {
            await Task.Delay(10);
        }

        var second = await hub.Runner.RunAsync("l1", SyncTrigger.Manual, None);
        var other = await hub.Runner.RunAsync("l2", SyncTrigger.Manual, None);
        slow.Gate.Release();
        var finished = await first;

        Assert.Equal(RunOutcome.Skipped, second.Outcome);
        Assert.Equal(RunOutcome.Succeeded, other.Outcome);
        Assert.Equal(RunOutcome.Succeeded, finished.Outcome);
        Assert.Equal(1, slow.Pulls);
    }

    [Fact]
    public async Task An_invalid_mapping_fails_the_run_as_a_configuration_problem_without_moving_the_cursor()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("runner_badmapping");
        using var hub = new SyncHarness(db, new ScriptedPullKind());
        Feed("b1", [SyncHarness.Record("A", 1, 2)]);
        var broken = SyncHarness.SimpleMapping() with { StatusCodes = new Dictionary<string, int> { ["1"] = 11 } };
        await hub.Catalog.SaveAsync(SyncHarness.Scripted("b1", "b1", broken), None);

        var run = await hub.Runner.RunAsync("b1", SyncTrigger.Manual, None);

        Assert.Equal((RunOutcome.Failed, FailureSide.Configuration, false), (run.Outcome, run.Failure!.Side, run.Failure.Retryable));
        Assert.Contains("simple/1", run.Failure.Reason, StringComparison.Ordinal);
        Assert.Null((await hub.Catalog.GetAsync("b1", None))!.Cursor);
    }
}
