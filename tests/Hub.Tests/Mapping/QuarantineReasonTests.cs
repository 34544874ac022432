using Hub.Core.Mapping;
using static Hub.Tests.Mapping.MappingKit;

namespace Hub.Tests.Mapping;

public class QuarantineReasonTests
{
    private const string VendorDefinition = """
        {
          "version": "vendor/1",
          "statusCodes": { "0": 1, "1": 2, "2": 4 },
          "dossier": {
            "NativeId": "id", "DossierCode": "code", "Status": "dossierStatus.id", "SourceVersion": "version",
            "EventTime": { "path": "updatedDate", "dateFormats": ["yyyy-MM-dd'T'HH:mm:ss.fffzzz"] },
            "ProcedureCode": "procedure.code", "ProcedureName": "procedure.translate[0].name",
            "ApplicantType": "applicant.type", "Channel": { "path": "applyMethod.id", "values": { "0": "2", "1": "1" } },
            "PaidOnline": "paid", "DueAt": "appointmentDate"
          },
          "steps": { "itemsPath": "tasks", "fields": {
            "StepTime": { "path": "endDate", "dateFormats": ["yyyy-MM-dd HH:mm:ss"] }, "StatusAfter": "status", "Officer": "assignee.name",
            "Department": "$.agency.name"
          } }
        }
        """;

    private const string ValidRecord = """
        {
          "id": "65a1", "code": "H56.14-251118-0107", "dossierStatus": { "id": 2 }, "version": 3,
          "updatedDate": "2025-11-18T07:31:12.000+0000",
          "procedure": { "code": "1.001612.000.00.00.H56", "translate": [ { "name": "Đăng ký thành lập hộ kinh doanh" } ] },
          "applicant": { "type": "1", "data": { "fullname": "Phạm Minh Đức" } }, "applyMethod": { "id": 0 }, "paid": "1",
          "appointmentDate": "2025-11-21T10:00:00.000+0000", "agency": { "name": "UBND xã Quảng Phú" },
          "tasks": [
            { "endDate": "2025-11-18 08:02:44", "status": 1, "assignee": { "name": "Cán bộ A" } },
            { "endDate": "2025-11-18 14:31:12", "status": 2 }
          ]
        }
        """;

    private static readonly RecordMapper Mapper = Compile(VendorDefinition);

    [Fact]
    public void Valid_record_maps()
    {
        var mapped = Mapper.Mapped(Dossier(ValidRecord));

        Assert.Null(mapped.QuarantineReason);
        Assert.False(mapped.IsQuarantined);
        Assert.NotNull(mapped.Change);
        Assert.Equal(2, mapped.Steps.Count);
    }

