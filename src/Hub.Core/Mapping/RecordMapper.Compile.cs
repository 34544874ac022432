using System.Collections.Frozen;
using System.Text.RegularExpressions;
using Hub.Connectors.Mapping;
using Hub.Contracts;

namespace Hub.Core.Mapping;

public sealed partial class RecordMapper
{
    private const string DefaultTimeZone = "+07:00";

    /// <summary>
    /// Checks a mapping definition and compiles it. Checks: canonical field names (the <c>DossierChange</c> and
    /// <c>DossierStep</c> property names, except the ones the hub sets), required fields (<c>DossierCode</c>,
    /// <c>EventTime</c>, <c>Status</c>; <c>StepTime</c>; a step's <c>NativeId</c> when steps come as records of their own),
    /// path syntax, exactly one of path and constant per field, constants and values tables convertible to their field's
    /// type, date formats, time zones, the status table (national statuses 1-10), the procedure base-code pattern (a
    /// valid expression with a group, matched in linear time) and a non-empty version.
    /// </summary>
    /// <exception cref="MappingDefinitionException">The definition is invalid; the exception lists every problem.</exception>
    public static RecordMapper Compile(MappingDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var errors = new List<string>();

        if (string.IsNullOrWhiteSpace(definition.Version))
        {
            errors.Add("Version is empty: a mapping needs a version, stored with every change it produces (for example 'vnpt-h56/3')");
        }

        var zone = CompileZone(definition.TimeZone ?? DefaultTimeZone, "TimeZone", errors) ?? ZoneRule.Utc;
        var dates = definition.DateFormats is { Count: > 0 } formats
            ? DateReader.Create(formats, zone, errors, "DateFormats") ?? DateReader.Default(zone)
            : DateReader.Default(zone);
        var statuses = CompileStatuses(definition.StatusCodes, errors);
        var context = new Context(dates, statuses, errors);

        var (pattern, group) = CompilePattern(definition, errors);

        CompiledField?[] dossier = new CompiledField?[FieldSet.Dossier.Names.Count];
        if (definition.Dossier is null)
        {
            errors.Add("Dossier is missing: it maps at least DossierCode, EventTime and Status");
        }
        else
        {
            dossier = CompileSection(definition.Dossier, FieldSet.Dossier, context, rootPathsAllowed: true);
        }

        CompiledField?[]? steps = null;
        FieldPath? itemsPath = null;
        if (definition.Steps is { } stepMapping)
        {
            if (stepMapping.ItemsPath is not null)
            {
                itemsPath = FieldPath.TryParse(stepMapping.ItemsPath, out var error);
                if (itemsPath is null)
                {
                    errors.Add($"Steps.ItemsPath: {error}");
                }
            }

            if (stepMapping.Fields is null)
            {
                errors.Add("Steps.Fields is missing: it maps at least StepTime");
            }
            else
            {
                steps = CompileSection(stepMapping.Fields, FieldSet.Step, context, rootPathsAllowed: stepMapping.ItemsPath is not null);
                if (stepMapping.ItemsPath is null && !stepMapping.Fields.ContainsKey(nameof(StepField.NativeId)))
                {
                    errors.Add("Steps.Fields: required field 'NativeId' is not mapped: steps that come as records of their own "
                        + "(no Steps.ItemsPath) have no holding dossier to take it from");
                }
            }
        }

        if (errors.Count > 0)
        {
            throw new MappingDefinitionException(definition.Version, errors);
        }

        return new RecordMapper(definition.Version, dossier, steps, itemsPath, statuses, pattern, group);
    }

    private static ZoneRule? CompileZone(string text, string where, List<string> errors)
    {
        var zone = ZoneRule.TryParse(text, out var error);
        if (zone is null)
        {
            errors.Add($"{where}: {error}");
        }

        return zone;
    }

