using System.Globalization;
using Hub.Contracts;
using static Hub.Tests.Mapping.MappingKit;

namespace Hub.Tests.Mapping;

public class FieldConversionTests
{
    private static readonly string[] BaseFields = ["DossierCode", "EventTime", "Status"];

    [Theory]
    // Text: strings trimmed, numbers by their raw text, booleans as true/false.
    [InlineData("ProcedureName", "\"v\"", "\"  Đăng ký hộ kinh doanh \"", "Đăng ký hộ kinh doanh")]
    [InlineData("SectorCode", "\"v\"", "12", "12")]
    [InlineData("SectorCode", "\"v\"", "1.50", "1.50")]
    [InlineData("SectorCode", "\"v\"", "-3e2", "-3e2")]
    [InlineData("SectorCode", "\"v\"", "true", "true")]
    [InlineData("SectorCode", "\"v\"", "false", "false")]
    [InlineData("HandlingUnit", "\"v\"", "\"Phòng Tài chính - Kế hoạch\"", "Phòng Tài chính - Kế hoạch")]
    // Absent values: missing, null, empty and whitespace-only strings.
    [InlineData("ProcedureName", "\"missing\"", "1", "null")]
    [InlineData("ProcedureName", "\"v\"", "null", "null")]
    [InlineData("ProcedureName", "\"v\"", "\"\"", "null")]
    [InlineData("ProcedureName", "\"v\"", "\" \\t \"", "null")]
    [InlineData("DueAt", "\"v\"", "\"\"", "null")]
    [InlineData("Channel", "\"v\"", "null", "null")]
    [InlineData("ProcedureName", "\"nested.deeper\"", "1", "null")]
    [InlineData("ProcedureName", "\"v[3]\"", "[\"a\"]", "null")]
    [InlineData("ProcedureName", "\"v.name\"", "null", "null")]
    [InlineData("ProcedureName", "\"v.name\"", "\"\"", "null")]
    // Paths with indexes.
    [InlineData("ProcedureName", "\"v[1]\"", "[\"a\", \"b\"]", "b")]
    [InlineData("ProcedureName", "\"v[0].name\"", "[{\"name\": \"first\"}]", "first")]
    [InlineData("ProcedureName", "\"v.items[1][0]\"", "{\"items\": [[1], [2, 3]]}", "2")]
    // Whole numbers.
    [InlineData("SourceVersion", "\"v\"", "42", "42")]
    [InlineData("SourceVersion", "\"v\"", "\"42\"", "42")]
    [InlineData("SourceVersion", "\"v\"", "\"-7\"", "-7")]
    [InlineData("SourceVersion", "\"v\"", "9223372036854775807", "9223372036854775807")]
    [InlineData("SourceVersion", "\"v\"", "\"\"", "null")]
    // Applicant type and channel: the national number or the member's name, in any case.
    [InlineData("ApplicantType", "\"v\"", "\"1\"", "Citizen")]
    [InlineData("ApplicantType", "\"v\"", "4", "Other")]
    [InlineData("ApplicantType", "\"v\"", "\"Business\"", "Business")]
    [InlineData("ApplicantType", "\"v\"", "\"stateagency\"", "StateAgency")]
    [InlineData("Channel", "\"v\"", "\"1\"", "InPerson")]
    [InlineData("Channel", "\"v\"", "2", "Online")]
    [InlineData("Channel", "\"v\"", "\"POSTAL\"", "Postal")]
    // Values tables translate before conversion, into numbers or names; an empty target means no value.
    [InlineData("Channel", "{\"path\": \"v\", \"values\": {\"0\": \"2\", \"1\": \"1\"}}", "0", "Online")]
    [InlineData("Channel", "{\"path\": \"v\", \"values\": {\"0\": \"Online\", \"1\": \"InPerson\"}}", "\"1\"", "InPerson")]
    [InlineData("Channel", "{\"path\": \"v\", \"values\": {\"0\": \"2\", \"9\": \"\"}}", "9", "null")]
    [InlineData("ApplicantType", "{\"path\": \"v\", \"values\": {\"CD\": \"1\", \"DN\": \"Business\"}}", "\"DN\"", "Business")]
    [InlineData("HandlingUnit", "{\"path\": \"v\", \"values\": {\"U1\": \"Phòng Tư pháp\"}}", "\"U1\"", "Phòng Tư pháp")]
    [InlineData("SourceVersion", "{\"path\": \"v\", \"values\": {\"first\": \"1\"}}", "\"first\"", "1")]
    // Booleans: 1, 0, true, false in any case.
    [InlineData("PaidOnline", "\"v\"", "\"1\"", "True")]
    [InlineData("PaidOnline", "\"v\"", "\"0\"", "False")]
    [InlineData("PaidOnline", "\"v\"", "1", "True")]
    [InlineData("PaidOnline", "\"v\"", "true", "True")]
    [InlineData("PaidOnline", "\"v\"", "false", "False")]
    [InlineData("PaidOnline", "\"v\"", "\"TRUE\"", "True")]
    [InlineData("PaidOnline", "\"v\"", "\"False\"", "False")]
    [InlineData("PaidOnline", "{\"path\": \"v\", \"values\": {\"Y\": \"1\", \"N\": \"false\"}}", "\"N\"", "False")]
    // Constants, converted like values.
    [InlineData("AgencyCode", "{\"constant\": \"H56.14\"}", "1", "H56.14")]
    [InlineData("Channel", "{\"constant\": \"2\"}", "1", "Online")]
    [InlineData("Channel", "{\"constant\": 3}", "1", "Postal")]
    [InlineData("PaidOnline", "{\"constant\": true}", "1", "True")]
    [InlineData("SourceVersion", "{\"constant\": \"5\"}", "1", "5")]
    [InlineData("ApplicantType", "{\"constant\": \"X\", \"values\": {\"X\": \"3\"}}", "1", "StateAgency")]
    [InlineData("DueAt", "{\"constant\": \"20251120170000\"}", "1", "2025-11-20T17:00:00.0000000+07:00")]
    public void Field_value_converts_to_its_canonical_type(string field, string mapping, string valueJson, string expected)
    {
        var change = MapOne(field, mapping, valueJson);

        Assert.Equal(expected, Render(typeof(DossierChange).GetProperty(field)!.GetValue(change)));
    }

