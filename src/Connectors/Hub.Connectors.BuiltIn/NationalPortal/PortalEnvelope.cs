using System.Text.Json;

namespace Hub.Connectors.BuiltIn.NationalPortal;

/// <summary>
/// A sync post of the national portal protocol, read but not yet authenticated or checked against a connector:
/// <c>{session, madonvi, service, isUpdating?, data: [...]}</c>.
/// </summary>
/// <param name="Session">The session token from the login; <c>null</c> when the post has none.</param>
/// <param name="AgencyCode">The envelope's <c>madonvi</c>: the agency the rows are sent for.</param>
/// <param name="Service">The service named by the post (or by the path it was sent to).</param>
/// <param name="IsUpdating">The <c>isUpdating</c> flag: <c>true</c> to update, <c>false</c> (also when absent) to insert.</param>
/// <param name="Rows">The <c>data</c> rows, as sent.</param>
public sealed record PortalEnvelope(string? Session, string AgencyCode, string Service, bool IsUpdating, IReadOnlyList<JsonElement> Rows)
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    /// <summary>
    /// Reads a post's body. <paramref name="pathService"/> is the service named by the path (<c>/portal/{service}</c>),
    /// or <c>null</c> for <c>/portal/sync</c>; when both name one, they must agree.
    /// </summary>
    /// <returns>The envelope, or the problems found (every one, naming the field), never quoting row contents.</returns>
    public static PortalEnvelope? Read(ReadOnlyMemory<byte> body, string? pathService, out IReadOnlyList<string> problems)
    {
        var found = new List<string>();
        problems = found;
        if (body.IsEmpty)
        {
            found.Add("the body is empty; a sync post is a JSON object {session, madonvi, service, isUpdating, data}");
            return null;
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body, DocumentOptions);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line && !e.Message.Contains("LineNumber", StringComparison.Ordinal)
                ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})"
                : "";
            found.Add($"the body is not valid JSON: {e.Message.TrimEnd('.')}{where}");
            return null;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            found.Add($"the body is {Describe(root.ValueKind)}, not a JSON object {{session, madonvi, service, isUpdating, data}}");
            return null;
        }

        var session = OptionalString(root, "session", found);
        var agency = OptionalString(root, "madonvi", found);
        if (agency is null && !found.Any(p => p.StartsWith("madonvi", StringComparison.Ordinal)))
        {
            found.Add("madonvi is missing: every post names the agency (mã định danh) its rows are sent for");
        }

        var service = OptionalString(root, "service", found);
        if (service is null && pathService is not null)
        {
            service = pathService;
        }
        else if (service is not null && pathService is not null && !string.Equals(service, pathService, StringComparison.Ordinal))
        {
            found.Add($"service '{service}' in the body differs from '{pathService}' in the path");
        }
        else if (service is null && !found.Any(p => p.StartsWith("service", StringComparison.Ordinal)))
        {
            found.Add($"service is missing: name one of {string.Join(", ", PortalProtocol.Services)}");
        }

        var isUpdating = IsUpdatingFlag(root, found);
        var rows = ReadRows(root, found);
        if (found.Count > 0)
        {
            return null;
        }

        return new PortalEnvelope(session, agency!, service!, isUpdating, rows!);
    }

    private static string? OptionalString(JsonElement root, string name, List<string> problems)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            problems.Add($"{name} is {Describe(value.ValueKind)}, not a string");
            return null;
        }

        var text = value.GetString()!.Trim();
        return text.Length == 0 ? null : text;
    }

    private static bool IsUpdatingFlag(JsonElement root, List<string> problems)
    {
        if (!root.TryGetProperty("isUpdating", out var value))
        {
            return false;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False or JsonValueKind.Null:
                return false;
            case JsonValueKind.String when value.GetString()!.Trim() is { } text:
                if (text.Equals("True", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }

                if (text.Length == 0 || text.Equals("False", StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }

                break;
            default:
                break;
        }

        problems.Add("isUpdating must be \"True\" or \"False\"");
        return false;
    }

    private static List<JsonElement>? ReadRows(JsonElement root, List<string> problems)
    {
        if (!root.TryGetProperty("data", out var data) || data.ValueKind == JsonValueKind.Null)
        {
            problems.Add("data is missing: it is the array of rows to sync");
            return null;
        }

        if (data.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"data is {Describe(data.ValueKind)}, not an array of rows");
            return null;
        }

        return [.. data.EnumerateArray()];
    }

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
}
