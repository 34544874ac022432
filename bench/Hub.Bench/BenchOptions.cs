using System.Globalization;

namespace Hub.Bench;

/// <summary>Command-line settings of the benchmark; defaults are the shape the acceptance asks for.</summary>
internal sealed record BenchOptions
{
    public int Changes { get; init; } = 1_000_000;
    public int Dossiers { get; init; } = 200_000;
    public int Systems { get; init; } = 50;
    public double OutOfOrder { get; init; } = 0.10;
    public double Duplicated { get; init; } = 0.05;
    public int BatchSize { get; init; } = 50_000;
    public int Writers { get; init; } = 2;
    public int NaiveSample { get; init; } = 20_000;
    public string? ResultsFile { get; init; }

    /// <summary><c>store</c> (the store against COPY and a naive upsert), <c>sync</c> (end-to-end sync against the store), <c>exchange</c> (exchange-log appends, seal and verification), <c>nodes</c> (push-to-subscriber latency and 1 against 3 hub processes) or <c>xmlverify</c> (signed XML verification against bare SignedXml and raw RSA).</summary>
    public string Scenario { get; init; } = "store";

    /// <summary>Sync scenario: simulated provinces, one REST-pull connector each.</summary>
    public int Provinces { get; init; } = 4;

    /// <summary>Sync scenario: dossiers per simulated province.</summary>
    public int ProvinceDossiers { get; init; } = 25_000;

    /// <summary>Exchange scenario: messages appended, sealed and verified.</summary>
    public int LogEntries { get; init; } = 20_000;

    /// <summary>Xmlverify scenario: distinct signed documents.</summary>
    public int XmlDocuments { get; init; } = 200;

    /// <summary>Xmlverify scenario: dossier items per document (each with a step).</summary>
    public int XmlItems { get; init; } = 10;

    /// <summary>Xmlverify scenario: passes over all documents (the three measurements take turns on every document).</summary>
    public int XmlRounds { get; init; } = 10;

    /// <summary>Nodes scenario: runs of each configuration (1 and 3 nodes), alternating their order.</summary>
    public int Rounds { get; init; } = 2;

    /// <summary>Nodes scenario: changes of the throughput workload (the same for 1 and 3 nodes).</summary>
    public int NodeChanges { get; init; } = 100_000;

    /// <summary>Nodes scenario: changes per push of the throughput workload.</summary>
    public int NodeBatch { get; init; } = 500;

    /// <summary>Nodes scenario: concurrent pushers of the throughput workload.</summary>
    public int Pushers { get; init; } = 8;

    /// <summary>Nodes scenario: json-webhook connectors (source systems) the pushes are spread over.</summary>
    public int Connectors { get; init; } = 4;

    /// <summary>Nodes scenario: the fixed load of the latency measurement, in changes per second.</summary>
    public int LatencyRate { get; init; } = 200;

    /// <summary>Nodes scenario: how long the latency load lasts.</summary>
    public int LatencySeconds { get; init; } = 30;

    /// <summary>Nodes scenario: changes per push of the latency load.</summary>
    public int LatencyBatch { get; init; } = 10;

    /// <summary>Nodes scenario: <c>Hub:Bus:DispatchInterval</c> of the hubs; null keeps the hub's default.</summary>
    public string? DispatchInterval { get; init; }

    /// <summary>Nodes scenario: a shorter <c>Hub:Bus:DispatchInterval</c> whose latency is measured too (3 nodes); null: not measured.</summary>
    public string? ShortInterval { get; init; }

    /// <summary>Nodes scenario: cores per hub node assumed by the node estimate.</summary>
    public int NodeCores { get; init; } = 8;

    /// <summary>Nodes scenario: dossiers of the national back-fill peak (DOMAIN.md: a province back-fills millions).</summary>
    public int BackfillDossiers { get; init; } = 2_000_000;

    /// <summary>Nodes scenario: minutes the back-fill must take (DOMAIN.md: minutes, not days).</summary>
    public int BackfillMinutes { get; init; } = 15;

