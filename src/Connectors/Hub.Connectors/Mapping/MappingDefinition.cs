using System.Text.Json.Serialization;

namespace Hub.Connectors.Mapping;

/// <summary>
/// How a connector's raw records become canonical changes: field paths, the status-code table, date formats and
/// time zone, procedure base-code extraction and the mapping's version. Declarative, so that a provincial IT team
/// can connect a vendor API whose names, dates and codes differ from the canonical ones without writing code.
/// </summary>
/// <remarks>
/// In JSON (property names in camelCase), a field is either a path string or an object:
/// <code>
/// {
///   "version": "vnpt-h56/3",
///   "timeZone": "+07:00",
///   "dateFormats": ["yyyy-MM-dd'T'HH:mm:ss.fffzzz"],
///   "statusCodes": { "0": 1, "1": 2, "2": 4 },
///   "dossier": {
///     "NativeId": "id", "DossierCode": "code", "EventTime": "updatedDate", "Status": "dossierStatus.id",
///     "ProcedureName": "procedure.translate[0].name",
///     "Channel": { "path": "applyMethod.id", "values": { "0": "2", "1": "1" } }
///   },
///   "steps": { "itemsPath": "tasks", "fields": { "StepTime": { "path": "endDate", "dateFormats": ["yyyy-MM-dd HH:mm:ss"] } } }
/// }
/// </code>
/// Paths are dot-separated property names with optional <c>[n]</c> indexes. Inside <see cref="Steps"/> with an
/// <see cref="StepMapping.ItemsPath"/>, paths are relative to the step item, and a path starting with <c>$.</c> is
/// relative to the dossier record that holds it.
/// </remarks>
public sealed record MappingDefinition
{
    /// <summary>The mapping's version, stored with every change it produced (for example <c>vnpt-h56/3</c>). Change it with every edit.</summary>
    public required string Version { get; init; }

    /// <summary>The UTC offset (<c>+07:00</c>) or IANA time zone (<c>Asia/Ho_Chi_Minh</c>) of dates that carry no zone. Default Vietnam time.</summary>
    public string TimeZone { get; init; } = "+07:00";

    /// <summary>
    /// .NET exact date formats tried in order for every date field that names none of its own. Empty: ISO 8601
    /// (with or without zone) and the national portal's <c>yyyyMMddHHmmss</c>.
    /// </summary>
    public IReadOnlyList<string> DateFormats { get; init; } = [];

    /// <summary>
    /// The source's status codes and the national status (1-10) each means. A code missing here quarantines the
    /// record with reason <c>unmapped code X</c>, so new codes are seen instead of silently dropped.
    /// </summary>
    public required IReadOnlyDictionary<string, int> StatusCodes { get; init; }

    /// <summary>
    /// A regular expression whose first group extracts the national base code from the procedure code. Default:
    /// the first two dot-separated groups (<c>1.003560.000.00.00.H56</c> → <c>1.003560</c>).
    /// </summary>
    public string? ProcedureBaseCodePattern { get; init; }

    /// <summary>
    /// Canonical <c>DossierChange</c> property name → where its value is. <c>NativeId</c>, <c>DossierCode</c>,
    /// <c>EventTime</c> and <c>Status</c> are required; <c>NativeId</c> defaults to <c>DossierCode</c>'s value when not
    /// mapped (sources such as the national portal protocol know only the dossier code).
    /// </summary>
    public required IReadOnlyDictionary<string, FieldMapping> Dossier { get; init; }

    /// <summary>How processing steps are read, if the source sends them.</summary>
    public StepMapping? Steps { get; init; }
}

/// <summary>How processing steps are read.</summary>
public sealed record StepMapping
{
    /// <summary>
    /// The path of the steps array inside a dossier record (for example <c>tasks</c>); <c>null</c> when steps come as
    /// records of their own (<see cref="RawRecordKind.Step"/>).
    /// </summary>
    public string? ItemsPath { get; init; }

    /// <summary>
    /// Canonical <c>DossierStep</c> property name → where its value is. <c>StepTime</c> is required; <c>NativeId</c>
    /// defaults to the holding dossier's native id for nested steps.
    /// </summary>
    public required IReadOnlyDictionary<string, FieldMapping> Fields { get; init; }
}

/// <summary>Where one canonical field's value comes from, and how it is read.</summary>
[JsonConverter(typeof(FieldMappingJsonConverter))]
public sealed record FieldMapping
{
    /// <summary>The value's path in the record. Either this or <see cref="Constant"/>.</summary>
    public string? Path { get; init; }

    /// <summary>A fixed value, for fields the source does not send (for example the agency code of a one-agency system).</summary>
    public string? Constant { get; init; }

    /// <summary>Date formats for this field only, tried in order before failing.</summary>
    public IReadOnlyList<string>? DateFormats { get; init; }

    /// <summary>Time zone for this field only, when it differs from the mapping's.</summary>
    public string? TimeZone { get; init; }

    /// <summary>A translation table from source values to canonical ones (for enum fields such as <c>Channel</c>).</summary>
    public IReadOnlyDictionary<string, string>? Values { get; init; }

    /// <summary>A field read from a path.</summary>
    public static implicit operator FieldMapping(string path) => new() { Path = path };

    /// <summary>A field read from a path.</summary>
    public static FieldMapping FromPath(string path) => new() { Path = path };
}
