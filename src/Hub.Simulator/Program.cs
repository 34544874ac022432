using System.Globalization;
using System.Net;

namespace Hub.Simulator;

/// <summary>
/// Runs simulated provinces until Ctrl+C or SIGTERM, for demos and manual tests. Settings come from the command
/// line (<c>--provinces 3 --dossiers 2000 --port 5090</c>) or environment variables prefixed <c>HUBSIM_</c>.
/// </summary>
internal static class Program
{
    private const string Usage = """
        Hub.Simulator: simulated provincial one-stop systems (vendor REST API) with a known truth.

        Options (command line --name value, or environment HUBSIM_name):
          --provinces N            provinces to serve (default 1); the first is sim-h56 (agency prefix H56), then sim-h57...
          --dossiers N             dossiers per province (default 1000)
          --seed N                 seed of the first province; the next ones add 1 (default 56)
          --days N                 length of the lifecycle window in days (default 30)
          --live-minutes N         end the window N minutes in the future, so revisions appear as time passes (default: ends a minute ago)
          --end INSTANT            end the window at this instant (ISO 8601, e.g. 2026-11-30T10:00:00Z) instead: the same
                                   --end, --days and --seed give the same truth again after a restart
          --paging MODE            PageSize, OffsetLimit or NextToken (default PageSize)
          --rollback-share X       share of dossiers with a cancelled result, 10→4 (default 0)
          --client-id ID           OAuth2 client id (default hub-connector)
          --client-secret SECRET   OAuth2 client secret (default simulator-secret)
          --server-error-rate X, --too-many-requests-rate X, --timeout-rate X, --malformed-rate X, --duplicate-rate X
                                   faults, shares between 0 and 1 (default 0)
          --latency-ms N           delay added to every request (default 0)
          --port N                 port (default 5090; 0 takes a free one)
          --listen ADDRESS         address to listen on (default 127.0.0.1)
          --log                    log requests to the console
        """;

    public static async Task<int> Main(string[] args)
    {
        if (args.Any(a => a is "--help" or "-h" or "-?"))
        {
            Console.WriteLine(Usage);
            return 0;
        }

        List<ProvinceOptions> provinces;
        SimulatorHostOptions hostOptions;
        try
        {
            // A bare --log is a switch: give it a value for the command-line provider.
            var normalised = args.SelectMany((a, i) => a == "--log" && (i + 1 == args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal)) ? [a, "true"] : new[] { a }).ToArray();
            var config = new ConfigurationBuilder()
                .AddEnvironmentVariables("HUBSIM_")
                .AddCommandLine(normalised)
                .Build();
            (provinces, hostOptions) = Read(config);
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"Invalid settings: {e.Message}{Environment.NewLine}{Environment.NewLine}{Usage}");
            return 2;
        }

        await using var host = await SimulatorHost.StartAsync(provinces, hostOptions);
        Console.WriteLine($"Simulator listening on {host.BaseUri} (stats: {new Uri(host.BaseUri, SimulatorEndpoints.StatsPath.TrimStart('/'))})");
        foreach (var province in host.Provinces)
        {
            var options = province.Options;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {province.SourceSystem}: {host.BaseAddress(province.SourceSystem)}  token {options.TokenPath.TrimStart('/')}  client {options.ClientId}/{options.ClientSecret}  paging {options.PagingMode}  {province.DossierCount} dossiers, {province.RevisionCount} revisions, {province.Start:u} to {province.End:u}"));
        }

        Console.WriteLine("Ctrl+C to stop.");
        await host.WaitForShutdownAsync();
        return 0;
    }

    private static (List<ProvinceOptions> Provinces, SimulatorHostOptions Host) Read(IConfiguration config)
    {
        var count = config.GetValue("provinces", 1);
        if (count < 1)
        {
            throw new ArgumentException("--provinces must be at least 1.");
        }

        var days = config.GetValue("days", ProvinceOptions.DefaultWindowDays);
        var liveMinutes = config.GetValue<int?>("live-minutes");
        var now = DateTimeOffset.UtcNow;
        var fixedEnd = config.GetValue<string>("end");
        var end = fixedEnd is not null
            ? DateTimeOffset.Parse(fixedEnd, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)
            : liveMinutes is { } minutes ? now.AddMinutes(minutes) : now.AddSeconds(-ProvinceOptions.DefaultEndLagSeconds);
        var faults = new FaultOptions
        {
            ServerErrorRate = config.GetValue("server-error-rate", 0.0),
            TooManyRequestsRate = config.GetValue("too-many-requests-rate", 0.0),
            TimeoutRate = config.GetValue("timeout-rate", 0.0),
            MalformedRate = config.GetValue("malformed-rate", 0.0),
            DuplicateRate = config.GetValue("duplicate-rate", 0.0),
            Latency = TimeSpan.FromMilliseconds(config.GetValue("latency-ms", 0)),
        };
        var seed = config.GetValue("seed", ProvinceOptions.DefaultSeed);
        var provinces = Enumerable.Range(0, count).Select(i =>
        {
            var prefix = string.Create(CultureInfo.InvariantCulture, $"H{56 + i}");
            return new ProvinceOptions
            {
                SourceSystem = "sim-" + prefix.ToLowerInvariant(),
                AgencyPrefix = prefix,
                Dossiers = config.GetValue("dossiers", ProvinceOptions.DefaultDossiers),
                Seed = seed + i,
                Start = end.AddDays(-days),
                End = end,
                RollbackShare = config.GetValue("rollback-share", ProvinceOptions.DefaultRollbackShare),
                PagingMode = config.GetValue("paging", ProvinceOptions.DefaultPagingMode),
                ClientId = config.GetValue("client-id", ProvinceOptions.DefaultClientId)!,
                ClientSecret = config.GetValue("client-secret", ProvinceOptions.DefaultClientSecret)!,
                Faults = faults,
            };
        }).ToList();
        var listen = config.GetValue<string>("listen");
        var host = new SimulatorHostOptions
        {
            Port = config.GetValue("port", 5090),
            ListenAddress = listen is null ? IPAddress.Loopback : IPAddress.Parse(listen),
            LogToConsole = config.GetValue("log", false),
            HandleShutdownSignals = true,
        };
        return (provinces, host);
    }
}
