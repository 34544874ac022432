using System.Text.Json;

namespace Hub.Connectors;

/// <summary>
/// A record as it left the source, before mapping. The mapping stage turns it into canonical changes using the
/// connector's <see cref="Mapping.MappingDefinition"/>; a record that cannot be mapped is quarantined with its payload.
/// </summary>
/// <param name="Kind">Whether the record is a dossier header (which may carry its steps) or a processing step of its own.</param>
/// <param name="Payload">The record's JSON, as the source sent it.</param>
public sealed record RawRecord(RawRecordKind Kind, JsonElement Payload);

/// <summary>What a raw record describes.</summary>
public enum RawRecordKind
{
    /// <summary>A dossier header (for example <c>DongBoHoSoMC</c> data), possibly with nested processing steps.</summary>
    Dossier,

    /// <summary>One processing step (for example <c>CapNhatTienDoHoSoMC</c> data).</summary>
    Step,
}
