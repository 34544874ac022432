using System.Collections.Frozen;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hub.Connectors;
using Hub.Connectors.Mapping;
using Hub.Contracts;
using Hub.Core.Model;

namespace Hub.Core.Mapping;

/// <summary>
/// The mapping stage: turns a connector's raw records into canonical changes and steps with a compiled
/// <see cref="MappingDefinition"/>. <see cref="Compile"/> checks the definition once and precompiles it (paths, status
/// table, date formats, time zones, regular expression); <see cref="Map"/> is then a pure function of the record:
/// no I/O, no shared mutable state, safe to call from any number of threads.
/// </summary>
/// <remarks>
/// Values are read from the record's JSON: strings trimmed, numbers by their raw text, booleans as <c>true</c> or
/// <c>false</c>. A missing property, JSON null and an empty or whitespace-only string all mean no value. A record that
/// cannot be mapped whole (a required field missing, a value not of its field's type, a status code not in the status
/// table, an object where a single value is expected) is quarantined with a reason naming every problem (at most 10),
/// status codes missing from the table first.
/// </remarks>
public sealed partial class RecordMapper
{
    private const int MaxProblems = 10;

    private readonly CompiledField?[] _dossier;
    private readonly CompiledField?[]? _steps;
    private readonly FieldPath? _itemsPath;
    private readonly FrozenDictionary<string, NationalStatus> _statuses;
    private readonly Regex? _baseCodePattern;
    private readonly int _baseCodeGroup;

    private RecordMapper(
        string version,
        CompiledField?[] dossier,
        CompiledField?[]? steps,
        FieldPath? itemsPath,
        FrozenDictionary<string, NationalStatus> statuses,
        Regex? baseCodePattern,
        int baseCodeGroup)
    {
        Version = version;
        _dossier = dossier;
        _steps = steps;
        _itemsPath = itemsPath;
        _statuses = statuses;
        _baseCodePattern = baseCodePattern;
        _baseCodeGroup = baseCodeGroup;
    }

    /// <summary>The definition's version, stored as <c>MappingVersion</c> with every change the mapper produces.</summary>
    public string Version { get; }

