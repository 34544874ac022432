using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Hangfire;
using Hangfire.Common;
using Hangfire.Storage;
using Hub.Connectors;
using Hub.Connectors.Mapping;
using Hub.Core.Mapping;
using Hub.Core.Sync;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Hub.Worker.Sync;

/// <summary>One problem of a connector registration.</summary>
/// <param name="Field">Where: a dotted JSON path in the registration, such as <c>configuration.baseUrl</c> or <c>mapping.statusCodes.99</c>.</param>
/// <param name="Problem">What is wrong.</param>
/// <param name="Expected">What is expected instead.</param>
public sealed record FieldError(string Field, string Problem, string Expected);

/// <summary>
/// Checks a connector registration as a whole and lists every problem with its field: the registration's own fields,
/// the kind, the schedule and its time zone (as the scheduler reads them), the configuration against the kind's JSON
/// Schema and then the kind's own settings checks, and the mapping (<see cref="RecordMapper.Compile"/>). Used by
/// <c>POST /api/connectors/validate</c> and by the registration files, so the two cannot disagree.
/// </summary>
public sealed partial class ConnectorValidation(ConnectorKinds kinds)
{
    private static readonly string[] KnownProperties =
        ["id", "kind", "sourceSystem", "displayName", "agency", "configuration", "mapping", "schedule", "timeZone", "resilience", "quarantineThreshold", "active"];

    private readonly ConcurrentDictionary<string, JsonSchema?> _schemas = new(StringComparer.Ordinal);

