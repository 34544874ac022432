using Hub.Connectors.BuiltIn.RestPull;

namespace Hub.Connectors.BuiltIn;

/// <summary>
/// The <c>rest-pull</c> connector kind: pulls dossiers from a paged JSON REST API (the vendor one-stop systems'
/// search endpoints), incrementally by the items' update time. Its configuration is described by
/// <see cref="ConfigurationSchema"/>.
/// </summary>
public sealed class RestPullConnectorKind : IPullConnectorKind
{
    /// <summary>The kind's name, as connectors refer to it.</summary>
    public const string KindName = "rest-pull";

    private static readonly Lazy<string> Schema = new(() =>
    {
        using var stream = typeof(RestPullConnectorKind).Assembly.GetManifestResourceStream("Hub.Connectors.BuiltIn.RestPull.rest-pull.schema.json")
            ?? throw new InvalidOperationException("The rest-pull configuration schema is not embedded in the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <inheritdoc />
    public string Name => KindName;

    /// <inheritdoc />
    public string Description =>
        "Pulls dossiers from a paged JSON REST API (OAuth2, API key or session login), incrementally by the items' update time.";

    /// <inheritdoc />
    public string ConfigurationSchema => Schema.Value;

    /// <inheritdoc />
    public IReadOnlyList<string> CheckConfiguration(System.Text.Json.JsonElement configuration) =>
        ConfigurationProblems.Of(RestPull.RestPullSettings.Parse, configuration);

    /// <inheritdoc />
    public IPullSource CreateSource(ConnectorContext context) =>
        new RestPullSource(context, RestPullSettings.Parse(context.Configuration));
}