    [Theory]
    // Default formats: the national portal's, ISO 8601 with and without zone (also +0000 offsets), yyyy-MM-dd HH:mm:ss.
    [InlineData("", "\"v\"", "20251118081509", "2025-11-18T08:15:09.0000000+07:00")]
    [InlineData("", "\"v\"", "2025-11-18T01:15:09.000+0000", "2025-11-18T01:15:09.0000000+00:00")]
    [InlineData("", "\"v\"", "2025-11-18T01:15:09+00:00", "2025-11-18T01:15:09.0000000+00:00")]
    [InlineData("", "\"v\"", "2025-11-18T01:15:09Z", "2025-11-18T01:15:09.0000000+00:00")]
    [InlineData("", "\"v\"", "2025-11-18T01:15:09.123Z", "2025-11-18T01:15:09.1230000+00:00")]
    [InlineData("", "\"v\"", "2025-11-18T08:15:09", "2025-11-18T08:15:09.0000000+07:00")]
    [InlineData("", "\"v\"", "2025-11-18T08:15:09.5", "2025-11-18T08:15:09.5000000+07:00")]
    [InlineData("", "\"v\"", "2025-11-18 08:15:09", "2025-11-18T08:15:09.0000000+07:00")]
    [InlineData("", "\"v\"", "  20251118081509 ", "2025-11-18T08:15:09.0000000+07:00")]
    // The definition's zone applies to values without one; values with a zone keep theirs.
    [InlineData("\"timeZone\": \"+00:00\",", "\"v\"", "20251118081509", "2025-11-18T08:15:09.0000000+00:00")]
    [InlineData("\"timeZone\": \"-05:30\",", "\"v\"", "2025-11-18 08:15:09", "2025-11-18T08:15:09.0000000-05:30")]
    [InlineData("\"timeZone\": \"-05:30\",", "\"v\"", "2025-11-18T08:15:09+07:00", "2025-11-18T08:15:09.0000000+07:00")]
    // Time zone ids: the zone's offset at that local time.
    [InlineData("\"timeZone\": \"Asia/Ho_Chi_Minh\",", "\"v\"", "20251118081509", "2025-11-18T08:15:09.0000000+07:00")]
    [InlineData("\"timeZone\": \"Europe/Berlin\",", "\"v\"", "20250701120000", "2025-07-01T12:00:00.0000000+02:00")]
    [InlineData("\"timeZone\": \"Europe/Berlin\",", "\"v\"", "20251201120000", "2025-12-01T12:00:00.0000000+01:00")]
    [InlineData("\"timeZone\": \"America/New_York\",", "\"v\"", "2025-03-09 12:00:00", "2025-03-09T12:00:00.0000000-04:00")]
    [InlineData("\"timeZone\": \"America/New_York\",", "\"v\"", "2025-03-08 12:00:00", "2025-03-08T12:00:00.0000000-05:00")]
    // A skipped or repeated local hour takes standard time.
    [InlineData("\"timeZone\": \"Europe/Berlin\",", "\"v\"", "20250330023000", "2025-03-30T02:30:00.0000000+01:00")]
    [InlineData("\"timeZone\": \"Europe/Berlin\",", "\"v\"", "20251026023000", "2025-10-26T02:30:00.0000000+01:00")]
    // The field's own zone wins over the definition's.
    [InlineData("\"timeZone\": \"+00:00\",", "{\"path\": \"v\", \"timeZone\": \"+09:00\"}", "20251118081509", "2025-11-18T08:15:09.0000000+09:00")]
    [InlineData("", "{\"path\": \"v\", \"timeZone\": \"Europe/Berlin\"}", "2025-07-01T12:00:00", "2025-07-01T12:00:00.0000000+02:00")]
    // The definition's formats replace the defaults; the field's own formats replace the definition's.
    [InlineData("\"dateFormats\": [\"dd/MM/yyyy HH:mm\"],", "\"v\"", "18/11/2025 08:15", "2025-11-18T08:15:00.0000000+07:00")]
    [InlineData("\"dateFormats\": [\"dd/MM/yyyy\", \"yyyy-MM-dd'T'HH:mm:ss.fffzzz\"],", "\"v\"", "2025-11-18T01:15:09.250+0000", "2025-11-18T01:15:09.2500000+00:00")]
    [InlineData("\"dateFormats\": [\"dd/MM/yyyy\"],", "{\"path\": \"v\", \"dateFormats\": [\"yyyyMMdd\"]}", "20251118", "2025-11-18T00:00:00.0000000+07:00")]
    [InlineData("", "{\"path\": \"v\", \"dateFormats\": [\"dd.MM.yyyy HH:mm:ss\"], \"timeZone\": \"+03:00\"}", "18.11.2025 08:15:09", "2025-11-18T08:15:09.0000000+03:00")]
    // A literal Z means UTC; K and the standard "o" read values with or without a zone.
    [InlineData("", "{\"path\": \"v\", \"dateFormats\": [\"yyyy-MM-dd'T'HH:mm:ss'Z'\"]}", "2025-11-18T01:15:09Z", "2025-11-18T01:15:09.0000000+00:00")]
    [InlineData("", "{\"path\": \"v\", \"dateFormats\": [\"o\"]}", "2025-11-18T01:15:09.1234567+03:00", "2025-11-18T01:15:09.1234567+03:00")]
    [InlineData("", "{\"path\": \"v\", \"dateFormats\": [\"o\"]}", "2025-11-18T01:15:09.1234567Z", "2025-11-18T01:15:09.1234567+00:00")]
    [InlineData("", "{\"path\": \"v\", \"dateFormats\": [\"yyyy-MM-dd'T'HH:mm:ssK\"]}", "2025-11-18T08:15:09", "2025-11-18T08:15:09.0000000+07:00")]
    [InlineData("", "{\"path\": \"v\", \"dateFormats\": [\"yyyy-MM-dd'T'HH:mm:ssK\"]}", "2025-11-18T08:15:09-02:00", "2025-11-18T08:15:09.0000000-02:00")]
    [InlineData("", "{\"path\": \"v\", \"dateFormats\": [\"r\"]}", "Tue, 18 Nov 2025 01:15:09 GMT", "2025-11-18T01:15:09.0000000+00:00")]
    public void Date_reads_its_formats_and_takes_the_zone_of_zoneless_values(string definitionExtra, string mapping, string value, string expected)
    {
        var change = MapOne("DueAt", mapping, System.Text.Json.JsonSerializer.Serialize(value), definitionExtra);

        Assert.Equal(expected, Exact(change.DueAt));
    }

