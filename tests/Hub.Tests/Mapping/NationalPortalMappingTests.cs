using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors;
using Hub.Contracts;
using Hub.Core.Mapping;
using static Hub.Tests.Mapping.MappingKit;

namespace Hub.Tests.Mapping;

public class NationalPortalMappingTests
{
    private const string DossierCode = "000.00.15.H56-251117-0042";

    /// <summary>The sample's dossier rows as the hub's adapter hands them over: with <c>_eventTime</c> and the envelope's <c>_madonvi</c>.</summary>
    public static IReadOnlyList<RawRecord> DossierRecords(string eventTime = "2025-11-17T14:05:12.5000000+07:00")
    {
        var envelope = JsonNode.Parse(Sample("national-portal-DongBoHoSoMC.json"))!;
        return [.. envelope["data"]!.AsArray().Select(row =>
        {
            var copy = row!.DeepClone().AsObject();
            copy[NationalPortalMapping.EventTimeField] = eventTime;
            copy[NationalPortalMapping.AgencyCodeField] = envelope["madonvi"]!.GetValue<string>();
            return new RawRecord(RawRecordKind.Dossier, JsonSerializer.SerializeToElement(copy));
        })];
    }

    public static IReadOnlyList<RawRecord> StepRecords() =>
        [.. Element(Sample("national-portal-CapNhatTienDoHoSoMC.json")).GetProperty("data").EnumerateArray().Select(row => new RawRecord(RawRecordKind.Step, row))];

    [Fact]
    public void Dong_bo_ho_so_row_maps_to_the_canonical_change()
    {
        var mapped = NationalPortalMapping.Mapper.Map(Assert.Single(DossierRecords()), "h56-onegate");

        Assert.Null(mapped.QuarantineReason);
        Assert.Empty(mapped.Steps);
        Assert.Equal(
            new DossierChange
            {
                SourceSystem = "h56-onegate",
                NativeId = DossierCode,
                DossierCode = DossierCode,
                EventTime = Time("2025-11-17T14:05:12.5+07:00"),
                ProcedureCode = "1.001612",
                ProcedureBaseCode = "1.001612",
                ProcedureName = "Đăng ký thành lập hộ kinh doanh",
                SectorCode = "G15-KH01",
                AgencyCode = "000.00.00.H56",
                HandlingUnit = "Phòng Tài chính - Kế hoạch",
                ApplicantType = ApplicantType.Citizen,
                Channel = Channel.Online,
                PaidOnline = true,
                SubmittedAt = Time("2025-11-17T08:15:22+07:00"),
                ReceivedAt = Time("2025-11-17T09:30:40+07:00"),
                DueAt = Time("2025-11-20T17:00:00+07:00"),
                Status = NationalStatus.Processing,
                SourceStatus = "4",
                MappingVersion = "national-portal/1",
            },
            mapped.Change);
        Assert.Equal("2025-11-20T17:00:00.0000000+07:00", Exact(mapped.Change!.DueAt));
        Assert.Equal("2025-11-17T14:05:12.5000000+07:00", Exact(mapped.Change.EventTime));
    }

    [Fact]
    public void Event_time_may_come_in_the_protocol_date_format()
    {
        var mapped = NationalPortalMapping.Mapper.Map(Assert.Single(DossierRecords("20251117140512")), "h56-onegate");

        Assert.Equal("2025-11-17T14:05:12.0000000+07:00", Exact(mapped.Change!.EventTime));
    }

    [Fact]
    public void Row_without_the_added_event_time_is_quarantined()
    {
        var row = JsonNode.Parse(Sample("national-portal-DongBoHoSoMC.json"))!["data"]![0]!;

        var mapped = NationalPortalMapping.Mapper.Map(new RawRecord(RawRecordKind.Dossier, JsonSerializer.SerializeToElement(row)), "h56-onegate");

        Assert.Equal("EventTime at path '_eventTime' is missing", mapped.QuarantineReason);
    }