    /// <summary>
    /// Maps one raw record. A <see cref="RawRecordKind.Dossier"/> record gives a <see cref="DossierChange"/> and the
    /// steps nested in it (when the definition's <c>Steps.ItemsPath</c> is set); a <see cref="RawRecordKind.Step"/>
    /// record gives one <see cref="DossierStep"/>. A record that cannot be mapped whole gives a quarantine reason and
    /// nothing else.
    /// </summary>
    /// <param name="record">The raw record.</param>
    /// <param name="sourceSystem">The hub's id of the source system, set on every change and step.</param>
    public MappedRecord Map(RawRecord record, string sourceSystem)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceSystem);
        if (record.Kind is not (RawRecordKind.Dossier or RawRecordKind.Step))
        {
            throw new ArgumentOutOfRangeException(nameof(record), record.Kind, "Unknown raw record kind.");
        }

        var payload = record.Payload;
        if (payload.ValueKind != JsonValueKind.Object)
        {
            return MappedRecord.Quarantined($"the record is {FieldPath.KindName(payload.ValueKind)}, not an object");
        }

        return record.Kind == RawRecordKind.Dossier ? MapDossier(payload, sourceSystem) : MapStepRecord(payload, sourceSystem);
    }

    private MappedRecord MapDossier(JsonElement payload, string sourceSystem)
    {
        var problems = new ProblemList();
        var scope = new Scope(payload, payload, -1, null);

        var code = Read(D(DossierField.DossierCode), scope, required: true, ref problems);
        var nativeIdField = D(DossierField.NativeId);
        var nativeId = nativeIdField is null ? code : Read(nativeIdField, scope, required: true, ref problems);
        var eventTime = Read(D(DossierField.EventTime), scope, required: true, ref problems);
        var status = Read(D(DossierField.Status), scope, required: true, ref problems);
        var sourceVersion = Read(D(DossierField.SourceVersion), scope, required: false, ref problems);
        var procedureCode = Read(D(DossierField.ProcedureCode), scope, required: false, ref problems);
        var baseCodeField = D(DossierField.ProcedureBaseCode);
        var baseCode = baseCodeField is null ? BaseCode(procedureCode.TextOrNull) : Read(baseCodeField, scope, required: false, ref problems).TextOrNull;
        var procedureName = Read(D(DossierField.ProcedureName), scope, required: false, ref problems);
        var sector = Read(D(DossierField.SectorCode), scope, required: false, ref problems);
        var agency = Read(D(DossierField.AgencyCode), scope, required: false, ref problems);
        var unit = Read(D(DossierField.HandlingUnit), scope, required: false, ref problems);
        var applicant = Read(D(DossierField.ApplicantType), scope, required: false, ref problems);
        var channel = Read(D(DossierField.Channel), scope, required: false, ref problems);
        var paidOnline = Read(D(DossierField.PaidOnline), scope, required: false, ref problems);
        var submitted = Read(D(DossierField.SubmittedAt), scope, required: false, ref problems);
        var received = Read(D(DossierField.ReceivedAt), scope, required: false, ref problems);
        var due = Read(D(DossierField.DueAt), scope, required: false, ref problems);
        var finished = Read(D(DossierField.ProcessingFinishedAt), scope, required: false, ref problems);
        var returned = Read(D(DossierField.ResultReturnedAt), scope, required: false, ref problems);
        var refused = Read(D(DossierField.RefusedAt), scope, required: false, ref problems);
        var sourceStatusField = D(DossierField.SourceStatus);
        var sourceStatus = sourceStatusField is null ? status.TextOrNull : Read(sourceStatusField, scope, required: false, ref problems).TextOrNull;

        IReadOnlyList<DossierStep> steps = [];
        if (_itemsPath is not null)
        {
            steps = MapNestedSteps(payload, nativeId.TextOrNull, sourceSystem, ref problems);
        }

        if (problems.Any)
        {
            return problems.Quarantined();
        }

        var change = new DossierChange
        {
            SourceSystem = sourceSystem,
            NativeId = nativeId.Text!,
            DossierCode = code.Text!,
            EventTime = eventTime.Date,
            SourceVersion = sourceVersion.NumberOrNull,
            ProcedureCode = procedureCode.TextOrNull,
            ProcedureBaseCode = baseCode,
            ProcedureName = procedureName.TextOrNull,
            SectorCode = sector.TextOrNull,
            AgencyCode = agency.TextOrNull,
            HandlingUnit = unit.TextOrNull,
            ApplicantType = applicant.HasValue ? (ApplicantType)applicant.Number : null,
            Channel = channel.HasValue ? (Channel)channel.Number : null,
            PaidOnline = paidOnline.FlagOrNull,
            SubmittedAt = submitted.DateOrNull,
            ReceivedAt = received.DateOrNull,
            DueAt = due.DateOrNull,
            ProcessingFinishedAt = finished.DateOrNull,
            ResultReturnedAt = returned.DateOrNull,
            RefusedAt = refused.DateOrNull,
            Status = (NationalStatus)status.Number,
            SourceStatus = sourceStatus,
            MappingVersion = Version,
        };
        return new MappedRecord(change, steps, null);
    }

    private MappedRecord MapStepRecord(JsonElement payload, string sourceSystem)
    {
        if (_steps is null)
        {
            return MappedRecord.Quarantined("the record is a processing step, but the mapping has no Steps section");
        }

        if (_itemsPath is not null)
        {
            return MappedRecord.Quarantined(
                $"the record is a processing step, but the mapping reads steps nested in dossier records (Steps.ItemsPath '{_itemsPath.Text}')");
        }

        var problems = new ProblemList();
        var step = MapStep(new Scope(payload, payload, -1, null), defaultNativeId: null, sourceSystem, ref problems);
        return step is null ? problems.Quarantined() : new MappedRecord(null, [step], null);
    }

    private List<DossierStep> MapNestedSteps(JsonElement payload, string? nativeId, string sourceSystem, ref ProblemList problems)
    {
        var itemsPath = _itemsPath!;
        switch (itemsPath.Resolve(payload, payload, out var items, out var mismatch))
        {
            case PathOutcome.Missing:
                return [];
            case PathOutcome.Mismatch:
                problems.Add("Steps", itemsPath.Text, $"Steps at path '{itemsPath.Text}': {itemsPath.DescribeMismatch(mismatch, payload, payload, null)}");
                return [];
            default:
                break;
        }

        if (FieldPath.IsNothing(items))
        {
            return [];
        }

        if (items.ValueKind != JsonValueKind.Array)
        {
            problems.Add("Steps", itemsPath.Text, $"Steps at path '{itemsPath.Text}' is {FieldPath.KindName(items.ValueKind)}, not an array");
            return [];
        }

        var steps = new List<DossierStep>(items.GetArrayLength());
        var index = 0;
        foreach (var item in items.EnumerateArray())
        {
            if (problems.IsFull)
            {
                problems.StoppedEarly();
                break;
            }

            if (item.ValueKind != JsonValueKind.Object)
            {
                problems.Add("Steps", $"{itemsPath.Text}[{index}]", $"step {index} at path '{itemsPath.Text}[{index}]' is {FieldPath.KindName(item.ValueKind)}, not an object");
            }
            else if (MapStep(new Scope(item, payload, index, itemsPath.Text), nativeId, sourceSystem, ref problems) is { } step)
            {
                steps.Add(step);
            }

            index++;
        }

        return steps;
    }

    private DossierStep? MapStep(in Scope scope, string? defaultNativeId, string sourceSystem, ref ProblemList problems)
    {
        var nativeIdField = S(StepField.NativeId);
        var nativeId = nativeIdField is null ? defaultNativeId : Read(nativeIdField, scope, required: true, ref problems).TextOrNull;
        var stepTime = Read(S(StepField.StepTime), scope, required: true, ref problems);
        var officer = Read(S(StepField.Officer), scope, required: false, ref problems);
        var title = Read(S(StepField.OfficerTitle), scope, required: false, ref problems);
        var department = Read(S(StepField.Department), scope, required: false, ref problems);
        var action = Read(S(StepField.Action), scope, required: false, ref problems);
        var statusAfter = Read(S(StepField.StatusAfter), scope, required: false, ref problems);
        var started = Read(S(StepField.StartedAt), scope, required: false, ref problems);
        var deadline = Read(S(StepField.Deadline), scope, required: false, ref problems);
        if (problems.Any || nativeId is null)
        {
            return null;
        }

        return new DossierStep
        {
            SourceSystem = sourceSystem,
            NativeId = nativeId,
            StepTime = stepTime.Date,
            Officer = officer.TextOrNull,
            OfficerTitle = title.TextOrNull,
            Department = department.TextOrNull,
            Action = action.TextOrNull,
            StatusAfter = statusAfter.HasValue ? (NationalStatus)statusAfter.Number : null,
            StartedAt = started.DateOrNull,
            Deadline = deadline.DateOrNull,
        };
    }

    /// <summary>Reads and converts one field; records what is wrong in <paramref name="problems"/> and then gives no value.</summary>
    private FieldValue Read(CompiledField? field, in Scope scope, bool required, ref ProblemList problems)
    {
        if (field is null)
        {
            return default;
        }

        var path = field.Path;
        if (path is null)
        {
            return field.Constant;
        }

        switch (path.Resolve(scope.Item, scope.Root, out var element, out var mismatch))
        {
            case PathOutcome.Found:
                break;
            case PathOutcome.Mismatch:
                problems.Add(field.Name, PathOf(field, scope), $"{Where(field, scope)}: {path.DescribeMismatch(mismatch, scope.Item, scope.Root, scope.ItemPrefix)}");
                return default;
            default:
                return Missing(field, scope, required, ref problems);
        }

        string text;
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                text = element.GetString()!.Trim();
                if (text.Length == 0)
                {
                    return Missing(field, scope, required, ref problems);
                }

                break;
            case JsonValueKind.Number:
                text = element.GetRawText();
                break;
            case JsonValueKind.True:
                text = "true";
                break;
            case JsonValueKind.False:
                text = "false";
                break;
            case JsonValueKind.Object or JsonValueKind.Array:
                problems.Add(field.Name, PathOf(field, scope), $"{Where(field, scope)} is {FieldPath.KindName(element.ValueKind)}, not a single value");
                return default;
            default:
                return Missing(field, scope, required, ref problems);
        }

        if (field.Values is { } values)
        {
            if (!values.TryGetValue(text, out var translated))
            {
                problems.Add(field.Name, PathOf(field, scope), $"{Where(field, scope)}: '{Conversion.Shown(text)}' is not in the field's values table");
                return default;
            }

            return translated.HasValue ? translated : Missing(field, scope, required, ref problems);
        }

        switch (Conversion.Convert(field.Type, text, field.Dates, _statuses, out var value, out var problem))
        {
            case ConversionOutcome.Ok:
                return value;
            case ConversionOutcome.Unmapped:
                problems.AddUnmapped(field.Name, PathOf(field, scope), $"unmapped code {Conversion.Shown(text)} ({Where(field, scope)})");
                return default;
            default:
                problems.Add(field.Name, PathOf(field, scope), $"{Where(field, scope)}: {problem}");
                return default;
        }
    }

    private static FieldValue Missing(CompiledField field, in Scope scope, bool required, ref ProblemList problems)
    {
        if (required)
        {
            problems.Add(field.Name, PathOf(field, scope), $"{Where(field, scope)} is missing");
        }

        return default;
    }

    /// <summary>Names a field and its path in messages: <c>EventTime at path 'updatedDate'</c>, <c>StepTime of step 1 at path 'tasks[1].endDate'</c>.</summary>
    private static string Where(CompiledField field, in Scope scope) =>
        scope.StepIndex < 0
            ? $"{field.Name} at path '{PathOf(field, scope)}'"
            : $"{field.Name} of step {scope.StepIndex} at path '{PathOf(field, scope)}'";

    /// <summary>A field's path from the record: <c>updatedDate</c>, <c>tasks[1].endDate</c> for a nested step.</summary>
    private static string PathOf(CompiledField field, in Scope scope)
    {
        var path = field.Path!;
        return scope.StepIndex < 0 || path.FromRoot ? path.Text : $"{scope.ItemPrefix}.{path.Text}";
    }

    private string? BaseCode(string? procedureCode)
    {
        if (_baseCodePattern is null)
        {
            return ProcedureCodes.BaseCode(procedureCode);
        }

        if (procedureCode is null)
        {
            return null;
        }

        var match = _baseCodePattern.Match(procedureCode);
        var group = match.Groups[_baseCodeGroup];
        return match.Success && group.Success && !string.IsNullOrWhiteSpace(group.Value) ? group.Value.Trim() : null;
    }

    private CompiledField? D(DossierField field) => _dossier[(int)field];

    private CompiledField? S(StepField field) => _steps![(int)field];

    /// <summary>Where values are read: the current item (the record, or a nested step) and the dossier record for <c>$.</c> paths.</summary>
    private readonly struct Scope(JsonElement item, JsonElement root, int stepIndex, string? itemsPath)
    {
        public JsonElement Item { get; } = item;

        public JsonElement Root { get; } = root;

        /// <summary>The index of a nested step; -1 for the record itself.</summary>
        public int StepIndex { get; } = stepIndex;

        /// <summary>The path of a nested step from the dossier record (<c>tasks[1]</c>), for messages; null for the record itself.</summary>
        public string? ItemPrefix => StepIndex < 0 ? null : $"{itemsPath}[{StepIndex}]";
    }

    /// <summary>
    /// The problems of one record, for its quarantine reason: status codes missing from the table first (so that such a
    /// reason starts with <c>unmapped code</c>), then the others in field order; at most <see cref="MaxProblems"/>.
    /// </summary>
    private struct ProblemList
    {
        private List<MappingProblem>? _unmapped;
        private List<MappingProblem>? _other;
        private int _count;
        private bool _stoppedEarly;

        public readonly bool Any => _count > 0;

        public readonly bool IsFull => _count >= MaxProblems;

        public void Add(string? field, string? path, string problem) => Add(ref _other, new MappingProblem(field, path, problem));

        public void AddUnmapped(string field, string path, string problem) => Add(ref _unmapped, new MappingProblem(field, path, problem));

        /// <summary>Notes that the remaining nested steps were not read because the list is full.</summary>
        public void StoppedEarly() => _stoppedEarly = true;

        public readonly MappedRecord Quarantined()
        {
            List<MappingProblem> listed = [.. (_unmapped ?? []).Concat(_other ?? [])];
            var reason = string.Join("; ", listed.Select(p => p.Problem));
            if (_count > MaxProblems)
            {
                reason += $"; {_count - MaxProblems} more not listed";
            }

            return MappedRecord.Quarantined(_stoppedEarly ? reason + "; remaining steps not checked" : reason) with { Problems = listed };
        }

        private void Add(ref List<MappingProblem>? list, MappingProblem problem)
        {
            _count++;
            if (_count <= MaxProblems)
            {
                (list ??= []).Add(problem);
            }
        }
    }
}
