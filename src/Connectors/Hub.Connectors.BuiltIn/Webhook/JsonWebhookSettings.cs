using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Hub.Connectors.BuiltIn.Webhook;

/// <summary>A json-webhook connector's configuration, read and checked. See <c>json-webhook.schema.json</c> for its JSON form.</summary>
/// <param name="Secret">The HMAC key: the decoded bytes of the base64 <c>secret</c>.</param>
/// <param name="PreviousSecret">The key still accepted while senders move to <paramref name="Secret"/>; <c>null</c> outside a rotation.</param>
/// <param name="SignatureHeader">The header that carries <c>sha256=&lt;hex&gt;</c>.</param>
/// <param name="TimestampHeader">The header that carries the signing time in Unix seconds.</param>
/// <param name="Tolerance">How far the signing time may be from the hub's clock, either way.</param>
/// <param name="MaxBodyBytes">The largest body accepted.</param>
internal sealed partial record JsonWebhookSettings(
    byte[] Secret,
    byte[]? PreviousSecret,
    string SignatureHeader,
    string TimestampHeader,
    TimeSpan Tolerance,
    int MaxBodyBytes)
{
    public const string DefaultSignatureHeader = "X-Hub-Signature";
    public const string DefaultTimestampHeader = "X-Hub-Timestamp";
    public const int DefaultMaxBodyBytes = 10 * 1024 * 1024;
    public const int MinMaxBodyBytes = 1024;
    public const int MaxMaxBodyBytes = 100 * 1024 * 1024;

    /// <summary>An HMAC-SHA256 key shorter than the hash output weakens it (RFC 2104, section 3): at least 32 bytes.</summary>
    public const int MinSecretBytes = 32;

    /// <summary>
    /// 32 random bytes have about 30 distinct values; fewer than 16 means a key typed or derived from a word, not
    /// drawn from a random generator (the chance for a random key is below 10^-12).
    /// </summary>
    public const int MinDistinctSecretBytes = 16;

    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MinTolerance = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan MaxTolerance = TimeSpan.FromHours(1);

    private static readonly string[] Known = ["secret", "previousSecret", "signatureHeader", "timestampHeader", "tolerance", "maxBodyBytes"];

    /// <summary>Reads a configuration, or throws a <see cref="ConnectorException"/> that lists every problem found.</summary>
    /// <remarks>Messages name the setting and the rule it breaks, never the value: two settings are secrets.</remarks>
    public static JsonWebhookSettings Parse(JsonElement configuration) =>
        ConfigurationProblems.Parse("json-webhook", configuration, Read);

    public override string ToString() =>
        $"JsonWebhookSettings {{ Secret = ***, PreviousSecret = {(PreviousSecret is null ? "none" : "***")}, SignatureHeader = {SignatureHeader}, "
        + $"TimestampHeader = {TimestampHeader}, Tolerance = {Tolerance:c}, MaxBodyBytes = {MaxBodyBytes} }}";

    private static JsonWebhookSettings? Read(JsonElement root, List<string> problems)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"(root): must be a JSON object, not {Describe(root.ValueKind)}");
            return null;
        }

        foreach (var property in root.EnumerateObject())
        {
            if (!Known.Contains(property.Name, StringComparer.Ordinal))
            {
                problems.Add($"{property.Name}: is not a setting here (expected one of: {string.Join(", ", Known)})");
            }
        }

        var secret = Key(root, "secret", required: true, problems);
        var previous = Key(root, "previousSecret", required: false, problems);
        if (secret is not null && previous is not null && secret.AsSpan().SequenceEqual(previous))
        {
            problems.Add("previousSecret: must differ from secret (remove it once every sender uses the new secret)");
        }

        var signatureHeader = HeaderName(root, "signatureHeader", DefaultSignatureHeader, problems);
        var timestampHeader = HeaderName(root, "timestampHeader", DefaultTimestampHeader, problems);
        if (signatureHeader is not null && timestampHeader is not null
            && string.Equals(signatureHeader, timestampHeader, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add("timestampHeader: must differ from signatureHeader");
        }

        var tolerance = DefaultTolerance;
        if (String(root, "tolerance", problems) is { } toleranceText
            && (!TimeSpan.TryParseExact(toleranceText, "c", CultureInfo.InvariantCulture, out tolerance) || tolerance < MinTolerance || tolerance > MaxTolerance))
        {
            problems.Add($"tolerance: must be a duration 'hh:mm:ss' from {MinTolerance:c} to {MaxTolerance:c}");
        }

        var maxBodyBytes = DefaultMaxBodyBytes;
        if (Present(root, "maxBodyBytes", out var max)
            && (max.ValueKind != JsonValueKind.Number || !max.TryGetInt32(out maxBodyBytes) || maxBodyBytes < MinMaxBodyBytes || maxBodyBytes > MaxMaxBodyBytes))
        {
            problems.Add($"maxBodyBytes: must be a whole number of bytes from {MinMaxBodyBytes} to {MaxMaxBodyBytes}");
        }

        return secret is null || signatureHeader is null || timestampHeader is null || problems.Count > 0
            ? null
            : new JsonWebhookSettings(secret, previous, signatureHeader, timestampHeader, tolerance, maxBodyBytes);
    }

    internal static byte[]? Key(JsonElement root, string name, bool required, List<string> problems)
    {
        if (!Present(root, name, out _))
        {
            if (required)
            {
                problems.Add($"{name}: is required (generate one with: openssl rand -base64 32)");
            }

            return null;
        }

        if (String(root, name, problems) is not { } text)
        {
            return null;
        }

        var bytes = new byte[text.Length];
        if (!Convert.TryFromBase64String(text.Trim(), bytes, out var length))
        {
            problems.Add($"{name}: must be base64 (standard alphabet, with padding), such as the output of: openssl rand -base64 32");
            return null;
        }

        var key = bytes[..length];
        if (key.Length < MinSecretBytes)
        {
            problems.Add($"{name}: must decode to at least {MinSecretBytes} bytes (it decodes to {key.Length})");
            return null;
        }

        if (key.Distinct().Count() < MinDistinctSecretBytes)
        {
            problems.Add($"{name}: does not look random (too few distinct byte values); generate it with: openssl rand -base64 32");
            return null;
        }

        return key;
    }

    internal static string? HeaderName(JsonElement root, string name, string fallback, List<string> problems)
    {
        if (!Present(root, name, out _))
        {
            return fallback;
        }

        var text = String(root, name, problems);
        if (text is not null && !Token().IsMatch(text))
        {
            problems.Add($"{name}: must be an HTTP header name (letters, digits and -)");
            return null;
        }

        return text;
    }

    /// <summary>A present, non-empty string setting; <c>null</c> (with a problem when present but wrong) otherwise.</summary>
    internal static string? String(JsonElement root, string name, List<string> problems)
    {
        if (!Present(root, name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            problems.Add($"{name}: must be a string, not {Describe(value.ValueKind)}");
            return null;
        }

        var text = value.GetString()!;
        if (string.IsNullOrWhiteSpace(text))
        {
            problems.Add($"{name}: must not be empty");
            return null;
        }

        return text;
    }

    internal static bool Present(JsonElement root, string name, out JsonElement value) =>
        root.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    internal static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    /// <summary>An HTTP token (RFC 9110, section 5.6.2): what a header name may be made of.</summary>
    [GeneratedRegex(@"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$", RegexOptions.CultureInvariant)]
    private static partial Regex Token();
}