    [Theory]
    // Required fields: missing, null, empty, whitespace.
    [InlineData("code", null, "DossierCode at path 'code' is missing")]
    [InlineData("code", "null", "DossierCode at path 'code' is missing")]
    [InlineData("code", "\"\"", "DossierCode at path 'code' is missing")]
    [InlineData("code", "\"   \"", "DossierCode at path 'code' is missing")]
    [InlineData("id", null, "NativeId at path 'id' is missing")]
    [InlineData("updatedDate", null, "EventTime at path 'updatedDate' is missing")]
    [InlineData("dossierStatus", null, "Status at path 'dossierStatus.id' is missing")]
    [InlineData("dossierStatus", "{}", "Status at path 'dossierStatus.id' is missing")]
    // Status codes missing from the table.
    [InlineData("dossierStatus", "{ \"id\": 99 }", "unmapped code 99 (Status at path 'dossierStatus.id')")]
    [InlineData("dossierStatus", "{ \"id\": \"2.0\" }", "unmapped code 2.0 (Status at path 'dossierStatus.id')")]
    [InlineData("dossierStatus", "{ \"id\": 2.0 }", "unmapped code 2.0 (Status at path 'dossierStatus.id')")]
    [InlineData("dossierStatus", "{ \"id\": true }", "unmapped code true (Status at path 'dossierStatus.id')")]
    // Dates not in the formats.
    [InlineData("updatedDate", "\"2025-13-45\"", "EventTime at path 'updatedDate': '2025-13-45' is not a date in format(s) yyyy-MM-dd'T'HH:mm:ss.fffzzz")]
    [InlineData("updatedDate", "\"2025-11-18T07:31:12Z\"", "EventTime at path 'updatedDate': '2025-11-18T07:31:12Z' is not a date in format(s) yyyy-MM-dd'T'HH:mm:ss.fffzzz")]
    [InlineData("updatedDate", "1763453709", "EventTime at path 'updatedDate': '1763453709' is not a date in format(s) yyyy-MM-dd'T'HH:mm:ss.fffzzz")]
    [InlineData("appointmentDate", "\"21/11/2025\"", "DueAt at path 'appointmentDate': '21/11/2025' is not a date in format(s) yyyyMMddHHmmss, ISO-8601, yyyy-MM-dd HH:mm:ss")]
    [InlineData("appointmentDate", "\"00010101000000\"", "DueAt at path 'appointmentDate': '00010101000000' is not a date in format(s) yyyyMMddHHmmss, ISO-8601, yyyy-MM-dd HH:mm:ss")]
    // Other conversions.
    [InlineData("version", "\"3a\"", "SourceVersion at path 'version': '3a' is not a whole number")]
    [InlineData("version", "3.5", "SourceVersion at path 'version': '3.5' is not a whole number")]
    [InlineData("version", "99999999999999999999", "SourceVersion at path 'version': '99999999999999999999' is not a whole number")]
    [InlineData("applicant", "{ \"type\": \"5\" }", "ApplicantType at path 'applicant.type': '5' is not an applicant type (1-4 or Citizen, Business, StateAgency, Other)")]
    [InlineData("applicant", "{ \"type\": \"0\" }", "ApplicantType at path 'applicant.type': '0' is not an applicant type (1-4 or Citizen, Business, StateAgency, Other)")]
    [InlineData("applicant", "{ \"type\": \"-1\" }", "ApplicantType at path 'applicant.type': '-1' is not an applicant type (1-4 or Citizen, Business, StateAgency, Other)")]
    [InlineData("applicant", "{ \"type\": \"Citizen, Business\" }", "ApplicantType at path 'applicant.type': 'Citizen, Business' is not an applicant type (1-4 or Citizen, Business, StateAgency, Other)")]
    [InlineData("applyMethod", "{ \"id\": 7 }", "Channel at path 'applyMethod.id': '7' is not in the field's values table")]
    [InlineData("applyMethod", "{ \"id\": \"Online\" }", "Channel at path 'applyMethod.id': 'Online' is not in the field's values table")]
    [InlineData("paid", "\"yes\"", "PaidOnline at path 'paid': 'yes' is not a boolean (1, 0, true or false)")]
    [InlineData("paid", "2", "PaidOnline at path 'paid': '2' is not a boolean (1, 0, true or false)")]
    // Objects and arrays where a single value is expected, and values of the wrong kind on the way.
    [InlineData("code", "{ \"value\": \"x\" }", "DossierCode at path 'code' is an object, not a single value")]
    [InlineData("code", "[\"x\"]", "DossierCode at path 'code' is an array, not a single value")]
    [InlineData("procedure", "{ \"code\": { \"national\": \"1.001612\" } }", "ProcedureCode at path 'procedure.code' is an object, not a single value")]
    [InlineData("procedure", "\"1.001612\"", "ProcedureCode at path 'procedure.code': 'procedure' is a string, not an object; ProcedureName at path 'procedure.translate[0].name': 'procedure' is a string, not an object")]
    [InlineData("procedure", "{ \"code\": \"1.001612\", \"translate\": { \"name\": \"x\" } }", "ProcedureName at path 'procedure.translate[0].name': 'procedure.translate' is an object, not an array")]
    [InlineData("procedure", "{ \"code\": \"1.001612\", \"translate\": [ 5 ] }", "ProcedureName at path 'procedure.translate[0].name': 'procedure.translate[0]' is a number, not an object")]
    [InlineData("dossierStatus", "2", "Status at path 'dossierStatus.id': 'dossierStatus' is a number, not an object")]
    // Nested steps: the step index and the full path.
    [InlineData("tasks", "{ \"endDate\": \"2025-11-18 08:02:44\" }", "Steps at path 'tasks' is an object, not an array")]
    [InlineData("tasks", "\"none\"", "Steps at path 'tasks' is a string, not an array")]
    [InlineData("tasks", "[ { \"endDate\": \"2025-11-18 08:02:44\" }, \"x\" ]", "step 1 at path 'tasks[1]' is a string, not an object")]
    [InlineData("tasks", "[ { \"endDate\": \"2025-11-18 08:02:44\" }, null ]", "step 1 at path 'tasks[1]' is null, not an object")]
    [InlineData("tasks", "[ { \"endDate\": \"2025-11-18 08:02:44\" }, { \"status\": 1 } ]", "StepTime of step 1 at path 'tasks[1].endDate' is missing")]
    [InlineData("tasks", "[ { \"endDate\": \"18/11/2025\" } ]", "StepTime of step 0 at path 'tasks[0].endDate': '18/11/2025' is not a date in format(s) yyyy-MM-dd HH:mm:ss")]
    [InlineData("tasks", "[ { \"endDate\": \"2025-11-18 08:02:44\", \"status\": 42 } ]", "unmapped code 42 (StatusAfter of step 0 at path 'tasks[0].status')")]
    [InlineData("tasks", "[ { \"endDate\": \"2025-11-18 08:02:44\", \"assignee\": \"Cán bộ A\" } ]", "Officer of step 0 at path 'tasks[0].assignee.name': 'tasks[0].assignee' is a string, not an object")]
    [InlineData("tasks", "[ { \"endDate\": \"2025-11-18 08:02:44\", \"assignee\": { \"name\": [1] } } ]", "Officer of step 0 at path 'tasks[0].assignee.name' is an array, not a single value")]
    [InlineData("agency", "{ \"name\": { \"vi\": \"x\" } }", "Department of step 0 at path '$.agency.name' is an object, not a single value; Department of step 1 at path '$.agency.name' is an object, not a single value")]
    public void Record_that_cannot_be_mapped_is_quarantined_with_a_precise_reason(string property, string? replacement, string expected)
    {
        var mapped = Mapper.Mapped(Dossier(Replace(ValidRecord, property, replacement)));

        Assert.Equal(expected, mapped.QuarantineReason);
        Assert.True(mapped.IsQuarantined);
        Assert.Null(mapped.Change);
        Assert.Empty(mapped.Steps);
    }

