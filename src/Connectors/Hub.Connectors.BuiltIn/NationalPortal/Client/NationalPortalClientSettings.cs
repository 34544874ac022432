using System.Text.Json;

namespace Hub.Connectors.BuiltIn.NationalPortal.Client;

/// <summary>
/// A national-portal-client subscription's configuration, read and checked. See <c>national-portal-client.schema.json</c>
/// for its JSON form.
/// </summary>
/// <param name="LoginUrl">Where to log in: <c>baseUrl</c> + <c>loginPath</c>.</param>
/// <param name="SyncUrlTemplate">Where to post: <c>baseUrl</c> + <c>syncPath</c>, possibly with <c>{service}</c>.</param>
/// <param name="Username">The login user name.</param>
/// <param name="Password">The login password (a secret: never printed by <see cref="ToString"/>).</param>
/// <param name="AgencyCode">The envelope's <c>madonvi</c>.</param>
/// <param name="DstCode">The <c>dstcode</c> header's value.</param>
/// <param name="ChunkSize">Rows per sync post.</param>
public sealed record NationalPortalClientSettings(
    Uri LoginUrl, string SyncUrlTemplate, string Username, string Password, string AgencyCode, string DstCode, int ChunkSize)
{
    /// <summary>The default login path, under <c>baseUrl</c>.</summary>
    public const string DefaultLoginPath = "/api/login";

    /// <summary>The default sync path, under <c>baseUrl</c>.</summary>
    public const string DefaultSyncPath = "/api/sync";

    /// <summary>The placeholder of <c>syncPath</c> replaced by the service name.</summary>
    public const string ServicePlaceholder = "{service}";

    /// <summary>The default number of rows per post.</summary>
    public const int DefaultChunkSize = 50;

    /// <summary>The largest number of rows per post accepted.</summary>
    public const int MaxChunkSize = 500;

    private const int MaxAgencyCodeLength = 35;

    private static readonly string[] Known = ["baseUrl", "loginPath", "syncPath", "username", "password", "madonvi", "dstcode", "chunkSize"];

    /// <summary>Where to post rows of the service.</summary>
    public Uri SyncUrl(string service) => new(SyncUrlTemplate.Replace(ServicePlaceholder, service, StringComparison.Ordinal), UriKind.Absolute);

    /// <summary>Reads a configuration, or throws a <see cref="ConnectorException"/> that lists every problem found.</summary>
    /// <remarks>Messages name the setting and the rule it breaks, never the password.</remarks>
    public static NationalPortalClientSettings Parse(JsonElement configuration) =>
        ConfigurationProblems.Parse("national-portal-client", configuration, Read);

    /// <inheritdoc />
    public override string ToString() =>
        $"NationalPortalClientSettings {{ LoginUrl = {LoginUrl}, SyncUrl = {SyncUrlTemplate}, Username = {Username}, Password = ***, AgencyCode = {AgencyCode}, DstCode = {DstCode}, ChunkSize = {ChunkSize} }}";

    private static NationalPortalClientSettings? Read(JsonElement root, List<string> problems)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"(root): must be a JSON object, not {PortalEnvelope.Describe(root.ValueKind)}");
            return null;
        }

        foreach (var property in root.EnumerateObject())
        {
            if (!Known.Contains(property.Name, StringComparer.Ordinal))
            {
                problems.Add($"{property.Name}: is not a setting of this kind; known settings: {string.Join(", ", Known)}");
            }
        }

        var baseUrl = BaseUrl(root, problems);
        var loginPath = Path(root, "loginPath", DefaultLoginPath, problems);
        var syncPath = Path(root, "syncPath", DefaultSyncPath, problems);
        var username = NationalPortalSettings.Text(root, "username", 200, problems);
        var password = NationalPortalSettings.Text(root, "password", 1000, problems);
        var agency = NationalPortalSettings.Text(root, "madonvi", MaxAgencyCodeLength, problems);
        if (agency is not null && agency.Trim().Length != agency.Length)
        {
            problems.Add("madonvi: must not start or end with a space");
        }

        var dstCode = NationalPortalSettings.Text(root, "dstcode", 200, problems);
        if (dstCode is not null && dstCode.Any(c => char.IsControl(c) || c > '\u007e'))
        {
            problems.Add("dstcode: must be printable ASCII: it is sent as an HTTP header");
        }

        var chunkSize = ReadChunkSize(root, problems);
        if (problems.Count > 0 || baseUrl is null || loginPath is null || syncPath is null || username is null || password is null
            || agency is null || dstCode is null || chunkSize is null)
        {
            return null;
        }

        return new NationalPortalClientSettings(
            new Uri(Join(baseUrl, loginPath), UriKind.Absolute), Join(baseUrl, syncPath), username, password, agency, dstCode, chunkSize.Value);
    }

    /// <summary>Joins by concatenation, keeping the base URL's own path (<c>https://h/sync</c> + <c>/api/login</c>).</summary>
    private static string Join(Uri baseUrl, string path) => baseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + path;

    private static Uri? BaseUrl(JsonElement root, List<string> problems)
    {
        var text = NationalPortalSettings.Text(root, "baseUrl", 2000, problems);
        if (text is null)
        {
            return null;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.Host.Length == 0)
        {
            problems.Add("baseUrl: must be an absolute http or https URL");
            return null;
        }

        if (url.Query.Length > 0 || url.Fragment.Length > 0 || url.UserInfo.Length > 0)
        {
            problems.Add("baseUrl: must have no query, fragment or user information");
            return null;
        }

        return url;
    }

    private static string? Path(JsonElement root, string name, string fallback, List<string> problems)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        var text = NationalPortalSettings.Text(root, name, 500, problems);
        if (text is null)
        {
            return null;
        }

        var probe = text.Replace(ServicePlaceholder, "service", StringComparison.Ordinal);
        if (!text.StartsWith('/') || text.StartsWith("//", StringComparison.Ordinal) || probe.Any(c => c is '?' or '#' or '{' or '}' || char.IsWhiteSpace(c) || char.IsControl(c))
            || !Uri.TryCreate("http://h" + probe, UriKind.Absolute, out _))
        {
            problems.Add($"{name}: must be a path starting with a single '/', without spaces, query or fragment" +
                (name == "syncPath" ? $"; '{ServicePlaceholder}' is the only placeholder" : ""));
            return null;
        }

        if (name == "loginPath" && text.Contains(ServicePlaceholder, StringComparison.Ordinal))
        {
            problems.Add($"loginPath: must not contain '{ServicePlaceholder}': the login names no service");
            return null;
        }

        return text;
    }

    private static int? ReadChunkSize(JsonElement root, List<string> problems)
    {
        if (!root.TryGetProperty("chunkSize", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return DefaultChunkSize;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var size) && size is >= 1 and <= MaxChunkSize)
        {
            return size;
        }

        problems.Add($"chunkSize: must be a whole number from 1 to {MaxChunkSize}");
        return null;
    }
}
