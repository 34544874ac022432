using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors;
using Hub.Contracts;
using Hub.Core.Mapping;
using static Hub.Tests.Mapping.MappingKit;

namespace Hub.Tests.Mapping;

public class MapperPropertiesTests
{
    // Personal data in the samples: owner names and personal ids.
    private static readonly string[] PersonalData = ["Nguyễn Thị Hồng Nhung", "038190012345", "Phạm Minh Đức", "038095004321"];

    [Fact]
    public void Canonical_field_names_are_the_contract_properties_the_hub_does_not_set()
    {
        string[] setByHub = [nameof(DossierChange.SourceSystem), nameof(DossierChange.MappingVersion)];

        Assert.Equal(
            typeof(DossierChange).GetProperties().Select(p => p.Name).Except(setByHub).Order(),
            Enum.GetNames<DossierField>().Order());
        Assert.Equal(
            typeof(DossierStep).GetProperties().Select(p => p.Name).Except(setByHub).Order(),
            Enum.GetNames<StepField>().Order());
    }

    [Fact]
    public void Canonical_field_types_follow_the_contract_property_types()
    {
        foreach (var (type, set) in new[] { (typeof(DossierChange), FieldSet.Dossier), (typeof(DossierStep), FieldSet.Step) })
        {
            for (var i = 0; i < set.Names.Count; i++)
            {
                var property = type.GetProperty(set.Names[i])!.PropertyType;
                var clr = Nullable.GetUnderlyingType(property) ?? property;
                var expected = clr == typeof(string) ? FieldType.Text
                    : clr == typeof(DateTimeOffset) ? FieldType.Date
                    : clr == typeof(long) ? FieldType.Integer
                    : clr == typeof(NationalStatus) ? FieldType.Status
                    : clr == typeof(ApplicantType) ? FieldType.ApplicantType
                    : clr == typeof(Channel) ? FieldType.Channel
                    : clr == typeof(bool) ? FieldType.Boolean
                    : throw new InvalidOperationException($"No field type for {clr}");
                Assert.True(expected == set.Types[i], $"{type.Name}.{set.Names[i]}: {set.Types[i]}, expected {expected}");
            }
        }
    }

    [Fact]
    public void Personal_data_never_appears_in_mapped_records()
    {
        var outputs = NationalPortalMappingTests.DossierRecords().Concat(NationalPortalMappingTests.StepRecords())
            .Select(r => NationalPortalMapping.Mapper.Map(r, "h56"))
            .Append(VendorSampleMappingTests.VendorMapper().Map(VendorSampleMappingTests.SampleRecord(), "h56-vendor"));

        AssertNoPersonalData(outputs);
    }

    [Fact]
    public void Personal_data_never_appears_in_quarantine_reasons()
    {
        var portal = NationalPortalMappingTests.DossierRecords().Single().Payload;
        var vendor = VendorSampleMappingTests.SampleRecord().Payload;
        var pointingAtPersonalData = Compile("""
            { "version": "t/1", "statusCodes": { "2": 4 },
              "dossier": { "DossierCode": "code", "EventTime": "updatedDate", "Status": "dossierStatus.id",
                           "ProcedureName": "applicant", "HandlingUnit": "applicant.data", "SectorCode": "applicant.data.fullname.x" } }
            """);
        var portalPointingAtPersonalData = RecordMapper.Compile(NationalPortalMapping.Definition with
        {
            Dossier = new Dictionary<string, Hub.Connectors.Mapping.FieldMapping>(NationalPortalMapping.Definition.Dossier)
            {
                ["HandlingUnit"] = "DinhDanhCHS",
                ["SectorCode"] = "DinhDanhCHS[0]",
                ["ProcedureName"] = "ChuHoSo.ten",
            },
        });

        MappedRecord[] outputs =
        [
            pointingAtPersonalData.Mapped(new RawRecord(RawRecordKind.Dossier, vendor)),
            portalPointingAtPersonalData.Mapped(new RawRecord(RawRecordKind.Dossier, portal)),
            NationalPortalMapping.Mapper.Mapped(new RawRecord(RawRecordKind.Dossier, With(portal, ("TrangThaiHoSo", "99"), ("NgayHenTra", "x"), ("MaHoSo", "")))),
            NationalPortalMapping.Mapper.Mapped(new RawRecord(RawRecordKind.Step, portal)),
            VendorSampleMappingTests.VendorMapper().Mapped(new RawRecord(RawRecordKind.Dossier, With(vendor, ("updatedDate", "bad"), ("code", null)))),
            Compile("""
                { "version": "t/1", "statusCodes": { "2": 4 }, "dossier": { "DossierCode": "code", "EventTime": "updatedDate", "Status": "dossierStatus.id" },
                  "steps": { "itemsPath": "applicant.data", "fields": { "StepTime": "fullname" } } }
                """).Mapped(new RawRecord(RawRecordKind.Dossier, vendor)),
            Compile("""
                { "version": "t/1", "statusCodes": { "2": 4 }, "dossier": { "DossierCode": "code", "EventTime": "updatedDate", "Status": "dossierStatus.id" },
                  "steps": { "itemsPath": "DinhDanhCHS", "fields": { "StepTime": "LoaiDinhDanh", "Action": "SoDinhDanh" } } }
                """).Mapped(new RawRecord(RawRecordKind.Dossier, With(portal, ("code", "C-1"), ("updatedDate", "20251118081509"), ("dossierStatus", null)))),
        ];

        Assert.All(outputs, o => Assert.NotNull(o.QuarantineReason));
        AssertNoPersonalData(outputs);
    }