    /// <summary>Checks a registration; returns every problem, and the registration when there is none.</summary>
    public IReadOnlyList<FieldError> Validate(JsonElement body, out ConnectorRegistration? registration)
    {
        registration = null;
        var errors = new List<FieldError>();
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new("$", $"the registration is {Describe(body.ValueKind)}", "a JSON object with id, kind, sourceSystem, displayName, configuration and mapping"));
            return errors;
        }

        foreach (var property in body.EnumerateObject())
        {
            if (!KnownProperties.Contains(property.Name, StringComparer.Ordinal))
            {
                errors.Add(new(property.Name, "is not a property of a connector registration", "only " + string.Join(", ", KnownProperties)));
            }
        }

        var id = RequiredString(body, "id", errors, "the connector's id: lower-case letters, digits and dashes, 2 to 63 characters, for example h56-vnpt-rest");
        if (id is not null && !IdPattern().IsMatch(id))
        {
            errors.Add(new("id", $"'{id}' is not a valid connector id", "lower-case letters, digits and dashes, 2 to 63 characters, starting with a letter or digit"));
        }
        else if (id is "freshness")
        {
            // GET /api/connectors/freshness is the freshness of every connector (docs/decisions/0014).
            errors.Add(new("id", $"'{id}' is reserved: it names a route of /api/connectors", "another id, for example h56-vnpt-rest"));
        }

        RequiredString(body, "sourceSystem", errors, "the hub's id of the source system, for example h56-vnpt");
        RequiredString(body, "displayName", errors, "a name for people");
        CheckAgency(body, errors);
        var kindName = RequiredString(body, "kind", errors, "the name of a connector kind: " + KindNames());
        var kind = kindName is null ? null : kinds.Find(kindName);
        if (kindName is not null && kind is null)
        {
            errors.Add(new("kind", $"no connector kind is named '{kindName}'", "one of: " + KindNames()));
        }
        else if (kind is ISubscriberConnectorKind)
        {
            // A subscriber kind delivers the hub's changes out; a connector brings a source's changes in.
            errors.Add(new("kind", $"'{kindName}' is a subscriber kind: it delivers the hub's changes to a subscriber and is used by a subscription, not a connector", "one of: " + KindNames()));
            kind = null;
        }

        CheckSchedule(body, kind, errors);
        CheckConfiguration(body, kind, errors);
        CheckMapping(body, errors);

        if (errors.Count == 0)
        {
            try
            {
                registration = body.Deserialize<ConnectorRegistration>(ConnectorCatalog.Json);
            }
            catch (JsonException e)
            {
                errors.Add(new(JsonPathToField(e.Path), FirstSentence(e.Message), "a value of the type the registration format gives for this field"));
            }
        }

        return errors;
    }

    /// <summary>The configuration schema of a kind, parsed; <c>null</c> when it has none or it is not JSON.</summary>
    public static JsonNode? SchemaOf(IConnectorKind kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        try
        {
            return string.IsNullOrWhiteSpace(kind.ConfigurationSchema) ? null : JsonNode.Parse(kind.ConfigurationSchema);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void CheckAgency(JsonElement body, List<FieldError> errors)
    {
        if (!body.TryGetProperty("agency", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(new("agency", $"is {Describe(value.ValueKind)}, not a string", Hub.Core.Identity.AgencyCodes.Expected));
        }
        else if (!Hub.Core.Identity.AgencyCodes.IsValid(value.GetString()))
        {
            errors.Add(new("agency", $"'{value.GetString()}' is not an agency code", Hub.Core.Identity.AgencyCodes.Expected));
        }
    }

    private string KindNames() => string.Join(", ", kinds.All.Where(k => k is not ISubscriberConnectorKind).Select(k => k.Name).Order(StringComparer.Ordinal));

    internal static string? RequiredString(JsonElement body, string name, List<FieldError> errors, string expected)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            errors.Add(new(name, "is missing", expected));
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(new(name, $"is {Describe(value.ValueKind)}, not a string", expected));
            return null;
        }

        var text = value.GetString()!;
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add(new(name, "is empty", expected));
            return null;
        }

        return text;
    }

    private static void CheckSchedule(JsonElement body, IConnectorKind? kind, List<FieldError> errors)
    {
        var zoneName = "Asia/Ho_Chi_Minh";
        if (body.TryGetProperty("timeZone", out var zone) && zone.ValueKind != JsonValueKind.Null)
        {
            if (zone.ValueKind != JsonValueKind.String)
            {
                errors.Add(new("timeZone", $"is {Describe(zone.ValueKind)}, not a string", "an IANA time zone id such as Asia/Ho_Chi_Minh"));
            }
            else
            {
                zoneName = zone.GetString()!;
                try
                {
                    // As the scheduler reads it (SyncScheduler.RefreshSchedulesAsync).
                    TimeZoneInfo.FindSystemTimeZoneById(zoneName);
                }
                catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
                {
                    errors.Add(new("timeZone", $"time zone '{zoneName}' is unknown", "an IANA time zone id such as Asia/Ho_Chi_Minh"));
                }
            }
        }

        if (!body.TryGetProperty("schedule", out var schedule) || schedule.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        const string cron = "a cron expression of 5 fields (minute hour day month weekday), or 6 with seconds first, for example */15 * * * *";
        if (schedule.ValueKind != JsonValueKind.String)
        {
            errors.Add(new("schedule", $"is {Describe(schedule.ValueKind)}, not a string", cron));
            return;
        }

        var text = schedule.GetString()!;
        if (kind is not null and not IPullConnectorKind && !string.IsNullOrWhiteSpace(text))
        {
            errors.Add(new("schedule", $"kind '{kind.Name}' receives pushed messages and is never scheduled", "no schedule (leave it out)"));
            return;
        }

        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is not (5 or 6))
        {
            errors.Add(new("schedule", $"'{text}' has {fields.Length} field(s)", cron));
            return;
        }

        if (CronProblem(text) is { } problem)
        {
            errors.Add(new("schedule", $"'{text}' is not a valid cron expression: {problem}", cron));
        }
    }

    /// <summary>
    /// Hangfire's own check of a cron expression, the one the scheduler meets: <see cref="RecurringJobManager.AddOrUpdate(string, Job, string, RecurringJobOptions)"/>
    /// parses the expression before it touches its storage (its parser, Cronos, is internal to Hangfire.Core), so a storage
    /// that refuses every connection tells a valid expression from an invalid one without storing anything.
    /// </summary>
    private static string? CronProblem(string expression)
    {
        try
        {
            new RecurringJobManager(new RefusingStorage()).AddOrUpdate(
                "validation",
                Job.FromExpression<SyncJobs>(j => j.RunScheduledAsync("validation", CancellationToken.None)),
                expression,
                new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        }
        catch (RefusingStorage.Refused)
        {
            return null;
        }
        catch (ArgumentException e)
        {
            return e.InnerException?.Message ?? e.Message;
        }

        return null;
    }

    /// <summary>A storage that is never reached by a valid call: see <see cref="CronProblem"/>.</summary>
    private sealed class RefusingStorage : JobStorage
    {
        public override IMonitoringApi GetMonitoringApi() => throw new Refused();

        public override IStorageConnection GetConnection() => throw new Refused();

        public sealed class Refused : Exception;
    }

    internal void CheckConfiguration(JsonElement body, IConnectorKind? kind, List<FieldError> errors)
    {
        if (!body.TryGetProperty("configuration", out var configuration) || configuration.ValueKind == JsonValueKind.Null)
        {
            errors.Add(new("configuration", "is missing", "the kind's configuration, a JSON object (GET /api/connector-kinds gives its schema)"));
            return;
        }

        if (kind is null)
        {
            return;
        }

        var before = errors.Count;
        var schema = _schemas.GetOrAdd(kind.Name, _ => SchemaOf(kind) is null ? null : JsonSchema.FromJsonAsync(kind.ConfigurationSchema).GetAwaiter().GetResult());
        if (schema is not null)
        {
            foreach (var error in schema.Validate(configuration.GetRawText()))
            {
                AddSchemaError(error, errors);
            }
        }

        // The kind's own checks (URLs joined, time zones, formats, certificates) once the shape is right, so one
        // mistake is not reported twice.
        if (errors.Count > before)
        {
            return;
        }

        foreach (var problem in kind.CheckConfiguration(configuration))
        {
            AddKindProblem(problem, errors);
        }
    }

    private static void AddSchemaError(ValidationError error, List<FieldError> errors)
    {
        if (error is ChildSchemaValidationError child && error.Kind is ValidationErrorKind.NotOneOf or ValidationErrorKind.NotAnyOf)
        {
            // One branch per "type" (auth, paging): report the branch whose type matches, not every branch's errors.
            var type = (error.Token as Newtonsoft.Json.Linq.JObject)?["type"]?.ToString();
            var matching = child.Errors.Where(b => type is not null && TypeConstant(b.Key) == type).ToList();
            if (matching.Count != 1)
            {
                matching = [.. child.Errors.Where(b => !b.Value.Any(e => e.Property == "type"))];
            }

            if (matching.Count == 1)
            {
                foreach (var inner in matching[0].Value)
                {
                    AddSchemaError(inner, errors);
                }

                return;
            }

            var types = child.Errors.Keys.Select(TypeConstant).Where(t => t is not null).ToList();
            errors.Add(new(SchemaField(error), "does not match any of the allowed forms",
                types.Count > 0 ? "an object whose 'type' is one of: " + string.Join(", ", types) : error.Schema?.Description ?? "one of the forms in the kind's schema"));
            return;
        }

        var field = SchemaField(error);
        var schema = error.Schema;
        var (problem, expected) = error.Kind switch
        {
            ValidationErrorKind.PropertyRequired => (IsSecret(schema, error.Property) ? "is missing (a secret)" : "is missing",
                PropertyDescription(schema, error.Property) ?? "a value: the property is required"),
            ValidationErrorKind.NoAdditionalPropertiesAllowed => ("is not a known property",
                schema is { ActualProperties.Count: > 0 } ? "only " + string.Join(", ", schema.ActualProperties.Keys) : "no other property"),
            ValidationErrorKind.StringExpected or ValidationErrorKind.IntegerExpected or ValidationErrorKind.NumberExpected
                or ValidationErrorKind.BooleanExpected or ValidationErrorKind.ObjectExpected or ValidationErrorKind.ArrayExpected
                or ValidationErrorKind.NullExpected => ("has the wrong type: " + Humanize(error.Kind),
                    $"a value of type {schema?.Type.ToString().ToLowerInvariant() ?? Humanize(error.Kind)}"),
            ValidationErrorKind.PatternMismatch or ValidationErrorKind.UriExpected => ("is not valid: " + Humanize(error.Kind),
                schema?.Description ?? (schema?.Pattern is { } p ? "a value matching " + p : "a value of the right format")),
            _ => (Humanize(error.Kind), schema?.Description ?? "a value the kind's schema allows"),
        };
        if (!errors.Any(e => e.Field == field))
        {
            errors.Add(new(field, problem, expected));
        }
    }

    /// <summary>The constant of a branch's <c>type</c> property (<c>{"const": "apiKey"}</c>), if it has one.</summary>
    private static string? TypeConstant(JsonSchema branch)
    {
        if (!branch.ActualSchema.ActualProperties.TryGetValue("type", out var property))
        {
            return null;
        }

        var schema = property.ActualSchema;
        if (schema.ExtensionData?.TryGetValue("const", out var constant) == true && constant is not null)
        {
            return constant.ToString();
        }

        return schema.Enumeration.Count == 1 ? schema.Enumeration.First()?.ToString() : null;
    }

    private static bool IsSecret(JsonSchema? schema, string? property) =>
        property is not null && schema?.ActualProperties.TryGetValue(property, out var p) == true
        && p.ExtensionData?.TryGetValue("x-secret", out var s) == true && s is true;

    private static string? PropertyDescription(JsonSchema? schema, string? property) =>
        property is not null && schema?.ActualProperties.TryGetValue(property, out var p) == true ? p.ActualSchema.Description ?? p.Description : null;

    private static string SchemaField(ValidationError error)
    {
        var path = (error.Path ?? "#").TrimStart('#').TrimStart('/');
        path = IndexPattern().Replace(path, ".$1");
        if (error.Kind is ValidationErrorKind.PropertyRequired or ValidationErrorKind.NoAdditionalPropertiesAllowed
            && error.Property is { } property && !path.EndsWith(property, StringComparison.Ordinal))
        {
            path = path.Length == 0 ? property : path + "." + property;
        }

        return path.Length == 0 ? "configuration" : "configuration." + path;
    }

    /// <summary>A kind's problem <c>path: what is wrong</c> (<see cref="IConnectorKind.CheckConfiguration"/>) as a field error.</summary>
    private static void AddKindProblem(string text, List<FieldError> errors)
    {
        var colon = text.IndexOf(": ", StringComparison.Ordinal);
        var path = colon > 0 ? text[..colon] : "";
        var isPath = path.Length > 0 && !path.Contains(' ', StringComparison.Ordinal);
        var field = !isPath || path == "(root)" ? "configuration" : "configuration." + IndexPattern().Replace(path, ".$1");
        errors.Add(new(field, isPath ? text[(colon + 2)..] : text, "a configuration the kind accepts (see its README)"));
    }

    private static void CheckMapping(JsonElement body, List<FieldError> errors)
    {
        if (!body.TryGetProperty("mapping", out var mapping) || mapping.ValueKind == JsonValueKind.Null)
        {
            errors.Add(new("mapping", "is missing", "a mapping definition: version, statusCodes and dossier fields (docs/decisions/0003-declarative-mapping.md)"));
            return;
        }

        MappingDefinition? definition;
        try
        {
            definition = mapping.Deserialize<MappingDefinition>(ConnectorCatalog.Json);
        }
        catch (JsonException e)
        {
            errors.Add(new("mapping" + JsonPathToField(e.Path).TrimStart('$'), FirstSentence(e.Message), "a value of the type a mapping definition gives for this field"));
            return;
        }

        if (definition is null)
        {
            errors.Add(new("mapping", "is empty", "a mapping definition"));
            return;
        }

        try
        {
            RecordMapper.Compile(definition);
        }
        catch (MappingDefinitionException e)
        {
            errors.AddRange(e.Errors.Select(MappingError));
        }
    }

    /// <summary>Turns a mapping compiler message (<c>Dossier.DueAt: …</c>, <c>StatusCodes['9'] is 11: …</c>) into a field error.</summary>
    public static FieldError MappingError(string message)
    {
        var match = MappingHead().Match(message);
        if (!match.Success)
        {
            return new("mapping", message, MappingExpected("mapping"));
        }

        var segments = match.Groups["head"].Value.Split('.');
        var names = new List<string>();
        for (var i = 0; i < segments.Length; i++)
        {
            var keep = i > 0 && segments[i - 1] is "Dossier" or "Fields";
            names.Add(keep ? segments[i] : char.ToLowerInvariant(segments[i][0]) + segments[i][1..]);
        }

        if (match.Groups["key"].Success)
        {
            names.Add(match.Groups["key"].Value);
        }
        else if (match.Groups["index"].Success)
        {
            names.Add(match.Groups["index"].Value);
        }

        var rest = match.Groups["rest"].Value;
        var named = FieldName().Match(rest);
        if (named.Success && segments[^1] is "Dossier" or "Fields")
        {
            names.Add(named.Groups[1].Value);
        }

        var field = "mapping." + string.Join('.', names);
        var problem = rest.StartsWith(": ", StringComparison.Ordinal) ? rest[2..] : message;
        return new(field, problem, MappingExpected(field));
    }

    private static string MappingExpected(string field) => field switch
    {
        _ when field.StartsWith("mapping.statusCodes", StringComparison.Ordinal) => "each source status code (trimmed, not empty) mapped to a national status from 1 to 10",
        _ when field.Contains("dateFormats", StringComparison.Ordinal) => ".NET exact date formats that hold year, month and day",
        _ when field.EndsWith("timeZone", StringComparison.Ordinal) => "a UTC offset such as +07:00 or a time zone id such as Asia/Ho_Chi_Minh",
        "mapping.version" => "a non-empty version such as vnpt-h56/3, changed with every edit",
        "mapping.procedureBaseCodePattern" => "a linear-time regular expression whose first group captures the national base code",
        _ when field.StartsWith("mapping.dossier", StringComparison.Ordinal) || field.StartsWith("mapping.steps", StringComparison.Ordinal) =>
            "a canonical field name mapped to a path (dot-separated property names with optional [n] indexes) or a constant",
        _ => "a valid mapping definition (docs/decisions/0003-declarative-mapping.md)",
    };

    internal static string JsonPathToField(string? path)
    {
        var text = (path ?? "$").TrimStart('$').TrimStart('.');
        text = IndexPattern().Replace(text, ".$1").Replace("['", ".", StringComparison.Ordinal).Replace("']", "", StringComparison.Ordinal);
        return text.Length == 0 ? "$" : text;
    }

    internal static string FirstSentence(string message)
    {
        var end = message.IndexOf(". Path:", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message;
    }

    private static string Humanize(ValidationErrorKind kind) => HumanizePattern().Replace(kind.ToString(), " $1").ToLowerInvariant();

    internal static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "missing",
    };

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,62}$")]
    internal static partial Regex IdPattern();

    [GeneratedRegex(@"\[(\d+)\]")]
    private static partial Regex IndexPattern();

    [GeneratedRegex(@"^(?<head>[A-Z][A-Za-z]*(?:\.[A-Za-z]+)*)(?:\['(?<key>[^']*)'\]|\[(?<index>\d+)\])?(?<rest>.*)$", RegexOptions.Singleline)]
    private static partial Regex MappingHead();

    [GeneratedRegex(@"^: (?:unknown |required )?field '([^']*)'")]
    private static partial Regex FieldName();

    [GeneratedRegex("(?<!^)([A-Z])")]
    private static partial Regex HumanizePattern();
}
