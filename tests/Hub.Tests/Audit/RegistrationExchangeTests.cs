using System.Text.Json;
using Hub.Core.Audit;
using Hub.Core.Sync;
using Hub.Tests.Infrastructure;
using Hub.Tests.Sync;
using Hub.Worker.Sync;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Hub.Tests.Audit;

/// <summary>
/// Administrative actions on connectors are entries of the exchange log, in the transaction of the change: registered,
/// changed, paused, resumed, mapping changed, quarantine re-processed; with who and why, and never a secret.
/// </summary>
public class RegistrationExchangeTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<List<ExchangeEntry>> ActionsAsync(Npgsql.NpgsqlDataSource db, string connector) =>
        (await LogCheck.EntriesAsync(db, connector)).Where(e => e.Kind == "admin").ToList();

    [Fact]
    public async Task Hub_nodes_saving_the_same_registration_file_at_once_neither_deadlock_nor_log_it_twice()
    {
        // As several nodes starting together register the same connector files: each save in a transaction of its own.
        await using var db = await TestDatabase.CreateSchemaAsync("registration_race");
        var catalog = TestSecrets.Catalog(db);
        for (var round = 0; round < 15; round++)
        {
            var connector = SyncHarness.Scripted($"race{round}", $"race{round}");
            var saves = Enumerable.Range(0, 6).Select(node => Task.Run(() => catalog.SaveAsync(connector, $"file:/node{node}/race.json", null, None)));
            var actions = await Task.WhenAll(saves);
            Assert.Equal(["connector.registered"], actions.SelectMany(a => a));
            Assert.Equal(["connector.registered"], (await ActionsAsync(db, connector.Id)).Select(e => e.Action));
        }
    }

    [Fact]
    public async Task Each_change_of_a_registration_is_logged_once_with_its_actor_and_reason_and_an_unchanged_save_logs_nothing()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("registration_exchange");
        var catalog = TestSecrets.Catalog(db);
        var connector = SyncHarness.Scripted("rx", "rx") with
        {
            Configuration = JsonSerializer.SerializeToElement(new { feed = "rx", password = "first-secret-value" }),
        };

        Assert.Equal(["connector.registered"], await catalog.SaveAsync(connector, "ops@example.gov.vn", "new province", None));
        Assert.Empty(await catalog.SaveAsync(connector, "ops@example.gov.vn", null, None));
        Assert.Equal(["connector.paused"], await catalog.SaveAsync(connector with { Active = false }, "ops@example.gov.vn", "vendor maintenance", None));
        Assert.Equal(["connector.resumed"], await catalog.SaveAsync(connector, "ops@example.gov.vn", "maintenance over", None));
        Assert.Equal(["mapping.changed"], await catalog.SaveAsync(connector with { Mapping = SyncHarness.SimpleMapping("simple/2") }, "it@h56", "new codes", None));
        Assert.Equal(["connector.changed"], await catalog.SaveAsync(connector with
        {
            Mapping = SyncHarness.SimpleMapping("simple/2"),
            Configuration = JsonSerializer.SerializeToElement(new { feed = "rx", password = "second-secret-value" }),
            Schedule = "*/5 * * * *",
        }, "it@h56", "rotated password", None));

        var entries = await ActionsAsync(db, "rx");
        Assert.Equal(
            ["connector.registered", "connector.paused", "connector.resumed", "mapping.changed", "connector.changed"],
            entries.Select(e => e.Action));
        Assert.All(entries, e => Assert.Equal("done", e.Outcome));
        Assert.Equal(
            [("ops@example.gov.vn", "new province"), ("ops@example.gov.vn", "vendor maintenance"), ("ops@example.gov.vn", "maintenance over"), ("it@h56", "new codes"), ("it@h56", "rotated password")],
            entries.Select(e => (e.Actor!, e.Reason!)));

        using (var mapping = JsonDocument.Parse(entries[3].Detail!))
        {
            Assert.Equal(("simple/1", "simple/2"), (mapping.RootElement.GetProperty("versionBefore").GetString(), mapping.RootElement.GetProperty("versionAfter").GetString()));
            Assert.Equal("simple/2", entries[3].MappingVersion);
        }

        using (var changed = JsonDocument.Parse(entries[4].Detail!))
        {
            Assert.Equal(["configuration", "schedule"], changed.RootElement.GetProperty("changed").EnumerateArray().Select(c => c.GetString()));
            Assert.Equal("*/5 * * * *", changed.RootElement.GetProperty("after").GetProperty("schedule").GetString());
        }

        // Configuration values hold secrets: neither the old nor the new one is in any entry.
        var text = string.Join("\n", entries.Select(e => e.Detail));
        Assert.DoesNotContain("first-secret-value", text, StringComparison.Ordinal);
        Assert.DoesNotContain("second-secret-value", text, StringComparison.Ordinal);
        await LogCheck.SealAndVerifyAsync(db);
    }

    [Fact]
    public async Task A_change_that_fails_logs_nothing_because_the_entry_is_in_its_transaction()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("registration_exchange_fail");
        var catalog = TestSecrets.Catalog(db);
        var connector = SyncHarness.Scripted("ry", "ry");
        await catalog.SaveAsync(connector, "ops", null, None);

        // Paused and with a threshold the table refuses: the update fails, and so does the entry that would say "paused".
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() => catalog.SaveAsync(connector with { Active = false, QuarantineThreshold = 2 }, "ops", null, None));

        Assert.Equal(["connector.registered"], (await ActionsAsync(db, "ry")).Select(e => e.Action));
        Assert.True((await catalog.GetAsync("ry", None))!.Registration.Active);
    }

    [Fact]
    public async Task A_registration_file_is_the_actor_of_what_it_registers_and_reading_it_again_unchanged_logs_nothing()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("registration_exchange_file");
        using var hub = new SyncHarness(db, new ScriptedPullKind());
        var folder = Directory.CreateTempSubdirectory("hub-connectors-");
        try
        {
            var file = Path.Combine(folder.FullName, "rz.json");
            await File.WriteAllTextAsync(file, JsonSerializer.Serialize(SyncHarness.Scripted("rz", "rz"), ConnectorCatalog.Json));
            using var services = new ServiceCollection().AddSingleton(hub.Catalog).AddSingleton(hub.Kinds).BuildServiceProvider();
            var files = new ConnectorFiles(Options.Create(new ConnectorFilesOptions { Directory = folder.FullName }), services, NullLogger<ConnectorFiles>.Instance);

            await files.StartAsync(None);
            await files.StartAsync(None);
            await File.WriteAllTextAsync(file, JsonSerializer.Serialize(SyncHarness.Scripted("rz", "rz") with { Active = false }, ConnectorCatalog.Json));
            await files.StartAsync(None);

            var entries = await ActionsAsync(db, "rz");
            Assert.Equal(["connector.registered", "connector.paused"], entries.Select(e => e.Action));
            Assert.All(entries, e => Assert.Equal("file:" + file, e.Actor));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Re_processing_quarantined_records_is_logged_in_the_transaction_of_what_it_stores()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("registration_exchange_reprocess");
        using var hub = new SyncHarness(db, new ScriptedPullKind());
        var feed = new ScriptedFeed();
        feed.Pages.Add([SyncHarness.Record("A", 1, 2), SyncHarness.Record("U", 2, 42)]);
        ScriptedPullKind.Feeds["rq"] = feed;
        var statuses = Enumerable.Range(1, 10).ToDictionary(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture), i => i);
        await hub.Catalog.SaveAsync(SyncHarness.Scripted("rq", "rq", threshold: 1), "ops", null, None);
        await hub.Runner.RunAsync("rq", SyncTrigger.Manual, None);
        await hub.Catalog.SaveAsync(
            SyncHarness.Scripted("rq", "rq", SyncHarness.SimpleMapping("simple/2", new Dictionary<string, int>(statuses) { ["42"] = 4 }), threshold: 1),
            "it@h56", "code 42 is 'being processed'", None);

        var run = await hub.Runner.ReprocessQuarantineAsync("rq", None);

        Assert.Equal(RunOutcome.Succeeded, run.Outcome);
        var entries = await ActionsAsync(db, "rq");
        Assert.Equal(["connector.registered", "mapping.changed", "quarantine.reprocessed"], entries.Select(e => e.Action));
        var reprocessed = entries[^1];
        Assert.Equal((run.Id, "simple/2", SyncRunner.HubActor), (reprocessed.RunId!.Value, reprocessed.MappingVersion, reprocessed.Actor));
        Assert.Equal(["C-U"], reprocessed.Dossiers);
        Assert.Null(reprocessed.Direction);
        using var detail = JsonDocument.Parse(reprocessed.Detail!);
        Assert.Equal(1, detail.RootElement.GetProperty("changesStored").GetInt32());
        Assert.Equal(0, detail.RootElement.GetProperty("quarantined").GetArrayLength());
        await LogCheck.SealAndVerifyAsync(db);
    }
}
