using System.Globalization;
using System.Text.Json;
using Hub.Connectors.BuiltIn;
using Hub.Core.Sync;
using Hub.Tests.Audit;
using Hub.Tests.Infrastructure;
using Hub.Tests.Sync;
using Hub.Worker.Sync;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Hub.Tests.Plugins;

/// <summary>
/// The acceptance of plugin loading: a kind the hub was not built with (the test plugin's csv-pull), loaded from a plugins
/// folder, serves a connector registered by configuration alone, and the sync engine stores what a CSV export over real
/// HTTP says.
/// </summary>
public class PluginSyncEndToEndTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Vietnam = TimeSpan.FromHours(7);

    private static readonly Dictionary<string, int> NationalStatus = new(StringComparer.Ordinal)
    {
        ["MOI"] = 1, ["TIEP_NHAN"] = 2, ["DANG_XU_LY"] = 4, ["BO_SUNG"] = 5, ["DA_XU_LY"] = 9, ["DA_TRA"] = 10,
    };

    [Fact]
    public async Task A_csv_pull_connector_of_a_loaded_plugin_registered_by_a_file_syncs_a_CSV_export_and_the_store_holds_what_the_CSV_says()
    {
        using var plugins = new PluginsFolder();
        plugins.DeployTestPlugin();
        var loaded = PluginKit.Load(plugins.Path);
        await using var export = await CsvExportServer.StartAsync();
        await using var db = await TestDatabase.CreateSchemaAsync("plugin_csv");
        using var hub = new SyncHarness(db, [new RestPullConnectorKind(), .. loaded.Kinds]);

        // Registered by configuration alone: a connector file in a connectors folder, read as the hub does at start-up.
        var connectors = Directory.CreateTempSubdirectory("hub-connectors-");
        try
        {
            File.WriteAllText(Path.Combine(connectors.FullName, "h12-legacy-csv.json"), ConnectorFile("h12-legacy-csv", "h12-legacy", export.ExportUrl));
            using var services = new ServiceCollection().AddSingleton(hub.Catalog).AddSingleton(hub.Kinds).BuildServiceProvider();
            var files = new ConnectorFiles(
                Options.Create(new ConnectorFilesOptions { Directory = connectors.FullName }), services, NullLogger<ConnectorFiles>.Instance);
            await files.StartAsync(None);
        }
        finally
        {
            connectors.Delete(recursive: true);
        }

        var (first, second) = Lines();
        export.Add(first);
        var run1 = await hub.Runner.RunAsync("h12-legacy-csv", SyncTrigger.Manual, None);
        Assert.True(run1.Outcome == RunOutcome.Succeeded, $"{run1.Outcome}: {run1.Failure}");
        Assert.Equal(0, run1.Counts.Quarantined);
        Assert.Equal(Expected(export.Lines), await StoredAsync(hub, export.Lines));

        // More changes, one of them stamped with the very minute the first run ended at: the next run asks for the
        // lines since that minute (inclusive) and misses nothing.
        var cursorMinute = first.Max(l => l.ChangedAt);
        export.Add([.. second, new ExportLine("9001", "H12.22-20261005-0009001", "1.001234.000.00.00.H12", "MOI", cursorMinute, null, "Bộ phận một cửa")]);
        var run2 = await hub.Runner.RunAsync("h12-legacy-csv", SyncTrigger.Manual, None);
        Assert.True(run2.Outcome == RunOutcome.Succeeded, $"{run2.Outcome}: {run2.Failure}");
        Assert.Equal(0, run2.Counts.Quarantined);
        Assert.Equal([null, cursorMinute.ToString(CsvExportServer.TimeFormat, CultureInfo.InvariantCulture)], export.SinceRequested);
        Assert.Equal(Expected(export.Lines), await StoredAsync(hub, export.Lines));

        var dossiers = export.Lines.Select(l => l.Code).Distinct().Count();
        await using var count = db.CreateCommand("select count(*) from dossier");
        Assert.Equal(dossiers, Convert.ToInt32(await count.ExecuteScalarAsync(), CultureInfo.InvariantCulture));
        Assert.Equal(export.Lines.Count, run1.Counts.ChangesStored + run2.Counts.ChangesStored);

        // The plugin cannot hand over the bytes it read: each page is logged as the records' JSON, marked so, in the
        // page's transaction, with its run and dossiers; the whole log seals and verifies.
        var pages = (await LogCheck.EntriesAsync(db, "h12-legacy-csv")).Where(e => e.Kind == "message").ToList();
        Assert.Equal(run1.Counts.Pages + run2.Counts.Pages, pages.Count);
        Assert.All(pages, p => Assert.Equal(("inbound", "csv-pull", "stored", SyncRunner.RecordsContentType), (p.Direction, p.Transport, p.Outcome, p.ContentType)));
        Assert.Equal([run1.Id, run2.Id], pages.Select(p => p.RunId!.Value).Distinct());
        var logged = new List<string>();
        foreach (var page in pages)
        {
            using var json = JsonDocument.Parse(await LogCheck.PayloadAsync(db, page));
            logged.AddRange(json.RootElement.EnumerateArray().Select(r => r.GetProperty("kind").GetString() + ":" + r.GetProperty("record").GetProperty("SO_HO_SO").GetString()));
        }

        Assert.Equal(run1.Counts.RecordsRead + run2.Counts.RecordsRead, logged.Count);
        Assert.Equal(export.Lines.Select(l => "dossier:" + l.Code).ToHashSet(), logged.ToHashSet());
        Assert.Equal(export.Lines.Select(l => l.Code).ToHashSet(), pages.SelectMany(p => p.Dossiers).ToHashSet());
        await LogCheck.SealAndVerifyAsync(db);
    }

    internal static string ConnectorFile(string id, string sourceSystem, Uri exportUrl) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Plugins", "csv-pull.connector.json"))
            .Replace("{{id}}", id, StringComparison.Ordinal)
            .Replace("{{sourceSystem}}", sourceSystem, StringComparison.Ordinal)
            .Replace("{{exportUrl}}", exportUrl.ToString(), StringComparison.Ordinal)
            .Replace("{{apiKey}}", CsvExportServer.ApiKey, StringComparison.Ordinal);

    /// <summary>25 dossiers of 2 to 6 changes each, split at a point in time into what the first and the second run see.</summary>
    private static (List<ExportLine> First, List<ExportLine> Second) Lines()
    {
        string[] path = ["MOI", "TIEP_NHAN", "DANG_XU_LY", "BO_SUNG", "DANG_XU_LY", "DA_XU_LY", "DA_TRA"];
        var start = new DateTime(2026, 10, 5, 8, 0, 0, DateTimeKind.Unspecified);
        var lines = new List<ExportLine>();
        for (var d = 0; d < 25; d++)
        {
            var opened = start.AddMinutes(d * 37);
            var unit = (d % 3) switch
            {
                0 => "UBND xã Tân Lập, huyện Đan Phượng",
                1 => "Phòng \"Một cửa\" Sở Tư pháp",
                _ => "Sở Kế hoạch và Đầu tư",
            };
            for (var step = 0; step < 2 + (d % 5); step++)
            {
                var due = step >= 1 ? opened.Date.AddDays(10 + (step == 4 ? 5 : 0)).AddHours(17) : (DateTime?)null;
                lines.Add(new ExportLine((1000 + d).ToString(CultureInfo.InvariantCulture), $"H12.22-20261005-{d + 1:D7}",
                    $"1.00{3560 + (d % 3)}.000.00.00.H12", path[step], opened.AddMinutes(step * 95), due, unit));
            }
        }

        var split = start.AddHours(6);
        return ([.. lines.Where(l => l.ChangedAt <= split)], [.. lines.Where(l => l.ChangedAt > split)]);
    }

    /// <summary>What the CSV says, per dossier: its current state and its history of statuses.</summary>
    private static List<string> Expected(IReadOnlyList<ExportLine> lines) => lines
        .GroupBy(l => l.Code)
        .OrderBy(g => g.Key, StringComparer.Ordinal)
        .Select(g =>
        {
            var ordered = g.OrderBy(l => l.ChangedAt).ToList();
            var last = ordered[^1];
            var baseCode = string.Join('.', last.Procedure.Split('.')[..2]);
            return Describe(last.Code, last.Id, NationalStatus[last.State], last.State, Vietnamese(last.ChangedAt), last.Procedure, baseCode,
                last.Due is { } due ? Vietnamese(due) : null, last.Unit, "legacy-csv/1",
                ordered.Select(l => (NationalStatus[l.State], Vietnamese(l.ChangedAt))));
        })
        .ToList();

    private static async Task<List<string>> StoredAsync(SyncHarness hub, IReadOnlyList<ExportLine> lines)
    {
        var stored = new List<string>();
        foreach (var code in lines.Select(l => l.Code).Distinct().Order(StringComparer.Ordinal))
        {
            var dossier = await hub.Store.GetByCodeAsync(code, None);
            if (dossier is null)
            {
                stored.Add(code + ": not stored");
                continue;
            }

            var c = dossier.Current;
            Assert.Equal("h12-legacy", c.SourceSystem);
            stored.Add(Describe(c.DossierCode, c.NativeId, (int)c.Status, c.SourceStatus, c.EventTime, c.ProcedureCode, c.ProcedureBaseCode, c.DueAt,
                c.HandlingUnit, c.MappingVersion, dossier.History.Select(h => ((int)h.Change.Status, h.Change.EventTime))));
        }

        return stored;
    }

    private static string Describe(
        string code, string nativeId, int status, string? sourceStatus, DateTimeOffset eventTime, string? procedure, string? baseCode,
        DateTimeOffset? due, string? unit, string? mappingVersion, IEnumerable<(int Status, DateTimeOffset Time)> history) =>
        FormattableString.Invariant(
            $"{code}|{nativeId}|{status}|{sourceStatus}|{eventTime.ToOffset(Vietnam):yyyy-MM-dd HH:mm zzz}|{procedure}|{baseCode}|{due?.ToOffset(Vietnam):yyyy-MM-dd HH:mm zzz}|{unit}|{mappingVersion}|") +
        string.Join(" ", history.Select(h => FormattableString.Invariant($"{h.Status}@{h.Time.ToOffset(Vietnam):MM-dd HH:mm}")));

    private static DateTimeOffset Vietnamese(DateTime local) => new(local, Vietnam);
}
