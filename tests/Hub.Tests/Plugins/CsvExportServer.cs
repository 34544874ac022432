using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hub.Tests.Plugins;

/// <summary>
/// A legacy one-stop system's CSV export on loopback (Kestrel): <c>GET /export/ho-so.csv?since=dd/MM/yyyy HH:mm</c> with
/// an <c>X-Api-Key</c> header answers the lines changed at or after <c>since</c>, by change time, in its own column names
/// and date format.
/// </summary>
public sealed class CsvExportServer : IAsyncDisposable
{
    public const string ApiKey = "legacy-export-key";
    public const string TimeFormat = "dd/MM/yyyy HH:mm";
    public static readonly string[] Columns = ["ID", "SO_HO_SO", "MA_TTHC", "TINH_TRANG", "CAP_NHAT", "HEN_TRA", "DON_VI"];

    private readonly WebApplication _app;
    private readonly List<ExportLine> _lines = [];
    private readonly ConcurrentQueue<string?> _since = new();

    private CsvExportServer(WebApplication app)
    {
        _app = app;
    }

    public Uri ExportUrl { get; private set; } = null!;

    /// <summary>The <c>since</c> of every export request, in order (<c>null</c>: none).</summary>
    public IReadOnlyList<string?> SinceRequested => [.. _since];

    public IReadOnlyList<ExportLine> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public static async Task<CsvExportServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new CsvExportServer(app);
        app.MapGet("/export/ho-so.csv", (HttpContext http) => server.Export(http));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.ExportUrl = new Uri(new Uri(address), "/export/ho-so.csv");
        return server;
    }

    public void Add(IEnumerable<ExportLine> lines)
    {
        lock (_lines)
        {
            _lines.AddRange(lines);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private IResult Export(HttpContext http)
    {
        if (http.Request.Headers["X-Api-Key"] != ApiKey)
        {
            return Results.Unauthorized();
        }

        var since = (string?)http.Request.Query["since"];
        _since.Enqueue(since);
        DateTime? from = null;
        if (since is not null)
        {
            if (!DateTime.TryParseExact(since, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
            {
                return Results.BadRequest("since must be dd/MM/yyyy HH:mm");
            }

            from = parsed;
        }

        var csv = new StringBuilder().AppendJoin(',', Columns).Append("\r\n");
        foreach (var line in Lines.Where(l => from is null || l.ChangedAt >= from).OrderBy(l => l.ChangedAt).ThenBy(l => l.Id, StringComparer.Ordinal))
        {
            csv.AppendJoin(',', new[]
            {
                line.Id, line.Code, line.Procedure, line.State, line.ChangedAt.ToString(TimeFormat, CultureInfo.InvariantCulture),
                line.Due?.ToString(TimeFormat, CultureInfo.InvariantCulture) ?? "", line.Unit,
            }.Select(Quote)).Append("\r\n");
        }

        return Results.Text(csv.ToString(), "text/csv", Encoding.UTF8);
    }

    private static string Quote(string cell) =>
        cell.AsSpan().IndexOfAny(",\"\r\n") < 0 ? cell : "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}

/// <summary>One line of the export: a dossier's state after one change; times are Vietnam time, as the system writes them.</summary>
public sealed record ExportLine(string Id, string Code, string Procedure, string State, DateTime ChangedAt, DateTime? Due, string Unit);