    [Theory]
    [InlineData("\"A\"", NationalStatus.Processing, "A")]
    [InlineData("\" A \"", NationalStatus.Processing, "A")]
    [InlineData("2", NationalStatus.Received, "2")]
    [InlineData("\"2\"", NationalStatus.Received, "2")]
    [InlineData("\"10\"", NationalStatus.ResultReturned, "10")]
    public void Status_is_translated_by_the_status_table_and_kept_as_sent(string statusJson, NationalStatus expected, string sourceStatus)
    {
        var mapper = Compile("""
            { "version": "t/1", "statusCodes": { "A": 4, "2": 2, "10": 10 },
              "dossier": { "DossierCode": "code", "EventTime": "time", "Status": "status" } }
            """);

        var change = mapper.Mapped(Dossier($$"""{ "code": "C-1", "time": "20251118081509", "status": {{statusJson}} }""")).Change!;

        Assert.Equal(expected, change.Status);
        Assert.Equal(sourceStatus, change.SourceStatus);
    }

    [Fact]
    public void Status_constant_goes_through_the_status_table_and_is_the_source_status()
    {
        var mapper = Compile("""
            { "version": "t/1", "statusCodes": { "DONE": 10 },
              "dossier": { "DossierCode": "code", "EventTime": "time", "Status": { "constant": "DONE" } } }
            """);

        var change = mapper.Mapped(Dossier("""{ "code": "C-1", "time": "20251118081509" }""")).Change!;

        Assert.Equal(NationalStatus.ResultReturned, change.Status);
        Assert.Equal("DONE", change.SourceStatus);
    }

