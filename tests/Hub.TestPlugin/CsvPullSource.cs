using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors;
using Hub.TestPlugin.Csv;

namespace Hub.TestPlugin;

/// <summary>
/// Reads the export since the cursor, the change time of the newest line read, in the source's own format. The source
/// returns the lines changed at or after <c>since</c>, so the lines of the cursor's minute are read again (the store
/// ignores what it already has) and none is skipped. The whole export since the cursor is one page.
/// </summary>
public sealed class CsvPullSource(ConnectorContext context, CsvPullSettings settings) : IPullSource
{
    /// <inheritdoc />
    public async Task<CheckResult> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            var page = await PullAsync(null, cancellationToken);
            return CheckResult.Success(page.Records.Count, $"The export answered with {page.Records.Count} lines.");
        }
        catch (ConnectorException e)
        {
            return CheckResult.Failure(e.Side switch
            {
                FailureSide.SourceUnreachable => CheckStage.Reach,
                FailureSide.SourceAuth => CheckStage.Authenticate,
                FailureSide.Configuration => CheckStage.Configuration,
                _ => CheckStage.Read,
            }, e.Message);
        }
    }

    /// <inheritdoc />
    public async Task<PullPage> PullAsync(string? cursor, CancellationToken cancellationToken)
    {
        var text = await DownloadAsync(cursor, cancellationToken);
        CsvTable table;
        try
        {
            table = CsvTable.Parse(text, settings.Delimiter);
        }
        catch (FormatException e)
        {
            throw new ConnectorException(FailureSide.SourceData, false, $"The export is not readable CSV: {e.Message}", e);
        }

        var timeIndex = IndexOf(table.Header, settings.TimeColumn)
            ?? throw new ConnectorException(FailureSide.Configuration, false,
                $"The export has no column '{settings.TimeColumn}' (timeColumn); its columns: {string.Join(", ", table.Header)}.");

        var records = new List<RawRecord>(table.Rows.Count);
        DateTime? newest = null;
        foreach (var row in table.Rows)
        {
            var item = new JsonObject();
            for (var i = 0; i < table.Header.Count; i++)
            {
                // An empty cell is a missing field, not an empty value: the mapping treats it as absent.
                if (row.Cells[i].Length > 0)
                {
                    item[table.Header[i]] = row.Cells[i];
                }
            }

            records.Add(new RawRecord(RawRecordKind.Dossier, JsonSerializer.SerializeToElement(item)));

            // A line whose time cannot be read does not move the cursor; the mapping quarantines it with the reason.
            if (DateTime.TryParseExact(row.Cells[timeIndex], settings.TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
                && (newest is null || time > newest))
            {
                newest = time;
            }
        }

        var next = newest?.ToString(settings.TimeFormat, CultureInfo.InvariantCulture) ?? cursor;
        return new PullPage(records, next, HasMore: false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task<string> DownloadAsync(string? since, CancellationToken cancellationToken)
    {
        var url = since is null
            ? settings.ExportUrl
            : new Uri(settings.ExportUrl + (settings.ExportUrl.Query.Length > 0 ? "&" : "?") + "since=" + Uri.EscapeDataString(since));
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (settings.ApiKey is { } key)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        using var response = await context.Http.SendAsync(request, cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => await response.Content.ReadAsStringAsync(cancellationToken),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                throw new ConnectorException(FailureSide.SourceAuth, false, $"The export refused the API key (HTTP {(int)response.StatusCode})."),
            HttpStatusCode.NotFound => throw new ConnectorException(FailureSide.Configuration, false, $"The export URL {settings.ExportUrl} answered 404."),
            HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError =>
                throw new ConnectorException(FailureSide.SourceUnreachable, true, $"The export answered HTTP {(int)response.StatusCode}."),
            _ => throw new ConnectorException(FailureSide.SourceData, false, $"The export answered HTTP {(int)response.StatusCode}."),
        };
    }

    private static int? IndexOf(IReadOnlyList<string> header, string column)
    {
        for (var i = 0; i < header.Count; i++)
        {
            if (string.Equals(header[i].Trim(), column, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return null;
    }
}
