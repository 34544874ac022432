using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors;
using Microsoft.AspNetCore.DataProtection;

namespace Hub.Core.Sync;

/// <summary>
/// Encrypts the secret settings of connector configurations for the <c>connector</c> table and decrypts them when a
/// registration is loaded (docs/decisions/0008). A kind declares its secrets in its configuration schema with
/// <c>"x-secret": true</c> (on a property, or on <c>additionalProperties</c> for every value of a map). Stored, each secret
/// string becomes <c>{"$protected": "&lt;Data Protection payload&gt;"}</c>, encrypted with a purpose naming the connector and
/// the setting's JSON pointer, so a value copied to another connector or another setting does not decrypt.
/// </summary>
public sealed class ConnectorSecrets
{
    /// <summary>The member of the object that stands for an encrypted secret in a stored configuration.</summary>
    public const string ProtectedMember = "$protected";

    private const string Purpose = "Hub.Core.Sync.ConnectorSecrets.v1";

    private readonly IDataProtectionProvider _protection;
    private readonly Dictionary<string, IConnectorKind> _kinds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<string[]>> _paths = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <param name="protection">Data Protection over the hub's key ring (<see cref="Secrets.HubDataProtection"/>).</param>
    /// <param name="kinds">The kinds whose schemas say which settings are secrets.</param>
    public ConnectorSecrets(IDataProtectionProvider protection, IEnumerable<IConnectorKind> kinds)
    {
        ArgumentNullException.ThrowIfNull(kinds);
        _protection = protection ?? throw new ArgumentNullException(nameof(protection));
        foreach (var kind in kinds)
        {
            _kinds[kind.Name] = kind;
        }
    }

    /// <summary>
    /// The JSON pointers of the secret settings of <paramref name="kind"/> as paths of member names; <c>*</c> stands for
    /// every member of a map.
    /// </summary>
    /// <exception cref="InvalidOperationException">The kind is unknown: which of its settings are secrets cannot be told.</exception>
    public IReadOnlyList<string[]> SecretPaths(string kind)
    {
        lock (_lock)
        {
            if (_paths.TryGetValue(kind, out var known))
            {
                return known;
            }

            if (!_kinds.TryGetValue(kind, out var connectorKind))
            {
                throw new InvalidOperationException($"Connector kind '{kind}' is unknown, so which of its settings are secrets cannot be told; nothing is stored.");
            }

            var schema = JsonNode.Parse(connectorKind.ConfigurationSchema) as JsonObject
                ?? throw new InvalidOperationException($"Connector kind '{kind}' has a configuration schema that is not a JSON object.");
            var paths = new List<string[]>();
            Collect(schema, schema, [], paths, depth: 0);
            var distinct = paths.DistinctBy(p => string.Join('/', p)).ToList();
            _paths[kind] = distinct;
            return distinct;
        }
    }

    /// <summary>Whether the kind is known here (its secrets can be told).</summary>
    public bool Knows(string kind) => _kinds.ContainsKey(kind);

    /// <summary>The configuration as stored: every secret string encrypted; secrets already encrypted are kept as they are.</summary>
    /// <exception cref="InvalidOperationException">The kind is unknown.</exception>
    public string Protect(string connectorId, string kind, JsonElement configuration) =>
        Protect(connectorId, kind, configuration, out _);

    /// <summary>The configuration as stored, and the pointers of the secrets it found in plaintext and encrypted.</summary>
    public string Protect(string connectorId, string kind, JsonElement configuration, out IReadOnlyList<string> encrypted)
    {
        var root = JsonNode.Parse(configuration.GetRawText());
        var found = new List<string>();
        foreach (var path in SecretPaths(kind))
        {
            foreach (var (parent, member, pointer) in Locate(root, path, 0, ""))
            {
                if (parent[member] is JsonValue value && value.GetValueKind() == JsonValueKind.String)
                {
                    parent[member] = new JsonObject { [ProtectedMember] = Protector(connectorId, pointer).Protect(value.GetValue<string>()) };
                    found.Add(pointer);
                }
            }
        }

        encrypted = found;
        return root?.ToJsonString() ?? "null";
    }

