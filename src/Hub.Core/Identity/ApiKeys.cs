using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Hub.Core.Identity;

/// <summary>
/// The form of the hub's API keys: <c>hub_&lt;key id&gt;_&lt;secret&gt;</c>, with a 12-character id to find the key by and
/// 256 random bits of secret (base64url). Only the SHA-256 of the whole key is stored; the key is shown once.
/// </summary>
public static partial class ApiKeys
{
    /// <summary>What every key starts with, so that a leaked key is recognisable (secret scanners, logs).</summary>
    public const string Prefix = "hub_";

    /// <summary>The id of the key configured for the bootstrap admin, which may have any form.</summary>
    public const string BootstrapKeyId = "bootstrap";

    /// <summary>The shortest bootstrap key accepted from configuration, in characters.</summary>
    public const int MinBootstrapKeyLength = 32;

    private const string IdAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";

    /// <summary>A new key: its id and the whole key to show once.</summary>
    public static (string Id, string Key) Create()
    {
        var id = RandomNumberGenerator.GetString(IdAlphabet, 12);
        var secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        return (id, $"{Prefix}{id}_{secret}");
    }

    /// <summary>The id of a key in the hub's form, or <c>null</c> when it is not in that form.</summary>
    public static string? IdOf(string key)
    {
        var match = KeyForm().Match(key);
        return match.Success ? match.Groups["id"].Value : null;
    }

    /// <summary>What is stored of a key.</summary>
    public static byte[] Hash(string key) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key));

    [GeneratedRegex("^hub_(?<id>[a-z0-9]{12})_[A-Za-z0-9_-]{43}$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyForm();
}
