namespace Hub.Connectors.BuiltIn.NationalPortal.Client;

/// <summary>
/// The <c>national-portal-client</c> subscriber kind: publishes the hub's dossiers to the national public-service portal
/// with the portal's own sync protocol (login, <c>DongBoHoSoMC</c>, <c>CapNhatTienDoHoSoMC</c>), the reverse of the
/// <c>national-portal</c> kind. Its configuration is described by <see cref="ConfigurationSchema"/>; the protocol flow is
/// in the README of <c>NationalPortal/</c>.
/// </summary>
public sealed class NationalPortalClientKind : ISubscriberConnectorKind
{
    /// <summary>The kind's name, as subscriptions refer to it.</summary>
    public const string KindName = "national-portal-client";

    private static readonly Lazy<string> Schema = new(() =>
    {
        using var stream = typeof(NationalPortalClientKind).Assembly.GetManifestResourceStream("Hub.Connectors.BuiltIn.NationalPortal.Client.national-portal-client.schema.json")
            ?? throw new InvalidOperationException("The national-portal-client configuration schema is not embedded in the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <inheritdoc />
    public string Name => KindName;

    /// <inheritdoc />
    public string Description =>
        "Publishes dossiers and processing steps to the national public-service portal with its sync protocol (login, DongBoHoSoMC insert/update, CapNhatTienDoHoSoMC).";

    /// <inheritdoc />
    public string ConfigurationSchema => Schema.Value;

    /// <summary>The portal overwrites a dossier with each update: only a dossier's latest change is worth sending.</summary>
    public bool LatestStateOnly => true;

    /// <inheritdoc />
    public IReadOnlyList<string> CheckConfiguration(System.Text.Json.JsonElement configuration) =>
        ConfigurationProblems.Of(NationalPortalClientSettings.Parse, configuration);

    /// <inheritdoc />
    public ISubscriberSink CreateSink(SubscriberContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new NationalPortalSink(NationalPortalClientSettings.Parse(context.Configuration), context);
    }
}
