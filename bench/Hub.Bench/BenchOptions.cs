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
                _ => throw new ArgumentException($"Unknown option '{args[i]}'. Options: --changes --dossiers --systems --batch --writers --naive-sample --results FILE"),
            };
        }

        return options;
    }
}