    private static FrozenDictionary<string, NationalStatus> CompileStatuses(IReadOnlyDictionary<string, int>? codes, List<string> errors)
    {
        var table = new Dictionary<string, NationalStatus>(StringComparer.Ordinal);
        if (codes is null || codes.Count == 0)
        {
            errors.Add("StatusCodes is empty: give the national status (1-10) of every status code the source sends");
            return table.ToFrozenDictionary(StringComparer.Ordinal);
        }

        foreach (var (code, status) in codes)
        {
            if (string.IsNullOrWhiteSpace(code))
            {
                errors.Add("StatusCodes has an empty code: an empty status is a missing status and is never looked up");
            }
            else if (code.Trim().Length != code.Length)
            {
                errors.Add($"StatusCodes['{code}'] has leading or trailing whitespace, but source values are trimmed before lookup");
            }
            else if (status is < 1 or > 10)
            {
                errors.Add($"StatusCodes['{code}'] is {status}: national statuses are 1 to 10");
            }
            else
            {
                table[code] = (NationalStatus)status;
            }
        }

        return table.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static (Regex? Pattern, int Group) CompilePattern(MappingDefinition definition, List<string> errors)
    {
        if (definition.ProcedureBaseCodePattern is not { } text)
        {
            return (null, 0);
        }

        if (definition.Dossier is { } dossier)
        {
            if (dossier.ContainsKey(nameof(DossierField.ProcedureBaseCode)))
            {
                errors.Add("ProcedureBaseCodePattern is set, but ProcedureBaseCode is mapped: the pattern would never be used; keep one");
            }
            else if (!dossier.ContainsKey(nameof(DossierField.ProcedureCode)))
            {
                errors.Add("ProcedureBaseCodePattern is set, but ProcedureCode is not mapped: there is no code to apply it to");
            }
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add("ProcedureBaseCodePattern is empty: leave it out for the default (the first two dot-separated groups)");
            return (null, 0);
        }

        Regex regex;
        try
        {
            // Linear-time matching: a pattern written by a connector's team runs on every record of a back-fill, so
            // catastrophic backtracking must be impossible rather than cut off by a timeout.
            regex = new Regex(text, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
        }
        catch (ArgumentException e)
        {
            errors.Add($"ProcedureBaseCodePattern '{text}' is not a valid regular expression: {e.Message}");
            return (null, 0);
        }
        catch (NotSupportedException e)
        {
            errors.Add($"ProcedureBaseCodePattern '{text}' uses a construct that linear-time matching does not support "
                + $"(lookarounds, backreferences, atomic groups, conditionals): {e.Message}");
            return (null, 0);
        }

        var groups = regex.GetGroupNumbers().Where(n => n > 0).ToArray();
        if (groups.Length == 0)
        {
            errors.Add($"ProcedureBaseCodePattern '{text}' has no group: its first group must capture the base code");
            return (null, 0);
        }

        return (regex, groups.Min());
    }

    private static CompiledField?[] CompileSection(IReadOnlyDictionary<string, FieldMapping> mappings, FieldSet set, Context context, bool rootPathsAllowed)
    {
        var compiled = new CompiledField?[set.Names.Count];
        foreach (var (name, mapping) in mappings)
        {
            if (name is null || !set.Index.TryGetValue(name, out var index))
            {
                context.Errors.Add(UnknownField(set, name));
                continue;
            }

            compiled[index] = CompileField(name, set.Types[index], mapping, $"{set.Section}.{name}", context, rootPathsAllowed);
        }

        foreach (var required in set.Required)
        {
            if (!mappings.ContainsKey(set.Names[required]))
            {
                context.Errors.Add($"{set.Section}: required field '{set.Names[required]}' is not mapped");
            }
        }

        return compiled;
    }

    private static string UnknownField(FieldSet set, string? name)
    {
        if (name is nameof(DossierChange.SourceSystem) or nameof(DossierChange.MappingVersion))
        {
            return $"{set.Section}: field '{name}' is set by the hub and cannot be mapped";
        }

        var near = set.Names.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        return near is not null
            ? $"{set.Section}: unknown field '{name}' (names are case-sensitive: did you mean '{near}'?)"
            : $"{set.Section}: unknown field '{name}'; the fields are {string.Join(", ", set.Names)}";
    }

    private static CompiledField? CompileField(string name, FieldType type, FieldMapping? mapping, string where, Context context, bool rootPathsAllowed)
    {
        var errors = context.Errors;
        var errorsBefore = errors.Count;
        if (mapping is null)
        {
            errors.Add($"{where}: no mapping is given");
            return null;
        }

        var hasPath = mapping.Path is not null;
        var hasConstant = mapping.Constant is not null;
        if (hasPath == hasConstant)
        {
            errors.Add(hasPath ? $"{where}: both a path and a constant are given; give one" : $"{where}: neither a path nor a constant is given");
        }

        FieldPath? path = null;
        if (hasPath)
        {
            path = FieldPath.TryParse(mapping.Path, out var error);
            if (path is null)
            {
                errors.Add($"{where}: {error}");
            }
            else if (path.FromRoot && !rootPathsAllowed)
            {
                errors.Add($"{where}: path '{path.Text}' reads the holding dossier record ('$.'), but steps come as records of their own (Steps.ItemsPath is not set)");
            }
        }

        if (hasConstant && string.IsNullOrWhiteSpace(mapping.Constant))
        {
            errors.Add($"{where}: the constant is empty; leave the field out instead");
        }

        var dates = CompileDates(type, mapping, where, context);
        var values = CompileValues(type, mapping, where, dates, context);

        var constant = default(FieldValue);
        if (hasConstant && !hasPath && !string.IsNullOrWhiteSpace(mapping.Constant) && (type != FieldType.Date || dates is not null))
        {
            var text = mapping.Constant!.Trim();
            if (values is not null)
            {
                if (!values.TryGetValue(text, out constant) || !constant.HasValue)
                {
                    errors.Add($"{where}: the constant '{text}' is not in the field's values table or translates to no value");
                }
            }
            else
            {
                switch (Conversion.Convert(type, text, dates, context.Statuses, out constant, out var problem))
                {
                    case ConversionOutcome.Unmapped:
                        errors.Add($"{where}: the constant '{text}' is not in StatusCodes");
                        break;
                    case ConversionOutcome.Invalid:
                        errors.Add($"{where}: the constant {problem}");
                        break;
                    default:
                        break;
                }
            }
        }

        return errors.Count == errorsBefore
            ? new CompiledField { Name = name, Type = type, Path = path, Constant = constant, Dates = dates, Values = values }
            : null;
    }

    private static DateReader? CompileDates(FieldType type, FieldMapping mapping, string where, Context context)
    {
        if (type != FieldType.Date)
        {
            if (mapping.DateFormats is not null)
            {
                context.Errors.Add($"{where}: dateFormats is only for date fields");
            }

            if (mapping.TimeZone is not null)
            {
                context.Errors.Add($"{where}: timeZone is only for date fields");
            }

            return null;
        }

        ZoneRule? zone = null;
        if (mapping.TimeZone is not null)
        {
            zone = CompileZone(mapping.TimeZone, where, context.Errors);
            if (zone is null)
            {
                return null;
            }
        }

        if (mapping.DateFormats is { Count: > 0 } formats)
        {
            return DateReader.Create(formats, zone ?? context.Dates.Zone, context.Errors, $"{where}.DateFormats");
        }

        return zone is null ? context.Dates : context.Dates.WithZone(zone);
    }

    private static FrozenDictionary<string, FieldValue>? CompileValues(FieldType type, FieldMapping mapping, string where, DateReader? dates, Context context)
    {
        if (mapping.Values is not { } table)
        {
            return null;
        }

        var errors = context.Errors;
        if (type is FieldType.Status)
        {
            errors.Add($"{where}: values is not for status fields; status codes are translated by StatusCodes");
            return null;
        }

        if (type is FieldType.Date)
        {
            errors.Add($"{where}: values is not for date fields");
            return null;
        }

        if (table.Count == 0)
        {
            errors.Add($"{where}: values is empty, so no value would be accepted; leave it out to take values as they are");
            return null;
        }

        var translated = new Dictionary<string, FieldValue>(StringComparer.Ordinal);
        foreach (var (key, target) in table)
        {
            if (string.IsNullOrWhiteSpace(key))
            {
                errors.Add($"{where}: values has an empty key: an empty source value means no value and is never looked up");
            }
            else if (key.Trim().Length != key.Length)
            {
                errors.Add($"{where}: values key '{key}' has leading or trailing whitespace, but source values are trimmed before lookup");
            }
            else if (string.IsNullOrWhiteSpace(target))
            {
                // Translating a code to nothing is how a source's "unknown" code becomes no value.
                translated[key] = default;
            }
            else if (Conversion.Convert(type, target.Trim(), dates, context.Statuses, out var value, out var problem) == ConversionOutcome.Ok)
            {
                translated[key] = value;
            }
            else
            {
                errors.Add($"{where}: values['{key}'] {problem}");
            }
        }

        return translated.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>What every field of a definition shares while it is compiled.</summary>
    private sealed record Context(DateReader Dates, FrozenDictionary<string, NationalStatus> Statuses, List<string> Errors);
}
