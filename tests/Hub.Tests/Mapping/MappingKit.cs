using System.Globalization;
using System.Text.Json;
using Hub.Connectors;
using Hub.Connectors.Mapping;
using Hub.Core.Mapping;

namespace Hub.Tests.Mapping;

/// <summary>Builders for mapping tests: definitions and records from JSON, samples from the output folder.</summary>
internal static class MappingKit
{
    public const string SourceSystem = "test-source";

    /// <summary>The options mapping definitions are stored with: camelCase web defaults.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static MappingDefinition Definition(string json) =>
        JsonSerializer.Deserialize<MappingDefinition>(json, Json) ?? throw new InvalidOperationException("null definition");

    public static RecordMapper Compile(string definitionJson) => RecordMapper.Compile(Definition(definitionJson));

    public static JsonElement Element(string json) => JsonSerializer.Deserialize<JsonElement>(json);

    public static RawRecord Dossier(string json) => new(RawRecordKind.Dossier, Element(json));

    public static RawRecord Step(string json) => new(RawRecordKind.Step, Element(json));

    public static string Sample(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Mapping", "Samples", name));

    public static DateTimeOffset Time(string roundTrip) => DateTimeOffset.Parse(roundTrip, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    /// <summary>Instant and offset, so that a test sees a wrong zone even when the instant is right.</summary>
    public static string Exact(DateTimeOffset? value) => value?.ToString("o", CultureInfo.InvariantCulture) ?? "null";

    /// <summary>Everything a mapped record exposes, as text: every canonical property and the reason.</summary>
    public static string AllText(MappedRecord mapped) =>
        string.Join("\n", [mapped.Change?.ToString(), .. mapped.Steps.Select(s => s.ToString()), mapped.QuarantineReason]);

    public static MappedRecord Mapped(this RecordMapper mapper, RawRecord record) => mapper.Map(record, SourceSystem);
}
