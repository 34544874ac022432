using System.Collections.Concurrent;
using System.Diagnostics;
using Hub.Connectors.BuiltIn;
using Hub.Core.Sync;
using Hub.Simulator;
using Hub.Tests.Infrastructure;
using Hub.Tests.Sync;
using Hub.Worker.Telemetry;

namespace Hub.Tests.Telemetry;

/// <summary>The shape of a sync run's trace: one run span, its page pulls with the HTTP calls under them, its store writes with the SQL under them.</summary>
public class TraceTests
{
    [Fact]
    public async Task A_run_is_one_trace_from_the_run_span_through_the_connector_calls_to_the_store_writes()
    {
        var stopped = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is HubTelemetry.Name or "System.Net.Http" or "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);

        // Two pages of 150 dossiers' revisions each at least, so the run has several pulls and stores.
        await using var simulator = await SimulatorHost.StartAsync(new ProvinceOptions { SourceSystem = "sim-trace", AgencyPrefix = "H83", Dossiers = 150 });
        await using var db = await TestDatabase.CreateSchemaAsync("trace");
        using var hub = new SyncHarness(db, new RestPullConnectorKind());
        var registration = RestSyncEndToEndTests.RegistrationFor(simulator, "sim-trace");
        registration = registration with { Configuration = WithPageSize(registration.Configuration, 100) };
        await hub.Catalog.SaveAsync(registration, CancellationToken.None);

        var run = await hub.Runner.RunAsync(registration.Id, SyncTrigger.Schedule, CancellationToken.None);
        Assert.Equal(RunOutcome.Succeeded, run.Outcome);
        Assert.True(run.Counts.Pages >= 2, $"{run.Counts.Pages} pages");

        // The run's span: the root of its trace, tagged with the connector, trigger, run id and outcome.
        var root = Assert.Single(stopped, a => a.OperationName == "hub.sync.run" && Equals(a.GetTagItem("connector"), registration.Id));
        Assert.Null(root.Parent);
        Assert.Equal("schedule", root.GetTagItem("trigger"));
        Assert.Equal(run.Id, root.GetTagItem("run.id"));
        Assert.Equal("succeeded", root.GetTagItem("outcome"));
        var trace = stopped.Where(a => a.TraceId == root.TraceId).ToList();

        // A pull span per page (and the last, empty one), each with the connector's HTTP calls under it.
        var pulls = trace.Where(a => a.OperationName == HubTelemetry.PagePull).ToList();
        var stores = trace.Where(a => a.OperationName == HubTelemetry.PageStore).ToList();
        Assert.Equal(run.Counts.Pages, pulls.Count);
        Assert.Equal(run.Counts.Pages, stores.Count);
        Assert.All(pulls.Concat(stores), a => Assert.Equal(root.SpanId, a.ParentSpanId));
        var http = trace.Where(a => a.Source.Name == "System.Net.Http").ToList();
        Assert.NotEmpty(http);
        Assert.All(http, a => Assert.Contains(a.ParentSpanId, pulls.Select(p => p.SpanId)));
        Assert.All(pulls, p => Assert.Contains(http, a => a.ParentSpanId == p.SpanId));

        // Each store write's SQL (Npgsql's spans) is under its store span.
        var sql = trace.Where(a => a.Source.Name == "Npgsql").ToList();
        Assert.All(stores, s => Assert.Contains(sql, a => a.ParentSpanId == s.SpanId || IsUnder(a, s)));

        // No tag of the trace holds a dossier code.
        var codes = simulator["sim-trace"].Truth.Changes.Select(c => c.DossierCode).ToHashSet(StringComparer.Ordinal);
        Assert.DoesNotContain(trace.SelectMany(a => a.TagObjects).Select(t => t.Value?.ToString() ?? ""), v => codes.Any(c => v.Contains(c, StringComparison.Ordinal)));
    }

    private static bool IsUnder(Activity activity, Activity ancestor)
    {
        for (var parent = activity.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent.SpanId == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }

    private static System.Text.Json.JsonElement WithPageSize(System.Text.Json.JsonElement configuration, int size)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(configuration.GetRawText())!;
        node["pageSize"] = size;
        return System.Text.Json.JsonSerializer.SerializeToElement(node);
    }
}
