using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Hub.Cli;

/// <summary>A connector registration read from a JSON file, or a YAML file (.yaml, .yml) with the same structure.</summary>
public static class ConnectorFile
{
    /// <summary>The registration as JSON, or why the file cannot be read.</summary>
    public static (string? Json, string? Problem) Read(string path)
    {
        if (!File.Exists(path))
        {
            return (null, $"file '{path}' does not exist");
        }

        var text = File.ReadAllText(path);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is ".yaml" or ".yml")
        {
            try
            {
                // Unquoted scalars keep their YAML type (numbers, booleans), as the JSON form would have them.
                var value = new DeserializerBuilder().WithAttemptingUnquotedStringTypeDeserialization().Build().Deserialize<object?>(text);
                return (JsonSerializer.Serialize(Normalise(value)), null);
            }
            catch (YamlException e)
            {
                return (null, $"file '{path}' is not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.InnerException?.Message ?? e.Message}");
            }
        }

        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return (document.RootElement.GetRawText(), null);
        }
        catch (JsonException e)
        {
            return (null, $"file '{path}' is not valid JSON at line {e.LineNumber + 1}, position {e.BytePositionInLine + 1}: {e.Message}");
        }
    }

    private static object? Normalise(object? value) => value switch
    {
        IDictionary<object, object?> map => map.ToDictionary(e => Convert.ToString(e.Key, System.Globalization.CultureInfo.InvariantCulture)!, e => Normalise(e.Value)),
        IList<object?> list => list.Select(Normalise).ToList(),
        _ => value,
    };
}