    [Fact]
    public void Mapped_source_status_replaces_the_raw_status()
    {
        var mapper = Compile("""
            { "version": "t/1", "statusCodes": { "2": 4 },
              "dossier": { "DossierCode": "code", "EventTime": "time", "Status": "status.id", "SourceStatus": "status.name" } }
            """);

        var change = mapper.Mapped(Dossier("""{ "code": "C-1", "time": "20251118081509", "status": { "id": 2, "name": "Đang xử lý" } }""")).Change!;

        Assert.Equal(NationalStatus.Processing, change.Status);
        Assert.Equal("Đang xử lý", change.SourceStatus);
    }

    [Fact]
    public void Dossier_fields_the_mapper_sets_itself()
    {
        var mapper = Compile("""
            { "version": "vendor/7", "statusCodes": { "2": 4 },
              "dossier": { "DossierCode": "code", "EventTime": "time", "Status": "status", "ProcedureCode": "procedure" } }
            """);

        var change = mapper.Map(Dossier("""{ "code": "C-1", "time": "20251118081509", "status": 2, "procedure": "1.003560.000.00.00.H56" }"""), "h56-onegate").Change!;

        Assert.Equal("h56-onegate", change.SourceSystem);
        Assert.Equal("vendor/7", change.MappingVersion);
        Assert.Equal("vendor/7", mapper.Version);
        Assert.Equal("C-1", change.NativeId);
        Assert.Equal("1.003560", change.ProcedureBaseCode);
    }

    [Fact]
    public void Mapped_native_id_is_kept_apart_from_the_dossier_code()
    {
        var mapper = Compile("""
            { "version": "t/1", "statusCodes": { "2": 4 },
              "dossier": { "NativeId": "id", "DossierCode": "code", "EventTime": "time", "Status": "status" } }
            """);

        var change = mapper.Mapped(Dossier("""{ "id": 6571, "code": "C-1", "time": "20251118081509", "status": 2 }""")).Change!;

        Assert.Equal("6571", change.NativeId);
        Assert.Equal("C-1", change.DossierCode);
    }

    [Theory]
    // Default rule: the first two dot-separated groups when they are digits; otherwise none.
    [InlineData(null, "1.003560.000.00.00.H56", "1.003560")]
    [InlineData(null, "1.005129", "1.005129")]
    [InlineData(null, "TTHC-001", null)]
    // A pattern's first group.
    [InlineData("^TT-([0-9]+\\.[0-9]+)", "TT-2.002154-H20", "2.002154")]
    [InlineData("^(?:[A-Z]+-)?(?<base>[0-9]+\\.[0-9]+)", "X-1.001612.H56", "1.001612")]
    [InlineData("^([0-9]+)\\.([0-9]+)", "1.005129.000", "1")]
    [InlineData("^TT-([0-9]+\\.[0-9]+)", "1.003560", null)]
    [InlineData("^TT-([0-9]+\\.[0-9]+)?", "TT-", null)]
    public void Procedure_base_code_is_derived_from_the_procedure_code_when_not_mapped(string? pattern, string code, string? expected)
    {
        var patternJson = pattern is null ? "" : $"\"procedureBaseCodePattern\": {System.Text.Json.JsonSerializer.Serialize(pattern)},";
        var mapper = Compile($$"""
            { "version": "t/1", {{patternJson}} "statusCodes": { "2": 4 },
              "dossier": { "DossierCode": "code", "EventTime": "time", "Status": "status", "ProcedureCode": "procedure" } }
            """);

        var change = mapper.Mapped(Dossier($$"""{ "code": "C-1", "time": "20251118081509", "status": 2, "procedure": "{{code}}" }""")).Change!;

        Assert.Equal(code, change.ProcedureCode);
        Assert.Equal(expected, change.ProcedureBaseCode);
    }

