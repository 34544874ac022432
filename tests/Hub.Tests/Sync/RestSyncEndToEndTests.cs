using System.Text.Json;
using Hub.Contracts;
using Hub.Core.Sync;
using Hub.Simulator;
using Hub.Tests.Audit;
using Hub.Tests.Infrastructure;
using Hub.Worker.Sync;
using Hub.Connectors.BuiltIn;

namespace Hub.Tests.Sync;

/// <summary>
/// A REST-pull connector set up by configuration alone (the simulator's ready-made registration file) syncs a
/// simulated vendor API over real HTTP on loopback, through injected faults, and the store ends up equal to the
/// simulator's truth.
/// </summary>
public class RestSyncEndToEndTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    internal static ConnectorRegistration RegistrationFor(SimulatorHost simulator, string sourceSystem)
    {
        var file = Path.Combine(Path.GetTempPath(), $"hub-test-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, simulator.VendorRestConnectorJson(sourceSystem));
        try
        {
            return ConnectorFiles.Read(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>What the store holds after writing the simulator's truth directly: the reference.</summary>
    internal static Task<string> TruthSnapshotAsync(SimulatedTruth truth, string mappingVersion, string schema) =>
        TruthSnapshotAsync(schema, (truth, mappingVersion));

    /// <summary>What the store holds after writing the truths of several sources directly, each with its mapping version.</summary>
    internal static async Task<string> TruthSnapshotAsync(string schema, params (SimulatedTruth Truth, string MappingVersion)[] truths)
    {
        await using var reference = await TestDatabase.CreateSchemaAsync(schema);
        var store = Changes.Store(reference);
        foreach (var (truth, mappingVersion) in truths)
        {
            var changes = truth.Changes.Select(c => c with { MappingVersion = mappingVersion }).ToList();
            for (var i = 0; i < changes.Count; i += 20000)
            {
                var result = await store.WriteAsync(new ChangeBatch { Dossiers = changes.Skip(i).Take(20000).ToList() }, None);
                Assert.Empty(result.Rejected);
            }

            var steps = await store.WriteAsync(new ChangeBatch { Steps = truth.Steps }, None);
            Assert.Empty(steps.Rejected);
        }

        return await StoreSnapshot.TakeAsync(reference);
    }

    /// <summary>
    /// Every page the runs stored is an inbound entry holding exactly bytes the simulator served, with its run, mapping
    /// version and dossiers; every failed run left one rejected entry with its reason; the requests are outbound
    /// entries, token requests withheld; and the whole log seals and verifies.
    /// </summary>
    internal static async Task AssertRunsLoggedAsync(
        Npgsql.NpgsqlDataSource db, SimulatedProvince sim, ConnectorRegistration registration, IReadOnlyList<SyncRunRecord> runs)
    {
        var entries = await LogCheck.EntriesAsync(db, registration.Id);
        var pages = entries.Where(e => e is { Kind: "message", Direction: "inbound", Outcome: "stored" }).ToList();
        Assert.Equal(runs.Sum(r => r.Counts.Pages), pages.Count);
        var served = sim.Stats.PageDigests.ToHashSet(StringComparer.Ordinal);
        Assert.All(pages, p =>
        {
            Assert.Contains(LogCheck.Digest(p), served);
            Assert.Equal("application/json; charset=utf-8", p.ContentType);
            Assert.Equal(registration.Mapping.Version, p.MappingVersion);
            Assert.Equal("rest-pull", p.Transport);
            Assert.Contains(p.RunId!.Value, runs.Select(r => r.Id));
        });
        foreach (var run in runs)
        {
            Assert.Equal(run.Counts.Pages, pages.Count(p => p.RunId == run.Id));
        }

        // What the hub made of the pages adds up to what the runs counted, and names every dossier of the truth.
        int Sum(string field) => pages.Sum(p => JsonDocument.Parse(p.Detail!).RootElement.GetProperty(field) is { ValueKind: JsonValueKind.Array } a
            ? a.GetArrayLength() : JsonDocument.Parse(p.Detail!).RootElement.GetProperty(field).GetInt32());
        Assert.Equal(runs.Sum(r => r.Counts.ChangesStored), Sum("changesStored"));
        Assert.Equal(runs.Sum(r => r.Counts.Quarantined), Sum("quarantined"));
        Assert.Equal(
            sim.Truth.Changes.Select(c => c.DossierCode).ToHashSet(StringComparer.Ordinal),
            pages.SelectMany(p => p.Dossiers).ToHashSet(StringComparer.Ordinal));

        // A run that the source failed left one rejected entry saying why; a run that succeeded left none.
        var rejected = entries.Where(e => e.Outcome == "rejected").ToList();
        foreach (var run in runs)
        {
            var ofRun = rejected.Where(e => e.RunId == run.Id).ToList();
            if (run.Outcome == RunOutcome.Succeeded)
            {
                Assert.Empty(ofRun);
            }
            else
            {
                Assert.Equal(run.Failure!.Reason, Assert.Single(ofRun).Reason);
            }
        }

        // The requests are outbound entries; the token requests, which carry the client secret, keep neither body nor hash.
        var sent = entries.Where(e => e.Direction == "outbound").ToList();
        var searches = sent.Where(e => JsonDocument.Parse(e.Detail!).RootElement.GetProperty("method").GetString() == "GET").ToList();
        Assert.True(searches.Count >= pages.Count, $"{searches.Count} search requests logged for {pages.Count} pages");
        Assert.All(searches, e => Assert.Contains(
            "/api/v1/dossiers/revisions?page=", JsonDocument.Parse(e.Detail!).RootElement.GetProperty("target").GetString(), StringComparison.Ordinal));
        var tokens = sent.Where(e => JsonDocument.Parse(e.Detail!).RootElement.GetProperty("method").GetString() == "POST").ToList();
        Assert.NotEmpty(tokens);
        Assert.All(tokens, e => Assert.Equal((null, true), (e.PayloadSha256, e.PayloadWithheld is not null)));
        Assert.All(sent, e => Assert.DoesNotContain("simulator-secret", e.Detail!, StringComparison.Ordinal));

        await LogCheck.SealAndVerifyAsync(db);
    }

    [Fact]
    public async Task A_rest_pull_connector_configured_by_a_file_syncs_20000_dossiers_through_faults_and_the_store_equals_the_truth()
    {
        var window = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        var province = new ProvinceOptions
        {
            SourceSystem = "sim-e2e",
            AgencyPrefix = "H91",
            Dossiers = 20_000,
            Seed = 2026,
            Start = window,
            End = window.AddDays(30),
            RollbackShare = 0.05,
            Faults = new FaultOptions
            {
                Latency = TimeSpan.FromMilliseconds(2),
                ServerErrorRate = 0.05,
                TooManyRequestsRate = 0.05,
                RetryAfterSeconds = 1,
                TimeoutRate = 0.02,
                HangTime = TimeSpan.FromSeconds(30),
                MalformedRate = 0.005,
                DuplicateRate = 0.02,
                ShuffleWithinPage = true,
            },
        };
        await using var simulator = await SimulatorHost.StartAsync(province);
        var sim = simulator["sim-e2e"];
        sim.Stats.KeepPageDigests = true;
        await using var db = await TestDatabase.CreateSchemaAsync("e2e_rest");
        using var hub = new SyncHarness(db, new RestPullConnectorKind());
        var registration = RegistrationFor(simulator, "sim-e2e") with
        {
            // Hanging requests are given up quickly so that the test does not wait for them.
            Resilience = RegistrationFor(simulator, "sim-e2e").Resilience with { AttemptTimeout = TimeSpan.FromSeconds(1) },
        };
        await hub.Catalog.SaveAsync(registration, None);

        // As a schedule would: run again after a run that a burst of faults stopped (what it stored is kept).
        var runs = new List<SyncRunRecord>();
        for (var i = 0; i < 10 && runs.LastOrDefault() is not { Outcome: RunOutcome.Succeeded } and not { Failure.Retryable: false }; i++)
        {
            runs.Add(await hub.Runner.RunAsync(registration.Id, SyncTrigger.Schedule, None));
        }

        Assert.True(runs[^1].Outcome == RunOutcome.Succeeded, string.Join("\n", runs.Select(r => $"{r.Outcome}: {r.Failure}")));
        var expected = await TruthSnapshotAsync(sim.Truth, registration.Mapping.Version, "e2e_rest_truth");
        var actual = await StoreSnapshot.TakeAsync(db);
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected == actual, "The store differs from the simulator's truth.");

        // The faults really happened, and every malformed copy is in quarantine with a reason, not in the store.
        Assert.True(sim.Stats.Faults(FaultKind.ServerError) > 0 && sim.Stats.Faults(FaultKind.TooManyRequests) > 0 && sim.Stats.Faults(FaultKind.Timeout) > 0);
        var quarantined = await hub.Ledger.ListQuarantineAsync(registration.Id, openOnly: true, 0, 10_000, None);
        Assert.Equal(sim.MalformedInjected.Values.Sum(), quarantined.Count);
        Assert.Equal(sim.MalformedInjected[MalformedKind.UnknownStatus], quarantined.Count(q => q.Reason.StartsWith("unmapped code 99", StringComparison.Ordinal)));
        Assert.All(quarantined, q => Assert.Matches("unmapped code 99|EventTime at path 'updatedDate'|DossierCode at path 'code' is missing", q.Reason));
        Assert.Equal(sim.Truth.Changes.Count, runs.Sum(r => r.Counts.ChangesStored));
        await AssertRunsLoggedAsync(db, sim, registration, runs);
    }
}
