using System.Globalization;
using System.Text.RegularExpressions;

namespace Hub.Tests.Telemetry;

/// <summary>A sample of the Prometheus text format: a metric name, its labels and its value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A small parser of the Prometheus text exposition format (comments skipped, timestamps ignored).</summary>
public static partial class PrometheusText
{
    public static IReadOnlyList<PrometheusSample> Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"Not a Prometheus sample line: {line}");
            var labels = LabelPair().Matches(match.Groups["labels"].Value)
                .ToDictionary(m => m.Groups[1].Value, m => Regex.Unescape(m.Groups[2].Value), StringComparer.Ordinal);
            samples.Add(new PrometheusSample(match.Groups["name"].Value, labels, ParseValue(match.Groups["value"].Value)));
        }

        return samples;
    }

    /// <summary>The value of the one sample with this name whose labels include the given ones; <c>null</c> when none.</summary>
    public static double? Value(this IReadOnlyList<PrometheusSample> samples, string name, params (string Label, string Value)[] labels)
    {
        var found = samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value)).ToList();
        Assert.True(found.Count <= 1, $"{found.Count} samples of {name} match.");
        return found.Count == 0 ? null : found[0].Value;
    }

    private static double ParseValue(string value) => value switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\S+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