    [Fact]
    public void Every_problem_of_a_record_is_named_with_unmapped_codes_first()
    {
        var record = Replace(Replace(Replace(ValidRecord, "code", null), "dossierStatus", "{ \"id\": 99 }"), "paid", "\"yes\"");
        record = Replace(record, "tasks", "[ { \"endDate\": \"2025-11-18 08:02:44\", \"status\": 7 } ]");

        var reason = Mapper.Mapped(Dossier(record)).QuarantineReason;

        Assert.Equal(
            "unmapped code 99 (Status at path 'dossierStatus.id'); unmapped code 7 (StatusAfter of step 0 at path 'tasks[0].status'); "
            + "DossierCode at path 'code' is missing; "
            + "PaidOnline at path 'paid': 'yes' is not a boolean (1, 0, true or false)",
            reason);
    }

    [Fact]
    public void Each_problem_names_its_field_and_path_in_the_order_of_the_reason()
    {
        var record = Replace(Replace(Replace(ValidRecord, "code", null), "dossierStatus", "{ \"id\": 99 }"), "paid", "\"yes\"");
        record = Replace(record, "tasks", "[ { \"endDate\": \"2025-11-18 08:02:44\", \"status\": 7 } ]");

        var mapped = Mapper.Mapped(Dossier(record));

        Assert.Equal(
            [("Status", "dossierStatus.id"), ("StatusAfter", "tasks[0].status"), ("DossierCode", "code"), ("PaidOnline", "paid")],
            mapped.Problems.Select(p => (p.Field, p.Path)));
        Assert.Equal(mapped.QuarantineReason, string.Join("; ", mapped.Problems.Select(p => p.Problem)));
        var notAnObject = Mapper.Mapped(Dossier("[]"));
        Assert.Equal(new MappingProblem(null, null, "the record is an array, not an object"), Assert.Single(notAnObject.Problems));
        Assert.Empty(Mapper.Mapped(Dossier(ValidRecord)).Problems);
    }

