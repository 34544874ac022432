using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hub.Connectors.Mapping;

/// <summary>Reads a field mapping given as a bare path string or as an object; writes the short form when it can.</summary>
public sealed class FieldMappingJsonConverter : JsonConverter<FieldMapping>
{
    /// <inheritdoc/>
    public override FieldMapping Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return new FieldMapping { Path = reader.GetString() };
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A field mapping is a path string or an object with 'path' or 'constant'.");
        }

        string? path = null, constant = null, timeZone = null;
        List<string>? formats = null;
        Dictionary<string, string>? values = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name?.ToLowerInvariant())
            {
                case "path": path = reader.GetString(); break;
                case "constant": constant = reader.TokenType == JsonTokenType.String ? reader.GetString() : JsonElementText(ref reader); break;
                case "timezone": timeZone = reader.GetString(); break;
                case "dateformats": formats = JsonSerializer.Deserialize<List<string>>(ref reader, options); break;
                case "values": values = JsonSerializer.Deserialize<Dictionary<string, string>>(ref reader, options); break;
                default: throw new JsonException($"Unknown property '{name}' in a field mapping; expected path, constant, dateFormats, timeZone or values.");
            }
        }

        return new FieldMapping { Path = path, Constant = constant, TimeZone = timeZone, DateFormats = formats, Values = values };
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, FieldMapping value, JsonSerializerOptions options)
    {
        if (value.Path is not null && value.Constant is null && value.DateFormats is null && value.TimeZone is null && value.Values is null)
        {
            writer.WriteStringValue(value.Path);
            return;
        }

        writer.WriteStartObject();
        if (value.Path is not null)
        {
            writer.WriteString("path", value.Path);
        }

        if (value.Constant is not null)
        {
            writer.WriteString("constant", value.Constant);
        }

        if (value.TimeZone is not null)
        {
            writer.WriteString("timeZone", value.TimeZone);
        }

        if (value.DateFormats is not null)
        {
            writer.WritePropertyName("dateFormats");
            JsonSerializer.Serialize(writer, value.DateFormats, options);
        }

        if (value.Values is not null)
        {
            writer.WritePropertyName("values");
            JsonSerializer.Serialize(writer, value.Values, options);
        }

        writer.WriteEndObject();
    }

    private static string JsonElementText(ref Utf8JsonReader reader)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return document.RootElement.GetRawText();
    }
}