    [Fact]
    public void Mapped_procedure_base_code_is_taken_as_it_is()
    {
        var mapper = Compile("""
            { "version": "t/1", "statusCodes": { "2": 4 },
              "dossier": { "DossierCode": "code", "EventTime": "time", "Status": "status",
                           "ProcedureCode": "procedure.code", "ProcedureBaseCode": "procedure.nationalCode" } }
            """);

        var change = mapper.Mapped(Dossier("""
            { "code": "C-1", "time": "20251118081509", "status": 2, "procedure": { "code": "TT-77", "nationalCode": "1.009994" } }
            """)).Change!;

        Assert.Equal("TT-77", change.ProcedureCode);
        Assert.Equal("1.009994", change.ProcedureBaseCode);
    }

    [Fact]
    public void Unmapped_optional_fields_are_null()
    {
        var mapper = Compile("""
            { "version": "t/1", "statusCodes": { "2": 4 }, "dossier": { "DossierCode": "code", "EventTime": "time", "Status": "status" } }
            """);

        var change = mapper.Mapped(Dossier("""{ "code": "C-1", "time": "20251118081509", "status": 2, "MaTTHC": "1.001612" }""")).Change!;

        Assert.Equal(
            new DossierChange
            {
                SourceSystem = SourceSystem,
                NativeId = "C-1",
                DossierCode = "C-1",
                EventTime = Time("2025-11-18T08:15:09+07:00"),
                Status = NationalStatus.Processing,
                SourceStatus = "2",
                MappingVersion = "t/1",
            },
            change);
    }

    [Fact]
    public void Nested_steps_are_read_relative_to_their_item_and_from_the_dossier_with_a_dollar_path()
    {
        var mapper = Compile("""
            {
              "version": "t/1", "statusCodes": { "2": 4, "3": 9 },
              "dossier": { "NativeId": "id", "DossierCode": "code", "EventTime": "time", "Status": "status" },
              "steps": { "itemsPath": "history.tasks", "fields": {
                "StepTime": { "path": "end", "dateFormats": ["yyyy-MM-dd HH:mm:ss"] },
                "StartedAt": "start", "Deadline": "due", "StatusAfter": "status",
                "Officer": "assignee.name", "OfficerTitle": "assignee.title", "Department": "$.agency.name", "Action": "name"
              } }
            }
            """);

        var mapped = mapper.Mapped(Dossier("""
            { "id": "65a1", "code": "C-1", "time": "20251118081509", "status": 2, "agency": { "name": "UBND xã Quảng Phú" },
              "history": { "tasks": [
                { "name": "Tiếp nhận", "end": "2025-11-18 08:20:00", "start": "2025-11-18T01:00:00Z", "status": 2,
                  "assignee": { "name": "Cán bộ A", "title": "Chuyên viên" } },
                { "name": "Thẩm định", "end": "2025-11-18 14:00:00", "status": "3", "due": "20251119170000" }
              ] } }
            """));

        Assert.Null(mapped.QuarantineReason);
        Assert.Equal(
            [
                new DossierStep
                {
                    SourceSystem = SourceSystem, NativeId = "65a1", StepTime = Time("2025-11-18T08:20:00+07:00"),
                    StartedAt = Time("2025-11-18T01:00:00+00:00"), StatusAfter = NationalStatus.Processing,
                    Officer = "Cán bộ A", OfficerTitle = "Chuyên viên", Department = "UBND xã Quảng Phú", Action = "Tiếp nhận",
                },
                new DossierStep
                {
                    SourceSystem = SourceSystem, NativeId = "65a1", StepTime = Time("2025-11-18T14:00:00+07:00"),
                    Deadline = Time("2025-11-19T17:00:00+07:00"), StatusAfter = NationalStatus.Resolved,
                    Department = "UBND xã Quảng Phú", Action = "Thẩm định",
                },
            ],
            mapped.Steps);
    }