    [Fact]
    public void Cap_nhat_tien_do_rows_map_to_the_canonical_steps()
    {
        var steps = StepRecords().Select(r => NationalPortalMapping.Mapper.Map(r, "h56-onegate")).ToList();

        Assert.All(steps, s => Assert.Null(s.QuarantineReason));
        Assert.All(steps, s => Assert.Null(s.Change));
        Assert.Equal(
            [
                new DossierStep
                {
                    SourceSystem = "h56-onegate",
                    NativeId = DossierCode,
                    StepTime = Time("2025-11-17T09:30:40+07:00"),
                    Officer = "Lê Văn Tâm",
                    OfficerTitle = "Chuyên viên",
                    Department = "Bộ phận Một cửa",
                    Action = "Tiếp nhận hồ sơ",
                    StatusAfter = NationalStatus.Received,
                    StartedAt = Time("2025-11-17T09:30:40+07:00"),
                    Deadline = Time("2025-11-17T17:00:00+07:00"),
                },
                new DossierStep
                {
                    SourceSystem = "h56-onegate",
                    NativeId = DossierCode,
                    StepTime = Time("2025-11-17T14:05:12+07:00"),
                    Officer = "Trần Quốc Bảo",
                    OfficerTitle = "Chuyên viên",
                    Department = "Phòng Tài chính - Kế hoạch",
                    Action = "Thẩm định hồ sơ",
                    StatusAfter = NationalStatus.Processing,
                    StartedAt = Time("2025-11-17T14:05:12+07:00"),
                    Deadline = Time("2025-11-19T17:00:00+07:00"),
                },
            ],
            steps.Select(s => Assert.Single(s.Steps)));
        Assert.Equal("2025-11-17T09:30:40.0000000+07:00", Exact(steps[0].Steps[0].StepTime));
    }

    [Theory]
    [InlineData("1", NationalStatus.Submitted)]
    [InlineData("2", NationalStatus.Received)]
    [InlineData("3", NationalStatus.RefusedAtIntake)]
    [InlineData("4", NationalStatus.Processing)]
    [InlineData("5", NationalStatus.SupplementRequested)]
    [InlineData("6", NationalStatus.FinancialObligationRequired)]
    [InlineData("7", NationalStatus.WithdrawnByApplicant)]
    [InlineData("8", NationalStatus.ProcessingStopped)]
    [InlineData("9", NationalStatus.Resolved)]
    [InlineData("10", NationalStatus.ResultReturned)]
    public void Portal_status_codes_are_the_national_codes(string code, NationalStatus expected)
    {
        var row = Row(("TrangThaiHoSo", code));

        Assert.Equal(expected, NationalPortalMapping.Mapper.Map(row, "h56").Change!.Status);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("11")]
    [InlineData("04")]
    public void Portal_status_outside_the_national_codes_is_unmapped(string code) =>
        Assert.Equal($"unmapped code {code} (Status at path 'TrangThaiHoSo')", NationalPortalMapping.Mapper.Map(Row(("TrangThaiHoSo", code)), "h56").QuarantineReason);

    [Fact]
    public void Portal_dates_are_vietnam_time_and_other_shapes_are_refused()
    {
        var refused = Row(("NgayTuChoi", "20251118100000"));
        var iso = Row(("NgayHenTra", "2025-11-20T17:00:00"));

        Assert.Equal("2025-11-18T10:00:00.0000000+07:00", Exact(NationalPortalMapping.Mapper.Map(refused, "h56").Change!.RefusedAt));
        Assert.Equal(
            "DueAt at path 'NgayHenTra': '2025-11-20T17:00:00' is not a date in format(s) yyyyMMddHHmmss",
            NationalPortalMapping.Mapper.Map(iso, "h56").QuarantineReason);
    }

    [Fact]
    public void Portal_mapping_leaves_the_owner_out()
    {
        Assert.DoesNotContain(NationalPortalMapping.Definition.Dossier.Values, f => f.Path is "ChuHoSo" or "DinhDanhCHS" or "SoDienThoai" or "Email");
        Assert.Equal(NationalPortalMapping.Version, NationalPortalMapping.Mapper.Version);
    }

    private static RawRecord Row(params (string Name, string Value)[] changes)
    {
        var row = JsonNode.Parse(DossierRecords().Single().Payload.GetRawText())!.AsObject();
        foreach (var (name, value) in changes)
        {
            row[name] = value;
        }

        return new RawRecord(RawRecordKind.Dossier, JsonSerializer.SerializeToElement(row));
    }
}
