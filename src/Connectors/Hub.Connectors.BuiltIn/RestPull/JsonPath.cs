using System.Text.Json;

namespace Hub.Connectors.BuiltIn.RestPull;

/// <summary>
/// A dotted path into a JSON reply (<c>content</c>, <c>data.items</c>, <c>result.0.session</c>); an empty path or
/// <c>$</c> is the reply itself. Numeric segments index arrays.
/// </summary>
internal sealed class JsonPath
{
    private readonly string[] _segments;

    private JsonPath(string text, string[] segments)
    {
        Text = text;
        _segments = segments;
    }

    /// <summary>The path as configured.</summary>
    public string Text { get; }

    public static bool TryParse(string text, out JsonPath path)
    {
        var trimmed = text.Trim();
        if (trimmed is "" or "$")
        {
            path = new JsonPath(trimmed, []);
            return true;
        }

        if (trimmed.StartsWith("$.", StringComparison.Ordinal))
        {
            trimmed = trimmed[2..];
        }

        var segments = trimmed.Split('.');
        path = new JsonPath(text, segments);
        return segments.All(s => s.Length > 0);
    }

    public bool TryResolve(JsonElement root, out JsonElement value)
    {
        value = root;
        foreach (var segment in _segments)
        {
            if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty(segment, out var child))
            {
                value = child;
            }
            else if (value.ValueKind == JsonValueKind.Array
                && int.TryParse(segment, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
                && index < value.GetArrayLength())
            {
                value = value[index];
            }
            else
            {
                value = default;
                return false;
            }
        }

        return true;
    }

    public override string ToString() => Text;
}