    [Theory]
    [InlineData("\"history\": { \"tasks\": [] }")]
    [InlineData("\"history\": { \"tasks\": null }")]
    [InlineData("\"history\": null")]
    [InlineData("\"other\": 1")]
    public void Dossier_without_nested_steps_has_none(string history)
    {
        var mapper = Compile("""
            { "version": "t/1", "statusCodes": { "2": 4 },
              "dossier": { "DossierCode": "code", "EventTime": "time", "Status": "status" },
              "steps": { "itemsPath": "history.tasks", "fields": { "StepTime": "end" } } }
            """);

        var mapped = mapper.Mapped(Dossier($$"""{ "code": "C-1", "time": "20251118081509", "status": 2, {{history}} }"""));

        Assert.NotNull(mapped.Change);
        Assert.Empty(mapped.Steps);
    }

    [Fact]
    public void Nested_step_native_id_can_be_mapped()
    {
        var mapper = Compile("""
            { "version": "t/1", "statusCodes": { "2": 4 },
              "dossier": { "DossierCode": "code", "EventTime": "time", "Status": "status" },
              "steps": { "itemsPath": "tasks", "fields": { "StepTime": "end", "NativeId": "$.internalId" } } }
            """);

        var mapped = mapper.Mapped(Dossier("""{ "code": "C-1", "internalId": 991, "time": "20251118081509", "status": 2, "tasks": [ { "end": "20251118090000" } ] }"""));

        Assert.Equal("C-1", mapped.Change!.NativeId);
        Assert.Equal("991", Assert.Single(mapped.Steps).NativeId);
    }

    [Fact]
    public void Step_record_is_one_step()
    {
        var mapper = Compile("""
            { "version": "t/1", "statusCodes": { "2": 2 },
              "dossier": { "DossierCode": "code", "EventTime": "time", "Status": "status" },
              "steps": { "fields": { "NativeId": "dossier", "StepTime": "at", "StatusAfter": "status", "Action": { "constant": "Cập nhật" } } } }
            """);

        var mapped = mapper.Mapped(Step("""{ "dossier": "C-1", "at": "20251118090000", "status": "2" }"""));

        Assert.Null(mapped.Change);
        Assert.Null(mapped.QuarantineReason);
        Assert.Equal(
            new DossierStep
            {
                SourceSystem = SourceSystem, NativeId = "C-1", StepTime = Time("2025-11-18T09:00:00+07:00"),
                StatusAfter = NationalStatus.Received, Action = "Cập nhật",
            },
            Assert.Single(mapped.Steps));
    }

    [Fact]
    public void Property_names_in_paths_are_exact_and_may_hold_any_character_but_separators()
    {
        var mapper = Compile("""
            { "version": "t/1", "statusCodes": { "2": 4 },
              "dossier": { "DossierCode": "mã-hồ-sơ", "EventTime": "@time", "Status": "$status", "ProcedureName": "Name" } }
            """);

        var change = mapper.Mapped(Dossier("""{ "mã-hồ-sơ": "C-1", "@time": "20251118081509", "$status": 2, "name": "lower", "Name": "Upper" }""")).Change!;

        Assert.Equal("C-1", change.DossierCode);
        Assert.Equal("Upper", change.ProcedureName);
    }

    private static DossierChange MapOne(string field, string mapping, string valueJson, string definitionExtra = "")
    {
        var baseFields = string.Join(", ", BaseFields.Where(f => f != field).Select(f => f switch
        {
            "DossierCode" => "\"DossierCode\": \"code\"",
            "EventTime" => "\"EventTime\": { \"path\": \"time\", \"dateFormats\": [\"yyyy-MM-dd'T'HH:mm:sszzz\"] }",
            _ => "\"Status\": \"status\"",
        }));
        var mapper = Compile($$"""
            { "version": "t/1", {{definitionExtra}} "statusCodes": { "A": 4, "2": 2 },
              "dossier": { {{baseFields}}, "{{field}}": {{mapping}} } }
            """);
        var mapped = mapper.Mapped(Dossier($$"""{ "code": "C-1", "time": "2025-11-18T08:15:09+07:00", "status": "A", "v": {{valueJson}} }"""));
        Assert.Null(mapped.QuarantineReason);
        return mapped.Change!;
    }

    private static string Render(object? value) => value switch
    {
        null => "null",
        DateTimeOffset date => Exact(date),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };
}
