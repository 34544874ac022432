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

    /// <summary><c>store</c> (the store against COPY and a naive upsert), <c>sync</c> (end-to-end sync against the store), <c>exchange</c> (exchange-log appends, seal and verification) or <c>xmlverify</c> (signed XML verification against bare SignedXml and raw RSA).</summary>
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

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
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
                "--scenario" => options with { Scenario = value is "store" or "sync" or "exchange" or "xmlverify" ? value : throw new ArgumentException($"Unknown scenario '{value}'. Scenarios: store, sync, exchange, xmlverify.") },
                "--log-entries" => options with { LogEntries = int.Parse(value, CultureInfo.InvariantCulture) },
                "--xml-documents" => options with { XmlDocuments = int.Parse(value, CultureInfo.InvariantCulture) },
                "--xml-items" => options with { XmlItems = int.Parse(value, CultureInfo.InvariantCulture) },
                "--xml-rounds" => options with { XmlRounds = int.Parse(value, CultureInfo.InvariantCulture) },
                "--provinces" => options with { Provinces = int.Parse(value, CultureInfo.InvariantCulture) },
                "--province-dossiers" => options with { ProvinceDossiers = int.Parse(value, CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException(
                    $"Unknown option '{args[i]}'. Options: --scenario store|sync|exchange|xmlverify --log-entries --xml-documents --xml-items --xml-rounds --changes --dossiers --systems --batch --writers --naive-sample --provinces --province-dossiers --results FILE"),
            };
        }

        return options;
    }
}
