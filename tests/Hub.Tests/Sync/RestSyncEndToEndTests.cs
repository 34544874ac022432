using Hub.Contracts;
using Hub.Core.Sync;
using Hub.Simulator;
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
    internal static async Task<string> TruthSnapshotAsync(SimulatedTruth truth, string mappingVersion, string schema)
    {
        await using var reference = await TestDatabase.CreateSchemaAsync(schema);
        var store = Changes.Store(reference);
        var changes = truth.Changes.Select(c => c with { MappingVersion = mappingVersion }).ToList();
        for (var i = 0; i < changes.Count; i += 20000)
        {
            var result = await store.WriteAsync(new ChangeBatch { Dossiers = changes.Skip(i).Take(20000).ToList() }, None);
            Assert.Empty(result.Rejected);
        }

        var steps = await store.WriteAsync(new ChangeBatch { Steps = truth.Steps }, None);
        Assert.Empty(steps.Rejected);
        return await StoreSnapshot.TakeAsync(reference);
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
    }
}
