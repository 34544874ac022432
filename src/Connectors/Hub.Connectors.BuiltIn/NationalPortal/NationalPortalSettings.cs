using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Hub.Connectors.BuiltIn.NationalPortal;

/// <summary>
/// A national-portal connector's configuration, read and checked: the credentials its client logs in with, the agency
/// codes it may send for and how long a session lasts. See <c>national-portal.schema.json</c> for its JSON form.
/// </summary>
/// <param name="Username">The login user name.</param>
/// <param name="Password">The login password (a secret: never printed by <see cref="ToString"/>).</param>
/// <param name="AgencyCodes">The <c>madonvi</c> values the connector may send for; empty: any.</param>
/// <param name="SessionLifetime">How long a session token is accepted after login.</param>
public sealed record NationalPortalSettings(string Username, string Password, IReadOnlySet<string> AgencyCodes, TimeSpan SessionLifetime)
{
    /// <summary>The default session lifetime: a working day, as the portal's own sessions.</summary>
    public static readonly TimeSpan DefaultSessionLifetime = TimeSpan.FromHours(8);

    /// <summary>The shortest session lifetime accepted.</summary>
    public static readonly TimeSpan MinSessionLifetime = TimeSpan.FromMinutes(1);

    /// <summary>The longest session lifetime accepted.</summary>
    public static readonly TimeSpan MaxSessionLifetime = TimeSpan.FromDays(30);

    private const int MaxUsernameLength = 200;
    private const int MaxPasswordLength = 1000;
    private const int MaxAgencyCodeLength = 35;

    /// <summary>Reads a configuration, or throws a <see cref="ConnectorException"/> that lists every problem found.</summary>
    /// <remarks>Messages name the setting and the rule it breaks, never the value: the password is a secret.</remarks>
    public static NationalPortalSettings Parse(JsonElement configuration) =>
        ConfigurationProblems.Parse("national-portal", configuration, Read);

    /// <summary>Whether the connector may send for the agency <paramref name="agencyCode"/> (the envelope's <c>madonvi</c>).</summary>
    public bool MaySendFor(string agencyCode) => AgencyCodes.Count == 0 || AgencyCodes.Contains(agencyCode);

    /// <summary>
    /// Whether the given credentials are this connector's, in time that does not depend on where they differ: both
    /// sides are hashed first, so neither the length nor the content of the secret leaks through timing.
    /// </summary>
    public bool CredentialsMatch(string username, string password)
    {
        var userMatches = CryptographicOperations.FixedTimeEquals(Hash(username), Hash(Username));
        var passwordMatches = CryptographicOperations.FixedTimeEquals(Hash(password), Hash(Password));
        return userMatches & passwordMatches;
    }

    /// <summary>
    /// A fingerprint of the credentials (SHA-256 of user name and password), stored with each session so that a session
    /// ends when the connector's credentials change.
    /// </summary>
    public byte[] CredentialStamp() => SHA256.HashData(Encoding.UTF8.GetBytes($"{Username.Length}:{Username}\n{Password}"));

    /// <inheritdoc />
    public override string ToString() =>
        $"NationalPortalSettings {{ Username = {Username}, Password = ***, AgencyCodes = [{string.Join(", ", AgencyCodes.Order(StringComparer.Ordinal))}], SessionLifetime = {SessionLifetime:c} }}";

    private static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));

    private static NationalPortalSettings? Read(JsonElement root, List<string> problems)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"(root): must be a JSON object, not {Describe(root.ValueKind)}");
            return null;
        }

        string[] known = ["username", "password", "madonvi", "sessionLifetime"];
        foreach (var property in root.EnumerateObject())
        {
            if (!known.Contains(property.Name, StringComparer.Ordinal))
            {
                problems.Add($"{property.Name}: is not a setting of this kind; known settings: {string.Join(", ", known)}");
            }
        }

        var username = Text(root, "username", MaxUsernameLength, problems);
        var password = Text(root, "password", MaxPasswordLength, problems);
        var agencies = AgencyCodeSet(root, problems);
        var lifetime = Lifetime(root, problems);
        return username is null || password is null || agencies is null || lifetime is null
            ? null
            : new NationalPortalSettings(username, password, agencies, lifetime.Value);
    }

    /// <summary>A required string setting of at most <paramref name="maxLength"/> characters; null with a problem otherwise.</summary>
    internal static string? Text(JsonElement root, string name, int maxLength, List<string> problems)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            problems.Add($"{name}: is required");
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            problems.Add($"{name}: must be a string, not {Describe(value.ValueKind)}");
            return null;
        }

        var text = value.GetString()!;
        if (text.Length == 0)
        {
            problems.Add($"{name}: must not be empty");
            return null;
        }

        if (text.Length > maxLength)
        {
            problems.Add($"{name}: must be at most {maxLength} characters long");
            return null;
        }

        return text;
    }

    private static HashSet<string>? AgencyCodeSet(JsonElement root, List<string> problems)
    {
        var codes = new HashSet<string>(StringComparer.Ordinal);
        if (!root.TryGetProperty("madonvi", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return codes;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"madonvi: must be an array of agency codes, not {Describe(value.ValueKind)}");
            return null;
        }

        var ok = true;
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var code = item.ValueKind == JsonValueKind.String ? item.GetString()! : null;
            if (code is null)
            {
                problems.Add($"madonvi[{index}]: must be a string, not {Describe(item.ValueKind)}");
                ok = false;
            }
            else if (code.Length == 0 || code.Length > MaxAgencyCodeLength || code.Trim().Length != code.Length)
            {
                problems.Add($"madonvi[{index}]: must be an agency code of 1 to {MaxAgencyCodeLength} characters without surrounding spaces");
                ok = false;
            }
            else if (!codes.Add(code))
            {
                problems.Add($"madonvi[{index}]: '{code}' is listed twice");
                ok = false;
            }

            index++;
        }

        return ok ? codes : null;
    }

    private static TimeSpan? Lifetime(JsonElement root, List<string> problems)
    {
        if (!root.TryGetProperty("sessionLifetime", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return DefaultSessionLifetime;
        }

        if (value.ValueKind == JsonValueKind.String
            && TimeSpan.TryParseExact(value.GetString(), "c", CultureInfo.InvariantCulture, out var lifetime)
            && lifetime >= MinSessionLifetime
            && lifetime <= MaxSessionLifetime)
        {
            return lifetime;
        }

        problems.Add($"sessionLifetime: must be a duration 'hh:mm:ss' (or 'd.hh:mm:ss') between {MinSessionLifetime:c} and {MaxSessionLifetime:c}");
        return null;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