    /// <summary>The configuration with every encrypted secret decrypted, as the connector's kind reads it.</summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">A secret does not decrypt (another key ring, a value moved).</exception>
    public JsonElement Unprotect(string connectorId, string storedConfiguration) =>
        JsonSerializer.SerializeToElement(UnprotectNode(connectorId, JsonNode.Parse(storedConfiguration)));

    /// <summary>Whether a stored configuration holds a secret in plaintext (written by a hub before secrets were encrypted).</summary>
    public bool HasPlaintext(string kind, string storedConfiguration)
    {
        var root = JsonNode.Parse(storedConfiguration);
        return SecretPaths(kind).Any(path => Locate(root, path, 0, "").Any(l => l.Parent[l.Member] is JsonValue v && v.GetValueKind() == JsonValueKind.String));
    }

    private JsonNode? UnprotectNode(string connectorId, JsonNode? root)
    {
        void Walk(JsonNode? node, string pointer)
        {
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (name, child) in obj.ToList())
                    {
                        var childPointer = pointer + "/" + Escape(name);
                        if (child is JsonObject { Count: 1 } envelope && envelope[ProtectedMember] is JsonValue payload && payload.GetValueKind() == JsonValueKind.String)
                        {
                            obj[name] = Protector(connectorId, childPointer).Unprotect(payload.GetValue<string>());
                        }
                        else
                        {
                            Walk(child, childPointer);
                        }
                    }

                    break;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                    {
                        Walk(array[i], pointer + "/" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }

                    break;
            }
        }

        Walk(root, "");
        return root;
    }

    private IDataProtector Protector(string connectorId, string pointer) => _protection.CreateProtector(Purpose, connectorId, pointer);

    /// <summary>The members at a path: (the object holding it, its name, its JSON pointer).</summary>
    private static IEnumerable<(JsonObject Parent, string Member, string Pointer)> Locate(JsonNode? node, string[] path, int index, string pointer)
    {
        if (node is not JsonObject obj)
        {
            yield break;
        }

        var names = path[index] == "*" ? obj.Select(p => p.Key).ToList() : obj.ContainsKey(path[index]) ? [path[index]] : [];
        foreach (var name in names)
        {
            var childPointer = pointer + "/" + Escape(name);
            if (index == path.Length - 1)
            {
                yield return (obj, name, childPointer);
            }
            else
            {
                foreach (var found in Locate(obj[name], path, index + 1, childPointer))
                {
                    yield return found;
                }
            }
        }
    }

    /// <summary>RFC 6901 escaping of a member name in a JSON pointer.</summary>
    private static string Escape(string name) => name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    /// <summary>Walks a schema through properties, local <c>$ref</c>s and <c>oneOf</c>/<c>anyOf</c>/<c>allOf</c>, collecting the paths marked secret.</summary>
    private static void Collect(JsonObject root, JsonNode? node, string[] path, List<string[]> paths, int depth)
    {
        if (node is not JsonObject schema || depth > 32)
        {
            return;
        }

        if (schema["$ref"] is JsonValue reference && reference.GetValue<string>() is { } target && target.StartsWith("#/", StringComparison.Ordinal))
        {
            JsonNode? resolved = root;
            foreach (var part in target[2..].Split('/'))
            {
                resolved = resolved?[part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)];
            }

            Collect(root, resolved, path, paths, depth + 1);
        }

        if (path.Length > 0 && schema["x-secret"] is JsonValue secret && secret.GetValueKind() == JsonValueKind.True)
        {
            paths.Add(path);
        }

        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, property) in properties)
            {
                Collect(root, property, [.. path, name], paths, depth + 1);
            }
        }

        if (schema["additionalProperties"] is JsonObject additional)
        {
            Collect(root, additional, [.. path, "*"], paths, depth + 1);
        }

        foreach (var keyword in new[] { "oneOf", "anyOf", "allOf" })
        {
            if (schema[keyword] is JsonArray alternatives)
            {
                foreach (var alternative in alternatives)
                {
                    Collect(root, alternative, path, paths, depth + 1);
                }
            }
        }
    }
}