    [Fact]
    public void Reason_lists_at_most_ten_problems()
    {
        var tasks = string.Join(", ", Enumerable.Range(0, 50).Select(_ => "{ \"endDate\": \"bad\" }"));

        var reason = Mapper.Mapped(Dossier(Replace(ValidRecord, "tasks", $"[ {tasks} ]"))).QuarantineReason!;

        Assert.Equal(10, reason.Split("; ").Count(p => p.StartsWith("StepTime of step", StringComparison.Ordinal)));
        Assert.StartsWith("StepTime of step 0 at path 'tasks[0].endDate': 'bad' is not a date", reason, StringComparison.Ordinal);
        Assert.EndsWith("'bad' is not a date in format(s) yyyy-MM-dd HH:mm:ss; remaining steps not checked", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Reason_counts_the_problems_it_leaves_out()
    {
        var mapper = Compile("""
            { "version": "t/1", "statusCodes": { "2": 4 },
              "dossier": { "DossierCode": "a", "EventTime": "b", "Status": "c", "SubmittedAt": "d", "ReceivedAt": "e", "DueAt": "f",
                           "ProcessingFinishedAt": "g", "ResultReturnedAt": "h", "RefusedAt": "i", "PaidOnline": "j", "Channel": "k",
                           "ApplicantType": "l", "SourceVersion": "m" } }
            """);

        var reason = mapper.Mapped(Dossier("""
            { "b": "x", "c": 9, "d": "x", "e": "x", "f": "x", "g": "x", "h": "x", "i": "x", "j": "x", "k": "x", "l": "x", "m": "x" }
            """)).QuarantineReason!;

        Assert.StartsWith("unmapped code 9 (Status at path 'c'); DossierCode at path 'a' is missing; EventTime at path 'b': 'x' is not a date", reason, StringComparison.Ordinal);
        Assert.Equal(10, reason.Split("; ").Length - 1);
        Assert.EndsWith("; 3 more not listed", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_values_are_cut_in_reasons()
    {
        var longValue = new string('9', 500);

        var reason = Mapper.Mapped(Dossier(Replace(ValidRecord, "dossierStatus", $"{{ \"id\": \"{longValue}\" }}"))).QuarantineReason!;

        Assert.Equal($"unmapped code {new string('9', 100)}… (Status at path 'dossierStatus.id')", reason);
    }

    [Fact]
    public void Record_is_mapped_whole_or_not_at_all()
    {
        var record = Replace(ValidRecord, "tasks", "[ { \"endDate\": \"2025-11-18 08:02:44\" }, { \"endDate\": \"2025-11-18 08:02:44\", \"status\": 99 } ]");

        var mapped = Mapper.Mapped(Dossier(record));

        Assert.Equal("unmapped code 99 (StatusAfter of step 1 at path 'tasks[1].status')", mapped.QuarantineReason);
        Assert.Null(mapped.Change);
        Assert.Empty(mapped.Steps);
    }

    [Theory]
    [InlineData("[]", "the record is an array, not an object")]
    [InlineData("\"text\"", "the record is a string, not an object")]
    [InlineData("null", "the record is null, not an object")]
    [InlineData("42", "the record is a number, not an object")]
    public void Record_that_is_not_an_object_is_quarantined(string json, string expected)
    {
        Assert.Equal(expected, Mapper.Mapped(Dossier(json)).QuarantineReason);
        Assert.Equal(expected, NationalPortalMapping.Mapper.Mapped(Step(json)).QuarantineReason);
    }

    [Fact]
    public void Record_without_payload_is_quarantined() =>
        Assert.Equal("the record is nothing, not an object", Mapper.Mapped(new Hub.Connectors.RawRecord(Hub.Connectors.RawRecordKind.Dossier, default)).QuarantineReason);

    [Fact]
    public void Step_record_for_a_mapping_without_steps_is_quarantined()
    {
        var mapper = Compile("""
            { "version": "t/1", "statusCodes": { "2": 4 }, "dossier": { "DossierCode": "code", "EventTime": "time", "Status": "status" } }
            """);

        var mapped = mapper.Mapped(Step("""{ "code": "C-1", "time": "20251118090000" }"""));

        Assert.Equal("the record is a processing step, but the mapping has no Steps section", mapped.QuarantineReason);
        Assert.Empty(mapped.Steps);
    }

    [Fact]
    public void Step_record_for_a_mapping_of_nested_steps_is_quarantined()
    {
        var mapped = Mapper.Mapped(Step("""{ "endDate": "2025-11-18 08:02:44" }"""));

        Assert.Equal("the record is a processing step, but the mapping reads steps nested in dossier records (Steps.ItemsPath 'tasks')", mapped.QuarantineReason);
    }

    [Theory]
    [InlineData("""{ "ThoiDiemXuLy": "20251117093040" }""", "NativeId at path 'MaHoSo' is missing")]
    [InlineData("""{ "MaHoSo": "C-1" }""", "StepTime at path 'ThoiDiemXuLy' is missing")]
    [InlineData("""{ "MaHoSo": "C-1", "ThoiDiemXuLy": "2025-11-17 09:30:40" }""", "StepTime at path 'ThoiDiemXuLy': '2025-11-17 09:30:40' is not a date in format(s) yyyyMMddHHmmss")]
    [InlineData("""{ "MaHoSo": "C-1", "ThoiDiemXuLy": "20251117093040", "TrangThai": "11" }""", "unmapped code 11 (StatusAfter at path 'TrangThai')")]
    [InlineData("""{ "MaHoSo": "C-1", "ThoiDiemXuLy": "20251117093040", "NgayKetThucTheoQuyDinh": "20251117" }""", "Deadline at path 'NgayKetThucTheoQuyDinh': '20251117' is not a date in format(s) yyyyMMddHHmmss")]
    public void Step_record_that_cannot_be_mapped_is_quarantined(string json, string expected)
    {
        var mapped = NationalPortalMapping.Mapper.Mapped(Step(json));

        Assert.Equal(expected, mapped.QuarantineReason);
        Assert.Empty(mapped.Steps);
        Assert.Null(mapped.Change);
    }

    [Fact]
    public void Code_that_translates_to_no_value_leaves_a_required_field_missing()
    {
        var mapper = Compile("""
            { "version": "t/1", "statusCodes": { "2": 4 },
              "dossier": { "NativeId": { "path": "id", "values": { "0": "", "1": "one" } }, "DossierCode": "code", "EventTime": "time", "Status": "status" } }
            """);

        Assert.Equal(
            "NativeId at path 'id' is missing",
            mapper.Mapped(Dossier("""{ "id": 0, "code": "C-1", "time": "20251118081509", "status": 2 }""")).QuarantineReason);
    }

    /// <summary>The record's JSON with one top-level property replaced by <paramref name="json"/>, or removed when null.</summary>
    private static string Replace(string record, string property, string? json)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(record)!.AsObject();
        Assert.True(node.ContainsKey(property) || json is not null);
        node.Remove(property);
        if (json is not null)
        {
            node[property] = System.Text.Json.Nodes.JsonNode.Parse(json);
        }

        return node.ToJsonString();
    }
}
