using Hub.Connectors.Mapping;
using Hub.Core.Mapping;
using static Hub.Tests.Mapping.MappingKit;

namespace Hub.Tests.Mapping;

public class DefinitionValidationTests
{
    private const string Fields = "NativeId, DossierCode, EventTime, SourceVersion, ProcedureCode, ProcedureBaseCode, ProcedureName, SectorCode, "
        + "AgencyCode, HandlingUnit, ApplicantType, Channel, PaidOnline, SubmittedAt, ReceivedAt, DueAt, ProcessingFinishedAt, ResultReturnedAt, "
        + "RefusedAt, Status, SourceStatus";

    private const string StepFields = "NativeId, StepTime, Officer, OfficerTitle, Department, Action, StatusAfter, StartedAt, Deadline";

    [Theory]
    // The definition as a whole.
    [InlineData("\"version\": \"\"", "Version is empty: a mapping needs a version, stored with every change it produces (for example 'vnpt-h56/3')")]
    [InlineData("\"version\": \"  \"", "Version is empty: a mapping needs a version, stored with every change it produces (for example 'vnpt-h56/3')")]
    [InlineData("\"timeZone\": \"Mars/Olympus\"", "TimeZone: time zone 'Mars/Olympus' is neither a UTC offset such as +07:00 nor a known time zone id such as Asia/Ho_Chi_Minh")]
    [InlineData("\"timeZone\": \"+7\"", "TimeZone: time zone '+7' is neither a UTC offset such as +07:00 nor a known time zone id such as Asia/Ho_Chi_Minh")]
    [InlineData("\"timeZone\": \"+15:00\"", "TimeZone: time zone '+15:00' is not a UTC offset between -14:00 and +14:00")]
    [InlineData("\"timeZone\": \"+07:60\"", "TimeZone: time zone '+07:60' is not a UTC offset between -14:00 and +14:00")]
    [InlineData("\"timeZone\": \"\"", "TimeZone: the time zone is empty")]
    [InlineData("\"dateFormats\": [\"yyyyMMdd\", \"%\"]", "DateFormats[1] '%' is not a valid .NET date format")]
    [InlineData("\"dateFormats\": [\"HH:mm:ss\"]", "DateFormats[0] 'HH:mm:ss' does not hold a whole date (year, month and day)")]
    [InlineData("\"dateFormats\": [\"yyyy-MM\"]", "DateFormats[0] 'yyyy-MM' does not hold a whole date (year, month and day)")]
    [InlineData("\"dateFormats\": [\"\"]", "DateFormats[0] is an empty date format")]
    [InlineData("\"statusCodes\": {}", "StatusCodes is empty: give the national status (1-10) of every status code the source sends")]
    [InlineData("\"statusCodes\": null", "StatusCodes is empty: give the national status (1-10) of every status code the source sends")]
    [InlineData("\"statusCodes\": { \"2\": 4, \"9\": 11 }", "StatusCodes['9'] is 11: national statuses are 1 to 10")]
    [InlineData("\"statusCodes\": { \"2\": 4, \"0\": 0 }", "StatusCodes['0'] is 0: national statuses are 1 to 10")]
    [InlineData("\"statusCodes\": { \"2\": 4, \" 9\": 4 }", "StatusCodes[' 9'] has leading or trailing whitespace, but source values are trimmed before lookup")]
    [InlineData("\"statusCodes\": { \"2\": 4, \"\": 4 }", "StatusCodes has an empty code: an empty status is a missing status and is never looked up")]
    // Dossier fields: names.
    [InlineData("\"dossier\": null", "Dossier is missing: it maps at least DossierCode, EventTime and Status")]
    [InlineData("\"ChuHoSo\": \"ChuHoSo\"", "Dossier: unknown field 'ChuHoSo'; the fields are " + Fields)]
    [InlineData("\"procedureName\": \"TenTTHC\"", "Dossier: unknown field 'procedureName' (names are case-sensitive: did you mean 'ProcedureName'?)")]
    [InlineData("\"SourceSystem\": \"system\"", "Dossier: field 'SourceSystem' is set by the hub and cannot be mapped")]
    [InlineData("\"MappingVersion\": { \"constant\": \"2\" }", "Dossier: field 'MappingVersion' is set by the hub and cannot be mapped")]
    [InlineData("\"StepTime\": \"at\"", "Dossier: unknown field 'StepTime'; the fields are " + Fields)]
    // Dossier fields: paths.
    [InlineData("\"ProcedureName\": \"procedure..name\"", "Dossier.ProcedureName: path 'procedure..name' has '.' at character 11 where a property name is expected")]
    [InlineData("\"ProcedureName\": \"procedure.\"", "Dossier.ProcedureName: path 'procedure.' ends where a property name is expected")]
    [InlineData("\"ProcedureName\": \".name\"", "Dossier.ProcedureName: path '.name' has '.' at character 1 where a property name is expected")]
    [InlineData("\"ProcedureName\": \"[0].name\"", "Dossier.ProcedureName: path '[0].name' has '[' at character 1 where a property name is expected")]
    [InlineData("\"ProcedureName\": \"names[0\"", "Dossier.ProcedureName: path 'names[0' has a '[' at character 6 without a closing ']'")]
    [InlineData("\"ProcedureName\": \"names[x]\"", "Dossier.ProcedureName: path 'names[x]' has index '[x]' at character 6; an index is a whole number 0 or more")]
    [InlineData("\"ProcedureName\": \"names[-1]\"", "Dossier.ProcedureName: path 'names[-1]' has index '[-1]' at character 6; an index is a whole number 0 or more")]
    [InlineData("\"ProcedureName\": \"names[]\"", "Dossier.ProcedureName: path 'names[]' has index '[]' at character 6; an index is a whole number 0 or more")]
    [InlineData("\"ProcedureName\": \"names[0]x\"", "Dossier.ProcedureName: path 'names[0]x' has 'x' at character 9 where '.', '[' or the end is expected")]
    [InlineData("\"ProcedureName\": \"names]\"", "Dossier.ProcedureName: path 'names]' has ']' at character 6 where '.', '[' or the end is expected")]
    [InlineData("\"ProcedureName\": \"procedure name\"", "Dossier.ProcedureName: path 'procedure name' has whitespace at character 10 where '.', '[' or the end is expected")]
    [InlineData("\"ProcedureName\": \"$.\"", "Dossier.ProcedureName: path '$.' ends where a property name is expected")]
    [InlineData("\"ProcedureName\": \"\"", "Dossier.ProcedureName: the path is empty")]
    [InlineData("\"ProcedureName\": \" \"", "Dossier.ProcedureName: the path is empty")]
    // Dossier fields: path or constant.
    [InlineData("\"AgencyCode\": { \"path\": \"agency\", \"constant\": \"H56\" }", "Dossier.AgencyCode: both a path and a constant are given; give one")]
    [InlineData("\"AgencyCode\": { \"values\": { \"a\": \"b\" } }", "Dossier.AgencyCode: neither a path nor a constant is given")]
    [InlineData("\"AgencyCode\": null", "Dossier.AgencyCode: no mapping is given")]
    [InlineData("\"AgencyCode\": { \"constant\": \" \" }", "Dossier.AgencyCode: the constant is empty; leave the field out instead")]
    // Dossier fields: options that do not fit the field's type, constants and values that do not convert.
    [InlineData("\"AgencyCode\": { \"path\": \"agency\", \"dateFormats\": [\"yyyy\"] }", "Dossier.AgencyCode: dateFormats is only for date fields")]
    [InlineData("\"AgencyCode\": { \"path\": \"agency\", \"timeZone\": \"+07:00\" }", "Dossier.AgencyCode: timeZone is only for date fields")]
    [InlineData("\"DueAt\": { \"path\": \"due\", \"timeZone\": \"Hanoi\" }", "Dossier.DueAt: time zone 'Hanoi' is neither a UTC offset such as +07:00 nor a known time zone id such as Asia/Ho_Chi_Minh")]
    [InlineData("\"DueAt\": { \"path\": \"due\", \"dateFormats\": [\"dd/MM/yyyy\", \"Q\"] }", "Dossier.DueAt.DateFormats[1] 'Q' is not a valid .NET date format")]
    [InlineData("\"DueAt\": { \"path\": \"due\", \"values\": { \"0\": \"\" } }", "Dossier.DueAt: values is not for date fields")]
    [InlineData("\"DueAt\": { \"constant\": \"tomorrow\" }", "Dossier.DueAt: the constant 'tomorrow' is not a date in format(s) yyyyMMddHHmmss, ISO-8601, yyyy-MM-dd HH:mm:ss")]
    [InlineData("\"Channel\": { \"path\": \"method\", \"values\": {} }", "Dossier.Channel: values is empty, so no value would be accepted; leave it out to take values as they are")]
    [InlineData("\"Channel\": { \"path\": \"method\", \"values\": { \"0\": \"2\", \"1\": \"9\" } }", "Dossier.Channel: values['1'] '9' is not a channel (1-3 or InPerson, Online, Postal)")]
    [InlineData("\"Channel\": { \"path\": \"method\", \"values\": { \"0 \": \"2\" } }", "Dossier.Channel: values key '0 ' has leading or trailing whitespace, but source values are trimmed before lookup")]
    [InlineData("\"Channel\": { \"path\": \"method\", \"values\": { \"\": \"2\" } }", "Dossier.Channel: values has an empty key: an empty source value means no value and is never looked up")]
    [InlineData("\"Channel\": { \"constant\": \"Fax\" }", "Dossier.Channel: the constant 'Fax' is not a channel (1-3 or InPerson, Online, Postal)")]
    [InlineData("\"Channel\": { \"constant\": \"Fax\", \"values\": { \"Web\": \"2\" } }", "Dossier.Channel: the constant 'Fax' is not in the field's values table or translates to no value")]
    [InlineData("\"ApplicantType\": { \"constant\": \"0\" }", "Dossier.ApplicantType: the constant '0' is not an applicant type (1-4 or Citizen, Business, StateAgency, Other)")]
    [InlineData("\"PaidOnline\": { \"constant\": \"yes\" }", "Dossier.PaidOnline: the constant 'yes' is not a boolean (1, 0, true or false)")]
    [InlineData("\"SourceVersion\": { \"constant\": \"v1\" }", "Dossier.SourceVersion: the constant 'v1' is not a whole number")]
    public void Invalid_definition_names_the_problem(string change, string expected)
    {
        var error = Assert.Throws<MappingDefinitionException>(() => Compile(Valid(change)));

        Assert.Equal([expected], error.Errors);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"Status\": { \"path\": \"status\", \"values\": { \"a\": \"2\" } }", "Dossier.Status: values is not for status fields; status codes are translated by StatusCodes")]
    [InlineData("\"Status\": { \"constant\": \"99\" }", "Dossier.Status: the constant '99' is not in StatusCodes")]
    [InlineData("\"Status\": { \"path\": \"status\", \"dateFormats\": [\"yyyy\"] }", "Dossier.Status: dateFormats is only for date fields")]
    [InlineData("\"EventTime\": { \"path\": \"time\", \"timeZone\": \"+25:00\" }", "Dossier.EventTime: time zone '+25:00' is not a UTC offset between -14:00 and +14:00")]
    public void Invalid_mapping_of_a_required_field_names_the_problem(string change, string expected)
    {
        var error = Assert.Throws<MappingDefinitionException>(() => Compile(Valid(change)));

        Assert.Equal([expected], error.Errors);
    }

    [Theory]
    [InlineData("", "ProcedureBaseCodePattern is empty: leave it out for the default (the first two dot-separated groups)")]
    [InlineData("[0-9]+\\.[0-9]+", "ProcedureBaseCodePattern '[0-9]+\\.[0-9]+' has no group: its first group must capture the base code")]
    [InlineData("(?:[0-9]+)", "ProcedureBaseCodePattern '(?:[0-9]+)' has no group: its first group must capture the base code")]
    [InlineData("(", "ProcedureBaseCodePattern '(' is not a valid regular expression: ")]
    [InlineData("(?<=TT-)([0-9.]+)", "ProcedureBaseCodePattern '(?<=TT-)([0-9.]+)' uses a construct that linear-time matching does not support")]
    [InlineData("([0-9]+)\\1", "ProcedureBaseCodePattern '([0-9]+)\\1' uses a construct that linear-time matching does not support")]
    public void Procedure_base_code_pattern_must_be_a_linear_time_regular_expression(string pattern, string expectedStart)
    {
        var definition = Definition(Valid("\"ProcedureCode\": \"procedure\"")) with { ProcedureBaseCodePattern = pattern };

        var error = Assert.Throws<MappingDefinitionException>(() => RecordMapper.Compile(definition));

        Assert.StartsWith(expectedStart, Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Procedure_base_code_pattern_needs_the_procedure_code_and_no_mapped_base_code()
    {
        var mapped = Definition(Valid("\"ProcedureBaseCode\": \"base\"")) with { ProcedureBaseCodePattern = "^([0-9.]+)" };
        var unmapped = Definition("""
            { "version": "t/1", "statusCodes": { "2": 4 }, "dossier": { "DossierCode": "code", "EventTime": "time", "Status": "status" } }
            """) with { ProcedureBaseCodePattern = "^([0-9.]+)" };

        Assert.Equal(
            ["ProcedureBaseCodePattern is set, but ProcedureBaseCode is mapped: the pattern would never be used; keep one"],
            Assert.Throws<MappingDefinitionException>(() => RecordMapper.Compile(mapped)).Errors);
        Assert.Equal(
            ["ProcedureBaseCodePattern is set, but ProcedureCode is not mapped: there is no code to apply it to"],
            Assert.Throws<MappingDefinitionException>(() => RecordMapper.Compile(unmapped)).Errors);
    }

    [Theory]
    [InlineData("DossierCode")]
    [InlineData("EventTime")]
    [InlineData("Status")]
    public void Dossier_requires_code_event_time_and_status(string field)
    {
        var fields = new[] { "\"DossierCode\": \"code\"", "\"EventTime\": \"time\"", "\"Status\": \"status\"" }.Where(f => !f.Contains(field, StringComparison.Ordinal));
        var json = $$"""{ "version": "t/1", "statusCodes": { "2": 4 }, "dossier": { {{string.Join(", ", fields)}} } }""";

        var error = Assert.Throws<MappingDefinitionException>(() => Compile(json));

        Assert.Equal([$"Dossier: required field '{field}' is not mapped"], error.Errors);
    }

    [Theory]
    [InlineData("{ \"itemsPath\": \"tasks\", \"fields\": { \"Officer\": \"name\" } }", "Steps.Fields: required field 'StepTime' is not mapped")]
    [InlineData("{ \"fields\": { \"StepTime\": \"at\" } }", "Steps.Fields: required field 'NativeId' is not mapped: steps that come as records of their own (no Steps.ItemsPath) have no holding dossier to take it from")]
    [InlineData("{ \"fields\": { \"NativeId\": \"$.id\", \"StepTime\": \"at\" } }", "Steps.Fields.NativeId: path '$.id' reads the holding dossier record ('$.'), but steps come as records of their own (Steps.ItemsPath is not set)")]
    [InlineData("{ \"itemsPath\": \"tasks[\", \"fields\": { \"StepTime\": \"at\" } }", "Steps.ItemsPath: path 'tasks[' has a '[' at character 6 without a closing ']'")]
    [InlineData("{ \"itemsPath\": \"\", \"fields\": { \"StepTime\": \"at\" } }", "Steps.ItemsPath: the path is empty")]
    [InlineData("{ \"itemsPath\": \"tasks\", \"fields\": null }", "Steps.Fields is missing: it maps at least StepTime")]
    [InlineData("{ \"itemsPath\": \"tasks\", \"fields\": { \"StepTime\": \"at\", \"Status\": \"status\" } }", "Steps.Fields: unknown field 'Status'; the fields are " + StepFields)]
    [InlineData("{ \"itemsPath\": \"tasks\", \"fields\": { \"StepTime\": \"at\", \"SourceSystem\": \"x\" } }", "Steps.Fields: field 'SourceSystem' is set by the hub and cannot be mapped")]
    [InlineData("{ \"itemsPath\": \"tasks\", \"fields\": { \"StepTime\": { \"path\": \"at\", \"dateFormats\": [\"mm:ss\"] } } }", "Steps.Fields.StepTime.DateFormats[0] 'mm:ss' does not hold a whole date (year, month and day)")]
    [InlineData("{ \"itemsPath\": \"tasks\", \"fields\": { \"StepTime\": \"at\", \"StatusAfter\": { \"constant\": \"X\" } } }", "Steps.Fields.StatusAfter: the constant 'X' is not in StatusCodes")]
    [InlineData("{ \"itemsPath\": \"tasks\", \"fields\": { \"StepTime\": \"at\", \"Officer\": { \"path\": \"officer\", \"timeZone\": \"+07:00\" } } }", "Steps.Fields.Officer: timeZone is only for date fields")]
    public void Invalid_steps_section_names_the_problem(string steps, string expected)
    {
        var json = $$"""
            { "version": "t/1", "statusCodes": { "2": 4 }, "dossier": { "DossierCode": "code", "EventTime": "time", "Status": "status" }, "steps": {{steps}} }
            """;

        var error = Assert.Throws<MappingDefinitionException>(() => Compile(json));

        Assert.Equal([expected], error.Errors);
    }

    [Fact]
    public void Invalid_definition_lists_every_problem_at_once()
    {
        var json = """
            {
              "version": "",
              "timeZone": "Mars/Olympus",
              "dateFormats": ["HH:mm"],
              "statusCodes": { "0": 1, "1": 12 },
              "procedureBaseCodePattern": "[0-9]+",
              "dossier": {
                "dossierCode": "code",
                "ChuHoSo": "owner.name",
                "EventTime": { "path": "updated..date", "constant": "20251118081509" },
                "Channel": { "path": "method", "values": { "0": "Fax" } },
                "DueAt": { "path": "due", "timeZone": "Atlantis" },
                "ProcedureCode": "procedure.code"
              },
              "steps": { "fields": { "Officer": { "path": "officer", "dateFormats": ["yyyy"] }, "Department": "$.unit" } }
            }
            """;

        var error = Assert.Throws<MappingDefinitionException>(() => Compile(json));

        string[] expected =
        [
            "Version is empty: a mapping needs a version, stored with every change it produces (for example 'vnpt-h56/3')",
            "TimeZone: time zone 'Mars/Olympus' is neither a UTC offset such as +07:00 nor a known time zone id such as Asia/Ho_Chi_Minh",
            "DateFormats[0] 'HH:mm' does not hold a whole date (year, month and day)",
            "StatusCodes['1'] is 12: national statuses are 1 to 10",
            "ProcedureBaseCodePattern '[0-9]+' has no group: its first group must capture the base code",
            "Dossier: unknown field 'dossierCode' (names are case-sensitive: did you mean 'DossierCode'?)",
            "Dossier: unknown field 'ChuHoSo'; the fields are " + Fields,
            "Dossier.EventTime: both a path and a constant are given; give one",
            "Dossier.EventTime: path 'updated..date' has '.' at character 9 where a property name is expected",
            "Dossier.Channel: values['0'] 'Fax' is not a channel (1-3 or InPerson, Online, Postal)",
            "Dossier.DueAt: time zone 'Atlantis' is neither a UTC offset such as +07:00 nor a known time zone id such as Asia/Ho_Chi_Minh",
            "Dossier: required field 'DossierCode' is not mapped",
            "Dossier: required field 'Status' is not mapped",
            "Steps.Fields.Officer: dateFormats is only for date fields",
            "Steps.Fields.Department: path '$.unit' reads the holding dossier record ('$.'), but steps come as records of their own (Steps.ItemsPath is not set)",
            "Steps.Fields: required field 'StepTime' is not mapped",
            "Steps.Fields: required field 'NativeId' is not mapped: steps that come as records of their own (no Steps.ItemsPath) have no holding dossier to take it from",
        ];
        Assert.Equal(expected, error.Errors);
        Assert.Equal(
            $"The mapping definition is invalid ({expected.Length} problems):" + string.Concat(expected.Select(e => "\n- " + e)),
            error.Message);
    }

    [Fact]
    public void Message_names_the_version_and_counts_the_problems()
    {
        var error = Assert.Throws<MappingDefinitionException>(() => Compile(Valid("\"timeZone\": \"+99:00\"")));

        Assert.Equal("Mapping definition 't/1' is invalid (1 problem):\n- TimeZone: time zone '+99:00' is not a UTC offset between -14:00 and +14:00", error.Message);
    }

    [Fact]
    public void Definition_built_in_code_is_checked_like_one_read_from_json()
    {
        var definition = new MappingDefinition
        {
            Version = "code/1",
            StatusCodes = new Dictionary<string, int> { ["2"] = 4 },
            Dossier = new Dictionary<string, FieldMapping> { ["DossierCode"] = "code", ["EventTime"] = "time", ["Status"] = "status", ["Channel"] = new() { Path = "m", Constant = "2" } },
        };

        var error = Assert.Throws<MappingDefinitionException>(() => RecordMapper.Compile(definition));

        Assert.Equal(["Dossier.Channel: both a path and a constant are given; give one"], error.Errors);
    }

    [Theory]
    [InlineData("+07:00")]
    [InlineData("-03:30")]
    [InlineData("+14:00")]
    [InlineData("-14:00")]
    [InlineData("+00:00")]
    [InlineData("Asia/Ho_Chi_Minh")]
    [InlineData("Asia/Bangkok")]
    [InlineData("UTC")]
    public void Time_zone_is_an_offset_or_a_time_zone_id(string zone) =>
        RecordMapper.Compile(Definition(Valid($"\"timeZone\": \"{zone}\"")));

    /// <summary>A valid definition with one property of the definition or one dossier field added or replaced.</summary>
    private static string Valid(string change)
    {
        var definition = System.Text.Json.Nodes.JsonNode.Parse("""
            { "version": "t/1", "statusCodes": { "2": 4 }, "dossier": { "DossierCode": "code", "EventTime": "time", "Status": "status" } }
            """)!.AsObject();
        if (change.Length == 0)
        {
            return definition.ToJsonString();
        }

        var patch = System.Text.Json.Nodes.JsonNode.Parse("{" + change + "}")!.AsObject();
        string[] topLevel = ["version", "timeZone", "dateFormats", "statusCodes", "procedureBaseCodePattern", "dossier", "steps"];
        var target = topLevel.Contains(patch.Single().Key) ? definition : definition["dossier"]!.AsObject();
        foreach (var (name, value) in patch.ToList())
        {
            patch.Remove(name);
            target[name] = value;
        }

        return definition.ToJsonString();
    }
}
