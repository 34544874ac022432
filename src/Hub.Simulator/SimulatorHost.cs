using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Hub.Simulator;

/// <summary>
/// Simulated provinces served by a real Kestrel server, each under <c>/{SourceSystem}</c>: for tests, benchmarks and
/// demos in-process, and for the standalone program.
/// </summary>
public sealed class SimulatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, SimulatedProvince> _byName;
    private int _disposed;

    private SimulatorHost(WebApplication app, IReadOnlyList<SimulatedProvince> provinces, Uri baseUri)
    {
        _app = app;
        Provinces = provinces;
        _byName = provinces.ToDictionary(p => p.SourceSystem, StringComparer.Ordinal);
        BaseUri = baseUri;
    }

    /// <summary>The server's root, for example <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUri { get; }

    /// <summary>The port the server listens on.</summary>
    public int Port => BaseUri.Port;

    /// <summary>The provinces, in the order given.</summary>
    public IReadOnlyList<SimulatedProvince> Provinces { get; }

    /// <summary>The province with this source system id.</summary>
    /// <exception cref="KeyNotFoundException">No province has that id.</exception>
    public SimulatedProvince this[string sourceSystem] => _byName[sourceSystem];

    /// <summary>
    /// Generates the provinces and starts serving them.
    /// </summary>
    /// <exception cref="ArgumentException">Two provinces share a source system id or an agency prefix, or an option is invalid.</exception>
    public static async Task<SimulatorHost> StartAsync(IEnumerable<ProvinceOptions> provinces, SimulatorHostOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(provinces);
        options ??= new SimulatorHostOptions();
        var list = provinces.ToList();
        Unique(list, p => p.SourceSystem, "SourceSystem");
        Unique(list, p => p.AgencyPrefix, "AgencyPrefix");
        var simulated = list.Select(p => new SimulatedProvince(p, options.TimeProvider)).ToList();

        // An empty builder: no configuration files or environment variables reach the simulator (the folder it runs
        // from may hold another program's appsettings.json).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(SimulatorHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(options.ListenAddress, options.Port));
        builder.Services.AddRoutingCore();
        if (options.LogToConsole)
        {
            builder.Logging.AddSimpleConsole(c => c.SingleLine = true).SetMinimumLevel(LogLevel.Information);
        }

        if (!options.HandleShutdownSignals)
        {
            builder.Services.AddSingleton<IHostLifetime, InProcessLifetime>();
        }

        var app = builder.Build();
        app.UseRouting();
        foreach (var province in simulated)
        {
            app.MapSimulatedProvince(province);
        }

        app.MapGet(SimulatorEndpoints.StatsPath, ctx => SimulatorEndpoints.WriteJsonAsync(ctx, StatusCodes.Status200OK, w =>
        {
            w.WriteStartArray();
            foreach (var province in simulated)
            {
                SimulatorEndpoints.WriteStats(w, province);
            }

            w.WriteEndArray();
        }));
        app.MapGet("/", ctx => SimulatorEndpoints.WriteJsonAsync(ctx, StatusCodes.Status200OK, w =>
        {
            w.WriteStartArray();
            foreach (var province in simulated)
            {
                w.WriteStartObject();
                w.WriteString("sourceSystem", province.SourceSystem);
                w.WriteString("prefix", "/" + province.SourceSystem + "/");
                w.WriteString("tokenPath", province.Options.TokenPath);
                w.WriteString("revisionsPath", SimulatorEndpoints.RevisionsPath);
                w.WriteString("pagingMode", province.Options.PagingMode.ToString());
                w.WriteNumber("dossiers", province.DossierCount);
                w.WriteNumber("revisions", province.RevisionCount);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }));

        try
        {
            await app.StartAsync(cancellationToken);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new SimulatorHost(app, simulated, new Uri(address.TrimEnd('/') + "/"));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts one province.</summary>
    public static Task<SimulatorHost> StartAsync(ProvinceOptions province, SimulatorHostOptions? options = null, CancellationToken cancellationToken = default) =>
        StartAsync([province], options, cancellationToken);

    /// <summary>
    /// The base address of a province's API, with a trailing slash, for example
    /// <c>http://127.0.0.1:41234/sim-h56/</c>; the feed is <c>api/v1/dossiers/revisions</c> below it.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No province has that id.</exception>
    public Uri BaseAddress(string sourceSystem) =>
        _byName.ContainsKey(sourceSystem) ? new Uri(BaseUri, sourceSystem + "/") : throw new KeyNotFoundException($"No simulated province '{sourceSystem}'.");

    /// <summary>The full address of a province's token endpoint.</summary>
    /// <exception cref="KeyNotFoundException">No province has that id.</exception>
    public Uri TokenAddress(string sourceSystem) => new(BaseAddress(sourceSystem), this[sourceSystem].Options.TokenPath.TrimStart('/'));

    /// <summary>The full address of a province's revisions feed.</summary>
    /// <exception cref="KeyNotFoundException">No province has that id.</exception>
    public Uri RevisionsAddress(string sourceSystem) => new(BaseAddress(sourceSystem), SimulatorEndpoints.RevisionsPath.TrimStart('/'));

    /// <summary>
    /// A hub connector registration (JSON text) for a province's vendor REST API: the ready-made file
    /// <c>Connectors/vendor-rest.connector.json</c> (copied beside the program that references the simulator) with the
    /// province's id and base address filled in. Callers change what they need (schedule, resilience) before use.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No province has that id.</exception>
    public string VendorRestConnectorJson(string sourceSystem)
    {
        var baseAddress = BaseAddress(sourceSystem).ToString();
        return File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Connectors", "vendor-rest.connector.json"))
            .Replace("{{sourceSystem}}", sourceSystem, StringComparison.Ordinal)
            .Replace("{{baseUrl}}", baseAddress, StringComparison.Ordinal);
    }

    /// <summary>Completes when the host stops (Ctrl+C or SIGTERM with <see cref="SimulatorHostOptions.HandleShutdownSignals"/>, or the token).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(stopping.Token);
        }

        await _app.DisposeAsync();
    }

    private static void Unique(List<ProvinceOptions> provinces, Func<ProvinceOptions, string> key, string name)
    {
        var repeated = provinces.GroupBy(key, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
        {
            throw new ArgumentException($"Two provinces have the {name} '{repeated.Key}'.", nameof(provinces));
        }
    }

    /// <summary>A lifetime that leaves process signals to the program that embeds the simulator.</summary>
    private sealed class InProcessLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
