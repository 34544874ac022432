using Hub.Connectors.BuiltIn.Webhook;

namespace Hub.Connectors.BuiltIn;

/// <summary>
/// The <c>json-webhook</c> connector kind: the source posts batches of changes to the hub, as JSON signed with
/// HMAC-SHA256 and a timestamp. Its configuration is described by <see cref="ConfigurationSchema"/>; the wire format is
/// in the kind's README.
/// </summary>
public sealed class JsonWebhookConnectorKind : IPushConnectorKind
{
    /// <summary>The kind's name, as connectors refer to it.</summary>
    public const string KindName = "json-webhook";

    /// <summary>The largest body any connector of this kind may accept (its <c>maxBodyBytes</c> at most): the receiving endpoint's limit.</summary>
    public const int LargestBody = JsonWebhookSettings.MaxMaxBodyBytes;

    private static readonly Lazy<string> Schema = new(() =>
    {
        using var stream = typeof(JsonWebhookConnectorKind).Assembly.GetManifestResourceStream("Hub.Connectors.BuiltIn.Webhook.json-webhook.schema.json")
            ?? throw new InvalidOperationException("The json-webhook configuration schema is not embedded in the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <inheritdoc />
    public string Name => KindName;

    /// <inheritdoc />
    public string Description =>
        "Receives batches of dossiers and steps that the source posts as JSON, signed with HMAC-SHA256 over a timestamp and the body.";

    /// <inheritdoc />
    public string ConfigurationSchema => Schema.Value;

    /// <inheritdoc />
    public IReadOnlyList<string> CheckConfiguration(System.Text.Json.JsonElement configuration) =>
        ConfigurationProblems.Of(JsonWebhookSettings.Parse, configuration);

    /// <summary>Creates the receiver of one connector.</summary>
    /// <exception cref="ConnectorException">The configuration is unusable; the message lists every problem (<see cref="FailureSide.Configuration"/>).</exception>
    public JsonWebhookReceiver CreateReceiver(ConnectorContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new JsonWebhookReceiver(JsonWebhookSettings.Parse(context.Configuration));
    }

    /// <inheritdoc />
    IPushReceiver IPushConnectorKind.CreateReceiver(ConnectorContext context) => CreateReceiver(context);
}
