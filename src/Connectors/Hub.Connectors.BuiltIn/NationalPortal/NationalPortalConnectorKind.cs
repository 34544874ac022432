using Hub.Connectors.BuiltIn.NationalPortal;

namespace Hub.Connectors.BuiltIn;

/// <summary>
/// The <c>national-portal</c> connector kind: receives what a one-stop system pushes with the national portal's own
/// sync protocol, so that its existing sync client can point at the hub unchanged. Its configuration (described by
/// <see cref="ConfigurationSchema"/>) holds the credentials the client logs in with; its mapping is normally
/// <see cref="Hub.Core.Mapping.NationalPortalMapping.Definition"/>. The protocol is served by the hub's portal adapter
/// (<c>/portal/login</c>, <c>/portal/sync</c>).
/// </summary>
public sealed class NationalPortalConnectorKind : IPushConnectorKind
{
    /// <summary>The kind's name, as connectors refer to it.</summary>
    public const string KindName = "national-portal";

    private static readonly Lazy<string> Schema = new(() =>
    {
        using var stream = typeof(NationalPortalConnectorKind).Assembly.GetManifestResourceStream("Hub.Connectors.BuiltIn.NationalPortal.national-portal.schema.json")
            ?? throw new InvalidOperationException("The national-portal configuration schema is not embedded in the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <inheritdoc />
    public string Name => KindName;

    /// <inheritdoc />
    public string Description =>
        "Receives dossiers and processing steps that a one-stop system pushes with the national portal's sync protocol (login, DongBoHoSoMC, CapNhatTienDoHoSoMC).";

    /// <inheritdoc />
    public string ConfigurationSchema => Schema.Value;

    /// <inheritdoc />
    public IReadOnlyList<string> CheckConfiguration(System.Text.Json.JsonElement configuration) =>
        ConfigurationProblems.Of(NationalPortalSettings.Parse, configuration);

    /// <inheritdoc />
    public IPushReceiver CreateReceiver(ConnectorContext context) => Create(context.Configuration);

    /// <summary>The receiver of a connector with this configuration.</summary>
    /// <exception cref="ConnectorException">The configuration is unusable (with <see cref="FailureSide.Configuration"/>).</exception>
    public static NationalPortalReceiver Create(System.Text.Json.JsonElement configuration) => new(NationalPortalSettings.Parse(configuration));
}
