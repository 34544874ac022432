using Hub.Connectors;

namespace Hub.TestPlugin;

/// <summary>
/// The <c>csv-pull</c> connector kind: pulls a legacy system's CSV export of dossier changes over HTTP, one line per
/// change, incrementally by the lines' change time (<c>?since=</c>). Each line becomes a raw record, a JSON object of
/// the line's cells by column name, which the connector's mapping turns into a canonical change.
/// </summary>
public sealed class CsvPullConnectorKind : IPullConnectorKind
{
    /// <summary>The kind's name, as connectors refer to it.</summary>
    public const string KindName = "csv-pull";

    private static readonly Lazy<string> Schema = new(() =>
    {
        using var stream = typeof(CsvPullConnectorKind).Assembly.GetManifestResourceStream("Hub.TestPlugin.csv-pull.schema.json")
            ?? throw new InvalidOperationException("The csv-pull configuration schema is not embedded in the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <inheritdoc />
    public string Name => KindName;

    /// <inheritdoc />
    public string Description => "Pulls a CSV export of dossier changes over HTTP, one line per change, incrementally by change time.";

    /// <inheritdoc />
    public string ConfigurationSchema => Schema.Value;

    /// <inheritdoc />
    public IPullSource CreateSource(ConnectorContext context) => new CsvPullSource(context, CsvPullSettings.Parse(context.Configuration));
}
