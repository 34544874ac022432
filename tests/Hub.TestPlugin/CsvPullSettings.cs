using System.Globalization;
using System.Text.Json;
using Hub.Connectors;

namespace Hub.TestPlugin;

/// <summary>A csv-pull connector's configuration (see csv-pull.schema.json).</summary>
public sealed record CsvPullSettings(Uri ExportUrl, string TimeColumn, string TimeFormat, char Delimiter, string? ApiKey)
{
    /// <summary>The default format of the change time.</summary>
    public const string DefaultTimeFormat = "dd/MM/yyyy HH:mm";

    /// <summary>Reads a configuration, listing every problem.</summary>
    /// <exception cref="ConnectorException">The configuration is unusable (a configuration problem).</exception>
    public static CsvPullSettings Parse(JsonElement configuration)
    {
        var problems = new List<string>();
        if (configuration.ValueKind != JsonValueKind.Object)
        {
            throw new ConnectorException(FailureSide.Configuration, false, "The csv-pull configuration is not a JSON object.");
        }

        var url = Text(configuration, "exportUrl");
        Uri? exportUrl = null;
        if (url is null)
        {
            problems.Add("exportUrl is missing");
        }
        else if (!Uri.TryCreate(url, UriKind.Absolute, out exportUrl) || exportUrl.Scheme is not ("http" or "https"))
        {
            problems.Add($"exportUrl '{url}' is not an absolute http or https URL");
        }

        var timeColumn = Text(configuration, "timeColumn");
        if (string.IsNullOrEmpty(timeColumn))
        {
            problems.Add("timeColumn is missing");
        }

        var timeFormat = Text(configuration, "timeFormat") ?? DefaultTimeFormat;
        var probe = new DateTime(2026, 12, 31, 23, 59, 0, DateTimeKind.Unspecified);
        if (!DateTime.TryParseExact(probe.ToString(timeFormat, CultureInfo.InvariantCulture), timeFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            problems.Add($"timeFormat '{timeFormat}' cannot read back the times it writes");
        }

        var delimiter = Text(configuration, "delimiter") ?? ",";
        if (delimiter.Length != 1)
        {
            problems.Add($"delimiter '{delimiter}' is not one character");
        }

        if (problems.Count > 0)
        {
            throw new ConnectorException(FailureSide.Configuration, false, "The csv-pull configuration is invalid: " + string.Join("; ", problems) + ".");
        }

        return new CsvPullSettings(exportUrl!, timeColumn!, timeFormat, delimiter[0], Text(configuration, "apiKey"));
    }

    private static string? Text(JsonElement configuration, string name) =>
        configuration.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
