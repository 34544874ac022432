using Hub.Connectors.BuiltIn.SignedXml;

namespace Hub.Connectors.BuiltIn;

/// <summary>
/// The <c>signed-xml</c> connector kind: the source posts XML documents signed with XML-DSig, which the hub verifies
/// against the certificate registered for the connector (never a key in the document) before reading them. Its
/// configuration is described by <see cref="ConfigurationSchema"/>; the format and the rejection codes are in the kind's README.
/// </summary>
public sealed class SignedXmlConnectorKind : IPushConnectorKind
{
    /// <summary>The kind's name, as connectors refer to it.</summary>
    public const string KindName = "signed-xml";

    /// <summary>The largest document any connector of this kind may accept (its <c>maxBytes</c> at most): the receiving endpoint's limit.</summary>
    public const int LargestDocument = SignedXmlSettings.MaxMaxBytes;

    private static readonly Lazy<string> Schema = new(() =>
    {
        using var stream = typeof(SignedXmlConnectorKind).Assembly.GetManifestResourceStream("Hub.Connectors.BuiltIn.SignedXml.signed-xml.schema.json")
            ?? throw new InvalidOperationException("The signed-xml configuration schema is not embedded in the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <inheritdoc />
    public string Name => KindName;

    /// <inheritdoc />
    public string Description =>
        "Receives XML documents of dossier statuses and processing steps signed with XML-DSig, verified against the sender's registered certificate.";

    /// <inheritdoc />
    public string ConfigurationSchema => Schema.Value;

    /// <inheritdoc />
    public IReadOnlyList<string> CheckConfiguration(System.Text.Json.JsonElement configuration) =>
        ConfigurationProblems.Of(SignedXmlSettings.Parse, configuration);

    /// <summary>Creates the receiver of one connector.</summary>
    /// <exception cref="ConnectorException">The configuration is unusable; the message lists every problem (<see cref="FailureSide.Configuration"/>).</exception>
    public SignedXmlReceiver CreateReceiver(ConnectorContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new SignedXmlReceiver(SignedXmlSettings.Parse(context.Configuration));
    }

    /// <inheritdoc />
    IPushReceiver IPushConnectorKind.CreateReceiver(ConnectorContext context) => CreateReceiver(context);
}
