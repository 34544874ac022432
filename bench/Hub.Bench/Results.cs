using System.Globalization;
using System.Text;

namespace Hub.Bench;

/// <summary>Writes bench/RESULTS.md: the figures of the latest run, with the command that produced them.</summary>
internal static class Results
{
    public static void Write(
        string file, BenchOptions o, string serverVersion, int changes, double hubRate, TimeSpan hubTime, double copyRate, TimeSpan copyTime,
        double naiveRate, int naiveSample, double copyRatio, double naiveRatio)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("# Benchmark results");
        text.AppendLine();
        text.AppendLine("Latest run of the status store benchmark (`bench/Hub.Bench`), on this project's 2-core, 24 GiB machine,");
        text.AppendLine("all three measurements against the same freshly created, durable PostgreSQL cluster (fsync and synchronous commit on).");
        text.AppendLine();
        text.AppendLine("Command:");
        text.AppendLine();
        text.AppendLine("```");
        text.AppendLine("dotnet run -c Release --project bench/Hub.Bench -- --results bench/RESULTS.md");
        text.AppendLine("```");
        text.AppendLine();
        text.AppendLine(string.Create(c, $"Workload: {changes:N0} status changes over {o.Dossiers:N0} dossiers from {o.Systems} source systems, {o.OutOfOrder:P0} delivered out of order, {o.Duplicated:P0} duplicated; hub batches of {o.BatchSize:N0} with {o.Writers} concurrent writers. Run at {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, PostgreSQL {serverVersion}, .NET {Environment.Version}."));
        text.AppendLine();
        text.AppendLine("| measurement | rate | time |");
        text.AppendLine("|---|---|---|");
        text.AppendLine(string.Create(c, $"| hub batch write path (history + current state + outbox row per accepted change, idempotent) | {hubRate:F0} changes/s | {hubTime.TotalSeconds:F1} s for {changes:N0} |"));
        text.AppendLine(string.Create(c, $"| raw binary COPY, same rows, unindexed table | {copyRate:F0} rows/s | {copyTime.TotalSeconds:F1} s for {changes:N0} |"));
        text.AppendLine(string.Create(c, $"| naive one-row-at-a-time upsert (sample of {naiveSample:N0}, extrapolated) | {naiveRate:F0} rows/s | {changes / naiveRate:F0} s for {changes:N0} |"));
        text.AppendLine();
        text.AppendLine(string.Create(c, $"store/copy ratio: {copyRatio:F2}"));
        text.AppendLine();
        text.AppendLine(string.Create(c, $"store/naive ratio: {naiveRatio:F0}"));
        text.AppendLine();
        text.AppendLine("Targets for the foundation step: store/copy ≥ 0.08, store/naive ≥ 20.");
        text.AppendLine();
        text.AppendLine("Since the transactional outbox (docs/decisions/0018) the hub's write path also writes one outbox row per change it " +
            "accepts, in the same transaction: the run before it (2026-11-23 08:48 UTC, COPY at 211,060 rows/s on a quieter machine) " +
            "measured 61,609 changes/s, store/copy 0.29.");
        text.Append(KeepSection(file, SyncHeading));
        File.WriteAllText(file, text.ToString());
    }

    /// <summary>Heading of the sync scenario's section, which each scenario's run replaces and the other keeps.</summary>
    public const string SyncHeading = "## End-to-end sync throughput";

    /// <summary>
    /// Writes the sync scenario's section: replaces the one already in the file, or appends it; the other sections
    /// are kept.
    /// </summary>
    public static void WriteSync(string file, IReadOnlyList<string> section)
    {
        WriteSection(file, SyncHeading, section);
    }

    /// <summary>
    /// Writes one scenario's section: replaces the section under <paramref name="heading"/> (up to the next <c>## </c>
    /// heading) or appends it at the end; the other sections are kept as they are.
    /// </summary>
    public static void WriteSection(string file, string heading, IReadOnlyList<string> section)
    {
        var existing = File.Exists(file) ? File.ReadAllText(file) : "# Benchmark results" + Environment.NewLine;
        var text = string.Join(Environment.NewLine, section).TrimEnd() + Environment.NewLine;
        var at = existing.IndexOf(heading, StringComparison.Ordinal);
        if (at < 0)
        {
            File.WriteAllText(file, existing.TrimEnd() + Environment.NewLine + Environment.NewLine + text);
            return;
        }

        var next = existing.IndexOf(Environment.NewLine + "## ", at + heading.Length, StringComparison.Ordinal);
        var after = next < 0 ? "" : Environment.NewLine + existing[(next + Environment.NewLine.Length)..];
        File.WriteAllText(file, existing[..at] + text + after);
    }

    /// <summary>The file's text from <paramref name="heading"/> on, after a blank line; empty if it has none.</summary>
    private static string KeepSection(string file, string heading)
    {
        var existing = File.Exists(file) ? File.ReadAllText(file) : "";
        var at = existing.IndexOf(heading, StringComparison.Ordinal);
        return at < 0 ? "" : Environment.NewLine + existing[at..];
    }
}
