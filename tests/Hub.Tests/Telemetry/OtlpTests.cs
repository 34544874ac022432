using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Hub.Simulator;
using Hub.Tests.Infrastructure;

namespace Hub.Tests.Telemetry;

/// <summary>With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, a real hub process sends a sync's trace and its metrics to the collector.</summary>
public class OtlpTests
{
    [Fact]
    public async Task A_configured_collector_receives_the_run_trace_with_its_pull_and_store_spans_and_no_dossier_code()
    {
        // A stand-in collector: OTLP over HTTP (protobuf) on loopback, keeping what it is sent.
        var port = FreePort();
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
        var received = new ConcurrentQueue<(string Path, string ContentType, byte[] Body)>();
        _ = Task.Run(async () =>
        {
            while (collector.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await collector.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                received.Enqueue((context.Request.Url!.AbsolutePath, context.Request.ContentType ?? "", body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
        });

        await using var simulator = await SimulatorHost.StartAsync(new ProvinceOptions { SourceSystem = "sim-otlp", AgencyPrefix = "H85", Dossiers = 50 });
        await using var db = await TestDatabase.CreateSchemaAsync("otlp");
        var folder = Directory.CreateTempSubdirectory("hub-otlp-").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "sim-otlp.json"), simulator.VendorRestConnectorJson("sim-otlp")
            .Replace("\"*/1 * * * *\"", "\"0 0 1 1 *\"", StringComparison.Ordinal));
        await using var hub = HubProcess.Start(folder, new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = db.ConnectionString,
            ["Hub__Connectors__Directory"] = folder,
            ["Hub__Scheduler__SchemaName"] = "hf_otlp_" + Guid.NewGuid().ToString("N")[..8],
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        });
        await hub.WaitReadyAsync(TimeSpan.FromSeconds(60));
        using (var sync = await hub.Client.PostAsync("/api/connectors/sim-otlp-rest/sync?reason=otlp", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, sync.StatusCode);
        }

        string Export(string path) => string.Concat(received.Where(r => r.Path == path).Select(r => Encoding.UTF8.GetString(r.Body)));
        string Traces() => Export("/v1/traces");
        for (var wait = 0; wait < 120 && !(Traces().Contains("hub.sync.run", StringComparison.Ordinal)
            && Export("/v1/metrics").Contains("hub.sync.runs", StringComparison.Ordinal)); wait++)
        {
            await Task.Delay(250);
        }

        var traces = Traces();
        Assert.True(traces.Contains("hub.sync.run", StringComparison.Ordinal), $"{received.Count} exports: {string.Join(", ", received.Select(r => r.Path))}\n{hub.Output}");
        Assert.Contains("hub.sync.page.pull", traces, StringComparison.Ordinal);
        Assert.Contains("hub.sync.page.store", traces, StringComparison.Ordinal);
        Assert.Contains("sim-otlp-rest", traces, StringComparison.Ordinal);
        Assert.All(received, r => Assert.Equal("application/x-protobuf", r.ContentType));
        Assert.Contains("hub.sync.runs", Export("/v1/metrics"), StringComparison.Ordinal);

        // What leaves the hub names no dossier.
        var everything = string.Concat(received.Select(r => Encoding.UTF8.GetString(r.Body)));
        Assert.DoesNotContain(simulator["sim-otlp"].Truth.Changes.Select(c => c.DossierCode), c => everything.Contains(c, StringComparison.Ordinal));
        collector.Stop();
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
