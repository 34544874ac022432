using System.Text.Json;
using Hub.Connectors.Mapping;
using Hub.Core.Mapping;
using static Hub.Tests.Mapping.MappingKit;

namespace Hub.Tests.Mapping;

public class MappingDefinitionJsonTests
{
    // Every property of the definition, in the order they are written, fields in both forms.
    private const string FullDefinition = """
        {
          "version": "vnpt-h56/3",
          "timeZone": "Asia/Ho_Chi_Minh",
          "dateFormats": ["yyyy-MM-dd'T'HH:mm:ss.fffzzz", "yyyyMMddHHmmss"],
          "statusCodes": { "0": 1, "1": 2, "2": 4 },
          "procedureBaseCodePattern": "^([0-9]+\\.[0-9]+)",
          "dossier": {
            "NativeId": "id",
            "DossierCode": "code",
            "EventTime": { "path": "updatedDate", "timeZone": "+00:00", "dateFormats": ["yyyy-MM-dd HH:mm:ss"] },
            "Status": "dossierStatus.id",
            "ProcedureCode": "procedure.code",
            "ProcedureName": "procedure.translate[0].name",
            "AgencyCode": { "constant": "H56.14" },
            "Channel": { "path": "applyMethod.id", "values": { "0": "2", "1": "1" } }
          },
          "steps": {
            "itemsPath": "tasks",
            "fields": { "StepTime": { "path": "endDate", "dateFormats": ["yyyy-MM-dd HH:mm:ss"] }, "NativeId": "$.id", "Action": "name" }
          }
        }
        """;

    [Fact]
    public void Definition_reads_from_camel_case_json_with_the_string_shorthand()
    {
        var definition = Definition(FullDefinition);

        Assert.Equal("vnpt-h56/3", definition.Version);
        Assert.Equal("Asia/Ho_Chi_Minh", definition.TimeZone);
        Assert.Equal(["yyyy-MM-dd'T'HH:mm:ss.fffzzz", "yyyyMMddHHmmss"], definition.DateFormats);
        Assert.Equal(4, definition.StatusCodes["2"]);
        Assert.Equal("^([0-9]+\\.[0-9]+)", definition.ProcedureBaseCodePattern);
        Assert.Equal(new FieldMapping { Path = "id" }, definition.Dossier["NativeId"]);
        Assert.Equal("updatedDate", definition.Dossier["EventTime"].Path);
        Assert.Equal("+00:00", definition.Dossier["EventTime"].TimeZone);
        Assert.Equal(["yyyy-MM-dd HH:mm:ss"], definition.Dossier["EventTime"].DateFormats!);
        Assert.Equal("H56.14", definition.Dossier["AgencyCode"].Constant);
        Assert.Null(definition.Dossier["AgencyCode"].Path);
        Assert.Equal("2", definition.Dossier["Channel"].Values!["0"]);
        Assert.Equal("tasks", definition.Steps!.ItemsPath);
        Assert.Equal("$.id", definition.Steps.Fields["NativeId"].Path);
    }

    [Fact]
    public void Definition_round_trips_through_json_unchanged()
    {
        var definition = Definition(FullDefinition);

        var written = JsonSerializer.Serialize(definition, Json);

        Assert.True(JsonElement.DeepEquals(Element(FullDefinition), Element(written)), written);
        Assert.Equal(written, JsonSerializer.Serialize(Definition(written), Json));
    }

    [Fact]
    public void Path_only_field_is_written_as_the_string_shorthand()
    {
        var written = Element(JsonSerializer.Serialize(Definition(FullDefinition), Json));

        Assert.Equal(JsonValueKind.String, written.GetProperty("dossier").GetProperty("DossierCode").ValueKind);
        Assert.Equal(JsonValueKind.Object, written.GetProperty("dossier").GetProperty("AgencyCode").ValueKind);
    }

    [Fact]
    public void Round_tripped_definition_maps_the_same()
    {
        var record = Dossier("""
            { "id": "65a1", "code": "H56.14-251118-0107", "updatedDate": "2025-11-18 07:31:12", "dossierStatus": { "id": 2 },
              "procedure": { "code": "1.001612.000.00.00.H56", "translate": [ { "name": "Đăng ký thành lập hộ kinh doanh" } ] },
              "applyMethod": { "id": 0 }, "tasks": [ { "endDate": "2025-11-18 08:02:44", "name": "Tiếp nhận" } ] }
            """);
        var original = RecordMapper.Compile(Definition(FullDefinition)).Mapped(record);

        var roundTripped = RecordMapper.Compile(Definition(JsonSerializer.Serialize(Definition(FullDefinition), Json))).Mapped(record);

        Assert.Null(original.QuarantineReason);
        Assert.Equal(original.Change, roundTripped.Change);
        Assert.Equal(original.Steps, roundTripped.Steps);
        Assert.Equal("2025-11-18T07:31:12.0000000+00:00", Exact(original.Change!.EventTime));
        Assert.Equal("1.001612", original.Change.ProcedureBaseCode);
        Assert.Equal("65a1", Assert.Single(original.Steps).NativeId);
    }

    [Fact]
    public void Constant_may_be_written_as_a_json_number_or_boolean()
    {
        var definition = Definition("""
            { "version": "t/1", "statusCodes": { "2": 4 },
              "dossier": { "DossierCode": "code", "EventTime": "time", "Status": { "constant": 2 }, "PaidOnline": { "constant": true } } }
            """);

        Assert.Equal("2", definition.Dossier["Status"].Constant);
        Assert.Equal("true", definition.Dossier["PaidOnline"].Constant);
        var change = RecordMapper.Compile(definition).Mapped(Dossier("""{ "code": "C-1", "time": "20251118081509" }""")).Change!;
        Assert.Equal(Hub.Contracts.NationalStatus.Processing, change.Status);
        Assert.True(change.PaidOnline);
    }

    [Fact]
    public void Vendor_mapping_file_round_trips()
    {
        var json = Sample("vendor-rest.mapping.json");

        Assert.True(JsonElement.DeepEquals(Element(json), Element(JsonSerializer.Serialize(Definition(json), Json))));
    }

    [Fact]
    public void National_portal_definition_round_trips_through_json()
    {
        var written = JsonSerializer.Serialize(NationalPortalMapping.Definition, Json);

        var read = Definition(written);

        Assert.Equal(written, JsonSerializer.Serialize(read, Json));
        Assert.Equal(NationalPortalMapping.Version, read.Version);
        Assert.Equal("MaHoSo", read.Dossier["DossierCode"].Path);
    }
}
