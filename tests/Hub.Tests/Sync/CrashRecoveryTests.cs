using System.Text.Json;
using Hub.Simulator;
using Hub.Tests.Audit;
using Hub.Tests.Infrastructure;

namespace Hub.Tests.Sync;

/// <summary>The cursor moves in the transaction of the data it covers: a hub killed at any point loses and repeats nothing.</summary>
public class CrashRecoveryTests
{
    [Fact]
    public async Task A_hub_killed_five_times_in_the_middle_of_runs_ends_with_the_store_equal_to_the_truth_and_no_duplicate_history()
    {
        var window = new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero);
        var province = new ProvinceOptions
        {
            SourceSystem = "sim-kill",
            AgencyPrefix = "H94",
            Dossiers = 3000,
            Seed = 94,
            Start = window,
            End = window.AddDays(20),
            RollbackShare = 0.05,
            Faults = new FaultOptions { Latency = TimeSpan.FromMilliseconds(60), DuplicateRate = 0.02, ShuffleWithinPage = true },
        };
        await using var simulator = await SimulatorHost.StartAsync(province);
        var sim = simulator["sim-kill"];
        sim.Stats.KeepPageDigests = true;
        await using var db = await TestDatabase.CreateSchemaAsync("kill");
        var folder = Directory.CreateTempSubdirectory("hub-connectors-").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "sim-kill.json"), simulator.VendorRestConnectorJson("sim-kill")
            .Replace("\"pageSize\": 1000", "\"pageSize\": 100", StringComparison.Ordinal)
            .Replace("\"*/1 * * * *\"", "null", StringComparison.Ordinal));
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = db.ConnectionString,
            ["Hub__Connectors__Directory"] = folder,
            ["Hub__Scheduler__SchemaName"] = "hf_kill_" + Guid.NewGuid().ToString("N")[..8],
            ["Hub__Scheduler__ScheduleRefresh"] = "00:00:30",
        };

        var random = new Random(94);
        var kills = 0;
        var storedAtKills = new List<long>();
        while (kills < 5)
        {
            await using var hub = HubProcess.Start(folder, settings);
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(60));
            (await hub.Client.PostAsync("/api/connectors/sim-kill-rest/sync", null)).EnsureSuccessStatusCode();

            // Wait until a run is storing pages, then kill the process at a random moment of it.
            for (var wait = 0; wait < 200 && await SyncLedgerTests.CountAsync(db, "select count(*) from sync_run where outcome = 'running' and pages > 0") == 0; wait++)
            {
                await Task.Delay(50);
            }

            await Task.Delay(random.Next(100, 1500));
            hub.Kill();
            kills++;
            storedAtKills.Add(await SyncLedgerTests.CountAsync(db, "select count(*) from dossier_change"));
        }

        // The kills really interrupted work in progress: the store was still filling up between them.
        Assert.True(storedAtKills[^1] < sim.Truth.Changes.Count, $"Stored at each kill: {string.Join(", ", storedAtKills)}");
        var interrupted = await SyncLedgerTests.CountAsync(db, "select count(*) from sync_run where outcome in ('running', 'abandoned')");
        Assert.True(interrupted >= 4, $"{interrupted} interrupted runs; stored at each kill: {string.Join(", ", storedAtKills)}");

        // Restarted once more and left alone, the hub finishes the sync.
        await using (var last = HubProcess.Start(folder, settings))
        {
            await last.WaitReadyAsync(TimeSpan.FromSeconds(60));
            (await last.Client.PostAsync("/api/connectors/sim-kill-rest/sync", null)).EnsureSuccessStatusCode();
            for (var wait = 0; wait < 240 && await SyncLedgerTests.CountAsync(db, "select count(*) from dossier_change") < sim.Truth.Changes.Count; wait++)
            {
                await Task.Delay(500);
            }

            // Let the run in progress end before comparing.
            for (var wait = 0; wait < 60 && await SyncLedgerTests.CountAsync(db, "select count(*) from sync_run where outcome = 'running'") > 0; wait++)
            {
                await Task.Delay(250);
            }

            // The killed runs left no entry for the pages they had not committed: the stored pages logged are exactly
            // the pages the runs counted (in the same transactions), and what they say was stored is what the store holds.
            var pages = (await LogCheck.EntriesAsync(db, "sim-kill-rest")).Where(e => e is { Direction: "inbound", Outcome: "stored" }).ToList();
            Assert.Equal(await SyncLedgerTests.CountAsync(db, "select coalesce(sum(pages), 0) from sync_run"), pages.Count);
            Assert.Equal(sim.Truth.Changes.Count, pages.Sum(p => JsonDocument.Parse(p.Detail!).RootElement.GetProperty("changesStored").GetInt32()));
            Assert.All(pages, p => Assert.Contains(LogCheck.Digest(p), sim.Stats.PageDigests));
            await LogCheck.SealAndVerifyAsync(last.Client, db);
            await last.TerminateAsync(TimeSpan.FromSeconds(30));
        }

        var expected = await RestSyncEndToEndTests.TruthSnapshotAsync(sim.Truth, "sim-vendor/1", "kill_truth");
        var actual = await StoreSnapshot.TakeAsync(db);
        Assert.True(expected == actual, "The store differs from the simulator's truth after the kills.");
        Assert.Equal(sim.Truth.Changes.Count, await SyncLedgerTests.CountAsync(db, "select count(*) from dossier_change"));
        Assert.Equal(0, await SyncLedgerTests.CountAsync(db,
            "select count(*) from (select source_system, native_id, source_version from dossier_change group by 1, 2, 3 having count(*) > 1) d"));
    }
}
