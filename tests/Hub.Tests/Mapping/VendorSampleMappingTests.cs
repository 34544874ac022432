using System.Text.Json;
using Hub.Connectors;
using Hub.Contracts;
using Hub.Core.Mapping;
using static Hub.Tests.Mapping.MappingKit;

namespace Hub.Tests.Mapping;

public class VendorSampleMappingTests
{
    public static RawRecord SampleRecord() =>
        new(RawRecordKind.Dossier, Element(Sample("vendor-rest-search-page.json")).GetProperty("content")[0]);

    public static RecordMapper VendorMapper() => Compile(Sample("vendor-rest.mapping.json"));

    [Fact]
    public void Vendor_search_item_maps_to_the_canonical_change()
    {
        var mapped = VendorMapper().Map(SampleRecord(), "h56-vendor");

        Assert.Null(mapped.QuarantineReason);
        Assert.Empty(mapped.Steps);
        Assert.Equal(
            new DossierChange
            {
                SourceSystem = "h56-vendor",
                NativeId = "6571f0c2b1e4a93d2c18f0a1",
                DossierCode = "H56.14-251118-0107",
                EventTime = Time("2025-11-18T07:31:12+00:00"),
                ProcedureCode = "1.001612.000.00.00.H56",
                ProcedureBaseCode = "1.001612",
                ProcedureName = "Đăng ký thành lập hộ kinh doanh",
                AgencyCode = "H56.14",
                HandlingUnit = "UBND xã Quảng Phú",
                Channel = Channel.Online,
                SubmittedAt = Time("2025-11-18T01:15:09+00:00"),
                ReceivedAt = Time("2025-11-18T02:02:44+00:00"),
                DueAt = Time("2025-11-21T10:00:00+00:00"),
                Status = NationalStatus.Processing,
                SourceStatus = "2",
                MappingVersion = "vendor-h56/1",
            },
            mapped.Change);
        Assert.Equal("2025-11-18T07:31:12.0000000+00:00", Exact(mapped.Change!.EventTime));
    }

    [Fact]
    public void Every_item_of_a_vendor_page_is_a_dossier_record()
    {
        var page = Element(Sample("vendor-rest-search-page.json"));
        var mapper = VendorMapper();

        var mapped = page.GetProperty("content").EnumerateArray().Select(item => mapper.Map(new RawRecord(RawRecordKind.Dossier, item), "h56-vendor")).ToList();

        Assert.All(mapped, m => Assert.Null(m.QuarantineReason));
        Assert.Equal(page.GetProperty("totalElements").GetInt32(), mapped.Count);
    }

    [Fact]
    public void New_vendor_status_is_quarantined_as_an_unmapped_code()
    {
        var item = System.Text.Json.Nodes.JsonNode.Parse(SampleRecord().Payload.GetRawText())!;
        item["dossierStatus"]!["id"] = 12;

        var mapped = VendorMapper().Map(new RawRecord(RawRecordKind.Dossier, JsonSerializer.SerializeToElement(item)), "h56-vendor");

        Assert.Equal("unmapped code 12 (Status at path 'dossierStatus.id')", mapped.QuarantineReason);
    }
}