    /// <summary>The options given, but the scenario and the results file, as they were written (for the command shown in the results).</summary>
    public string CommandArguments() => string.Concat(_arguments.Select(a => " " + a));

    private IReadOnlyList<string> _arguments = [];

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions
        {
            _arguments = [.. args.Chunk(2).Where(p => p[0] is not "--scenario" and not "--results").SelectMany(p => p)],
        };
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            options = args[i] switch
            {
                "--changes" => options with { Changes = int.Parse(value, CultureInfo.InvariantCulture) },
                "--dossiers" => options with { Dossiers = int.Parse(value, CultureInfo.InvariantCulture) },
                "--systems" => options with { Systems = int.Parse(value, CultureInfo.InvariantCulture) },
                "--batch" => options with { BatchSize = int.Parse(value, CultureInfo.InvariantCulture) },
                "--writers" => options with { Writers = int.Parse(value, CultureInfo.InvariantCulture) },
                "--naive-sample" => options with { NaiveSample = int.Parse(value, CultureInfo.InvariantCulture) },
                "--results" => options with { ResultsFile = value },
                "--scenario" => options with { Scenario = value is "store" or "sync" or "exchange" or "xmlverify" or "nodes" ? value : throw new ArgumentException($"Unknown scenario '{value}'. Scenarios: store, sync, exchange, xmlverify, nodes.") },
                "--rounds" => options with { Rounds = int.Parse(value, CultureInfo.InvariantCulture) },
                "--node-changes" => options with { NodeChanges = int.Parse(value, CultureInfo.InvariantCulture) },
                "--node-batch" => options with { NodeBatch = int.Parse(value, CultureInfo.InvariantCulture) },
                "--pushers" => options with { Pushers = int.Parse(value, CultureInfo.InvariantCulture) },
                "--connectors" => options with { Connectors = int.Parse(value, CultureInfo.InvariantCulture) },
                "--latency-rate" => options with { LatencyRate = int.Parse(value, CultureInfo.InvariantCulture) },
                "--latency-seconds" => options with { LatencySeconds = int.Parse(value, CultureInfo.InvariantCulture) },
                "--latency-batch" => options with { LatencyBatch = int.Parse(value, CultureInfo.InvariantCulture) },
                "--dispatch-interval" => options with { DispatchInterval = TimeSpan.Parse(value, CultureInfo.InvariantCulture).ToString("c", CultureInfo.InvariantCulture) },
                "--short-interval" => options with { ShortInterval = value == "none" ? null : TimeSpan.Parse(value, CultureInfo.InvariantCulture).ToString("c", CultureInfo.InvariantCulture) },
                "--node-cores" => options with { NodeCores = int.Parse(value, CultureInfo.InvariantCulture) },
                "--backfill-dossiers" => options with { BackfillDossiers = int.Parse(value, CultureInfo.InvariantCulture) },
                "--backfill-minutes" => options with { BackfillMinutes = int.Parse(value, CultureInfo.InvariantCulture) },
                "--log-entries" => options with { LogEntries = int.Parse(value, CultureInfo.InvariantCulture) },
                "--xml-documents" => options with { XmlDocuments = int.Parse(value, CultureInfo.InvariantCulture) },
                "--xml-items" => options with { XmlItems = int.Parse(value, CultureInfo.InvariantCulture) },
                "--xml-rounds" => options with { XmlRounds = int.Parse(value, CultureInfo.InvariantCulture) },
                "--provinces" => options with { Provinces = int.Parse(value, CultureInfo.InvariantCulture) },
                "--province-dossiers" => options with { ProvinceDossiers = int.Parse(value, CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException(
                    $"Unknown option '{args[i]}'. Options: --scenario store|sync|exchange|xmlverify|nodes --rounds --node-changes --node-batch --pushers --connectors --latency-rate --latency-seconds --latency-batch --dispatch-interval --short-interval TIME|none --node-cores --backfill-dossiers --backfill-minutes --log-entries --xml-documents --xml-items --xml-rounds --changes --dossiers --systems --batch --writers --naive-sample --provinces --province-dossiers --results FILE"),
            };
        }

        return options;
    }
}
