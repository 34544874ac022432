using System.Collections.Frozen;

namespace Hub.Core.Mapping;

/// <summary>How a canonical field's text is converted.</summary>
internal enum FieldType
{
    Text,
    Date,
    Integer,
    Status,
    ApplicantType,
    Channel,
    Boolean,
}

/// <summary>The mappable fields of <c>DossierChange</c>: every property except SourceSystem and MappingVersion, which the mapper sets.</summary>
internal enum DossierField
{
    NativeId,
    DossierCode,
    EventTime,
    SourceVersion,
    ProcedureCode,
    ProcedureBaseCode,
    ProcedureName,
    SectorCode,
    AgencyCode,
    HandlingUnit,
    ApplicantType,
    Channel,
    PaidOnline,
    SubmittedAt,
    ReceivedAt,
    DueAt,
    ProcessingFinishedAt,
    ResultReturnedAt,
    RefusedAt,
    Status,
    SourceStatus,
}

/// <summary>The mappable fields of <c>DossierStep</c>: every property except SourceSystem, which the mapper sets.</summary>
internal enum StepField
{
    NativeId,
    StepTime,
    Officer,
    OfficerTitle,
    Department,
    Action,
    StatusAfter,
    StartedAt,
    Deadline,
}

/// <summary>The canonical fields of one section of a mapping definition: names, types and which are required.</summary>
internal sealed class FieldSet
{
    private FieldSet(string section, string[] names, FieldType[] types, int[] required)
    {
        Section = section;
        Names = names;
        Types = types;
        Required = required;
        Index = names.Select((name, i) => (name, i)).ToFrozenDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
    }

    /// <summary>The dossier fields (<c>MappingDefinition.Dossier</c>).</summary>
    public static FieldSet Dossier { get; } = new(
        "Dossier",
        Enum.GetNames<DossierField>(),
        [.. Enum.GetValues<DossierField>().Select(TypeOf)],
        [(int)DossierField.DossierCode, (int)DossierField.EventTime, (int)DossierField.Status]);

    /// <summary>The step fields (<c>MappingDefinition.Steps.Fields</c>).</summary>
    public static FieldSet Step { get; } = new(
        "Steps.Fields",
        Enum.GetNames<StepField>(),
        [.. Enum.GetValues<StepField>().Select(TypeOf)],
        [(int)StepField.StepTime]);

    /// <summary>Where the section is in a definition, for messages.</summary>
    public string Section { get; }

    /// <summary>Field names by index.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Field types by index.</summary>
    public IReadOnlyList<FieldType> Types { get; }

    /// <summary>Indexes of the fields that must be mapped.</summary>
    public IReadOnlyList<int> Required { get; }

    /// <summary>Field index by exact name.</summary>
    public FrozenDictionary<string, int> Index { get; }

    private static FieldType TypeOf(DossierField field) => field switch
    {
        DossierField.EventTime or DossierField.SubmittedAt or DossierField.ReceivedAt or DossierField.DueAt
            or DossierField.ProcessingFinishedAt or DossierField.ResultReturnedAt or DossierField.RefusedAt => FieldType.Date,
        DossierField.SourceVersion => FieldType.Integer,
        DossierField.Status => FieldType.Status,
        DossierField.ApplicantType => FieldType.ApplicantType,
        DossierField.Channel => FieldType.Channel,
        DossierField.PaidOnline => FieldType.Boolean,
        _ => FieldType.Text,
    };

    private static FieldType TypeOf(StepField field) => field switch
    {
        StepField.StepTime or StepField.StartedAt or StepField.Deadline => FieldType.Date,
        StepField.StatusAfter => FieldType.Status,
        _ => FieldType.Text,
    };
}