    [Fact]
    public void Mapping_is_deterministic_across_compilations_threads_and_cultures()
    {
        var records = NationalPortalMappingTests.DossierRecords().Concat(NationalPortalMappingTests.StepRecords())
            .Concat([new RawRecord(RawRecordKind.Dossier, With(NationalPortalMappingTests.DossierRecords().Single().Payload, ("TrangThaiHoSo", "99"), ("NgayTra", "x")))])
            .ToArray();
        var expected = records.Select(r => Text(NationalPortalMapping.Mapper.Map(r, "h56"))).ToArray();

        var recompiled = RecordMapper.Compile(NationalPortalMapping.Definition);
        var parallel = new string[records.Length * 500];
        Parallel.For(0, parallel.Length, i => parallel[i] = Text(recompiled.Map(records[i % records.Length], "h56")));

        Assert.All(Enumerable.Range(0, parallel.Length), i => Assert.Equal(expected[i % records.Length], parallel[i]));
        var culture = CultureInfo.CurrentCulture;
        try
        {
            foreach (var name in new[] { "vi-VN", "ar-SA", "th-TH", "fa-IR" })
            {
                CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(name);
                Assert.Equal(expected, records.Select(r => Text(RecordMapper.Compile(NationalPortalMapping.Definition).Map(r, "h56"))));
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public void Mapping_the_same_record_twice_gives_equal_records()
    {
        var record = NationalPortalMappingTests.DossierRecords().Single();

        var first = NationalPortalMapping.Mapper.Map(record, "h56");
        var second = NationalPortalMapping.Mapper.Map(record, "h56");

        Assert.Equal(first.Change, second.Change);
        Assert.Equal(first.Steps, second.Steps);
    }

    [Fact]
    public void Source_system_is_required()
    {
        var record = NationalPortalMappingTests.DossierRecords().Single();

        Assert.Throws<ArgumentException>(() => NationalPortalMapping.Mapper.Map(record, " "));
        Assert.Throws<ArgumentNullException>(() => NationalPortalMapping.Mapper.Map(record, null!));
        Assert.Throws<ArgumentNullException>(() => NationalPortalMapping.Mapper.Map(null!, "h56"));
        Assert.Throws<ArgumentNullException>(() => RecordMapper.Compile(null!));
    }

    private static void AssertNoPersonalData(IEnumerable<MappedRecord> outputs)
    {
        foreach (var output in outputs)
        {
            var text = AllText(output) + JsonSerializer.Serialize(output, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            foreach (var personal in PersonalData)
            {
                Assert.DoesNotContain(personal, text, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>Exact text of a mapped record, offsets included, for comparisons.</summary>
    private static string Text(MappedRecord mapped) =>
        JsonSerializer.Serialize(mapped, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static JsonElement With(JsonElement payload, params (string Name, string? Value)[] changes)
    {
        var node = JsonNode.Parse(payload.GetRawText())!.AsObject();
        foreach (var (name, value) in changes)
        {
            node.Remove(name);
            if (value is not null)
            {
                node[name] = value;
            }
        }

        return JsonSerializer.SerializeToElement(node);
    }
}
