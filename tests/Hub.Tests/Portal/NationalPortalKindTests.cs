using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors;
using Hub.Connectors.BuiltIn;
using Hub.Connectors.BuiltIn.NationalPortal;
using Hub.Core.Mapping;
using Hub.Core.Sync;
using Hub.Simulator;
using Hub.Simulator.Portal;
using Hub.Worker.Sync;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NJsonSchema;

namespace Hub.Tests.Portal;

/// <summary>The national-portal kind without HTTP: configuration, envelope reading, the rows handed to the mapping, the simulator's truth.</summary>
public class NationalPortalKindTests
{
    private static readonly DateTimeOffset Received = new(2026, 11, 23, 2, 0, 0, TimeSpan.Zero);

    private static JsonElement Config(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static PortalEnvelope Envelope(string json, string? pathService = null)
    {
        var envelope = PortalEnvelope.Read(Encoding.UTF8.GetBytes(json), pathService, out var problems);
        Assert.True(envelope is not null, string.Join("; ", problems));
        return envelope;
    }

    [Fact]
    public void The_kind_is_registered_by_AddHubSync_as_a_push_kind()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.AddHubSync();
        using var services = builder.Services.BuildServiceProvider();

        var kind = Assert.Single(services.GetServices<IConnectorKind>(), k => k.Name == "national-portal");
        Assert.IsAssignableFrom<IPushConnectorKind>(kind);
    }

    [Fact]
    public async Task The_configuration_schema_is_valid_and_marks_the_password_as_a_secret()
    {
        var kind = new NationalPortalConnectorKind();
        var schema = await JsonSchema.FromJsonAsync(kind.ConfigurationSchema);

        Assert.True(JsonNode.Parse(kind.ConfigurationSchema)!["properties"]!["password"]!["x-secret"]!.GetValue<bool>());
        Assert.Null(JsonNode.Parse(kind.ConfigurationSchema)!["properties"]!["username"]!["x-secret"]);
        Assert.Empty(schema.Validate("""{"username":"h56_motcua","password":"p","madonvi":["000.00.00.H56"],"sessionLifetime":"1.00:00:00"}"""));
        Assert.NotEmpty(schema.Validate("""{"username":"h56_motcua"}"""));
        Assert.NotEmpty(schema.Validate("""{"username":"u","password":"p","sessionLifetime":"8 hours"}"""));
    }

    [Fact]
    public void Settings_have_defaults_and_never_print_the_password()
    {
        var settings = NationalPortalSettings.Parse(Config("""{"username":"h56_motcua","password":"s3cret-value"}"""));

        Assert.Equal(TimeSpan.FromHours(8), settings.SessionLifetime);
        Assert.Empty(settings.AgencyCodes);
        Assert.True(settings.MaySendFor("any.agency"));
        Assert.True(settings.CredentialsMatch("h56_motcua", "s3cret-value"));
        Assert.False(settings.CredentialsMatch("h56_motcua", "s3cret-valuE"));
        Assert.False(settings.CredentialsMatch("h57_motcua", "s3cret-value"));
        Assert.DoesNotContain("s3cret-value", settings.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_stamp_changes_with_the_credentials()
    {
        var before = NationalPortalSettings.Parse(Config("""{"username":"u","password":"p1"}"""));
        var after = NationalPortalSettings.Parse(Config("""{"username":"u","password":"p2"}"""));

        Assert.Equal(before.CredentialStamp(), NationalPortalSettings.Parse(Config("""{"username":"u","password":"p1"}""")).CredentialStamp());
        Assert.NotEqual(before.CredentialStamp(), after.CredentialStamp());
    }

    [Fact]
    public void Every_configuration_problem_is_listed_at_once_without_quoting_the_password()
    {
        var e = Assert.Throws<ConnectorException>(() => NationalPortalSettings.Parse(Config(
            """{"password":"leaked-if-quoted","madonvi":["H56", "", "H56", 7],"sessionLifetime":"00:00:10","url":"x"}""")));

        Assert.Equal(FailureSide.Configuration, e.Side);
        Assert.False(e.Retryable);
        Assert.Contains("url: is not a setting", e.Message, StringComparison.Ordinal);
        Assert.Contains("username: is required", e.Message, StringComparison.Ordinal);
        Assert.Contains("madonvi[1]:", e.Message, StringComparison.Ordinal);
        Assert.Contains("madonvi[2]: 'H56' is listed twice", e.Message, StringComparison.Ordinal);
        Assert.Contains("madonvi[3]: must be a string", e.Message, StringComparison.Ordinal);
        Assert.Contains("sessionLifetime: must be a duration", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("leaked-if-quoted", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_envelope_takes_its_service_from_the_path_and_reads_isUpdating_as_real_clients_send_it()
    {
        var fromPath = Envelope("""{"session":"s","madonvi":"H56","data":[]}""", "CapNhatTienDoHoSoMC");
        var updating = Envelope("""{"session":"s","madonvi":"H56","service":"DongBoHoSoMC","isUpdating":"True","data":[{}]}""");
        var inserting = Envelope("""{"session":"s","madonvi":"H56","service":"DongBoHoSoMC","isUpdating":"false","data":[]}""");
        var absent = Envelope("""{"session":"s","madonvi":"H56","service":"DongBoHoSoMC","data":[]}""");

        Assert.Equal("CapNhatTienDoHoSoMC", fromPath.Service);
        Assert.True(updating.IsUpdating);
        Assert.Single(updating.Rows);
        Assert.False(inserting.IsUpdating);
        Assert.False(absent.IsUpdating);
    }

    [Fact]
    public void An_envelope_whose_body_and_path_name_different_services_is_malformed()
    {
        var envelope = PortalEnvelope.Read(Encoding.UTF8.GetBytes("""{"madonvi":"H56","service":"DongBoHoSoMC","data":[]}"""), "CapNhatTienDoHoSoMC", out var problems);

        Assert.Null(envelope);
        Assert.Contains("service 'DongBoHoSoMC' in the body differs from 'CapNhatTienDoHoSoMC' in the path", Assert.Single(problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Dossier_rows_lose_their_personal_fields_and_get_the_agency_and_NgayCapNhat_as_event_time()
    {
        var receiver = new NationalPortalReceiver(NationalPortalSettings.Parse(Config("""{"username":"u","password":"p"}""")));
        var envelope = Envelope("""
            {"session":"s","madonvi":"000.00.00.H56","service":"DongBoHoSoMC","data":[
              {"MaHoSo":"A","TrangThaiHoSo":"4","ChuHoSo":"Nguyễn Văn A","DinhDanhCHS":[{"SoDinhDanh":"038190012345"}],"SoDienThoai":"0912",
               "Email":"a@b.vn","NgayCapNhat":"20251117140512","_madonvi":"spoofed","_eventTime":"20000101000000"}]}
            """);

        var accepted = receiver.Accept(envelope, Received);

        Assert.False(accepted.IsRefused);
        var record = Assert.Single(accepted.Records);
        Assert.Equal(RawRecordKind.Dossier, record.Kind);
        var row = record.Payload;
        Assert.False(row.TryGetProperty("ChuHoSo", out _));
        Assert.False(row.TryGetProperty("DinhDanhCHS", out _));
        Assert.False(row.TryGetProperty("SoDienThoai", out _));
        Assert.False(row.TryGetProperty("Email", out _));
        Assert.Equal("000.00.00.H56", row.GetProperty("_madonvi").GetString());
        Assert.Equal("20251117140512", row.GetProperty("_eventTime").GetString());
        var change = NationalPortalMapping.Mapper.Map(record, "sys").Change!;
        Assert.Equal(new DateTimeOffset(2025, 11, 17, 14, 5, 12, TimeSpan.FromHours(7)), change.EventTime);
        Assert.Equal("000.00.00.H56", change.AgencyCode);
    }

    [Fact]
    public void Without_NgayCapNhat_rows_get_the_receive_time_and_a_later_row_of_the_post_is_newer()
    {
        var receiver = new NationalPortalReceiver(NationalPortalSettings.Parse(Config("""{"username":"u","password":"p"}""")));
        var envelope = Envelope("""
            {"session":"s","madonvi":"H56","service":"DongBoHoSoMC","data":[
              {"MaHoSo":"A","TrangThaiHoSo":"4"},{"MaHoSo":"A","TrangThaiHoSo":"9","NgayCapNhat":""}]}
            """);

        var changes = receiver.Accept(envelope, Received).Records.Select(r => NationalPortalMapping.Mapper.Map(r, "sys").Change!).ToList();

        Assert.Equal(Received, changes[0].EventTime);
        Assert.Equal(Received.AddTicks(1), changes[1].EventTime);
    }

    [Fact]
    public async Task Step_rows_are_step_records_and_the_generic_push_path_is_refused()
    {
        var receiver = new NationalPortalReceiver(NationalPortalSettings.Parse(Config("""{"username":"u","password":"p"}""")));
        var accepted = receiver.Accept(Envelope("""{"madonvi":"H56","service":"CapNhatTienDoHoSoMC","data":[{"MaHoSo":"A","ThoiDiemXuLy":"20251117093040"}]}"""), Received);
        var pushed = await receiver.AcceptAsync(new PushMessage(new Dictionary<string, string>(), "{}"u8.ToArray(), Received), CancellationToken.None);

        Assert.Equal(RawRecordKind.Step, Assert.Single(accepted.Records).Kind);
        Assert.Equal(PushRejectionKind.Unauthenticated, pushed.Rejection?.Kind);
        Assert.Contains("/portal/sync", pushed.Rejection!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_simulators_registration_file_uses_the_built_in_mapping()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "Connectors", "national-portal.connector.json");
        var registration = JsonSerializer.Deserialize<ConnectorRegistration>(File.ReadAllText(file), ConnectorCatalog.Json)!;

        Assert.Equal("national-portal", registration.Kind);
        Assert.Equal(
            JsonSerializer.Serialize(NationalPortalMapping.Definition, ConnectorCatalog.Json),
            JsonSerializer.Serialize(registration.Mapping, ConnectorCatalog.Json));
    }

    [Fact]
    public void Whole_second_times_give_every_revision_of_a_dossier_its_own_second()
    {
        var window = new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero);
        var options = new ProvinceOptions { Dossiers = 500, Seed = 3, Start = window, End = window.AddDays(20), WholeSecondTimes = true };
        var truth = new SimulatedProvince(options).Truth;

        Assert.All(truth.Changes, c =>
        {
            Assert.Equal(0, c.EventTime.UtcTicks % TimeSpan.TicksPerSecond);
            Assert.Equal(0, c.SubmittedAt!.Value.UtcTicks % TimeSpan.TicksPerSecond);
        });
        Assert.All(truth.Changes.GroupBy(c => c.NativeId), g =>
        {
            var times = g.OrderBy(c => c.SourceVersion).Select(c => c.EventTime).ToList();
            Assert.True(times.Zip(times.Skip(1)).All(p => p.First < p.Second));
        });
        Assert.Contains(new SimulatedProvince(options with { WholeSecondTimes = false }).Truth.Changes, c => c.EventTime.UtcTicks % TimeSpan.TicksPerSecond != 0);
    }

    [Fact]
    public void The_portal_truth_is_keyed_by_dossier_code_with_national_codes_whole_seconds_and_the_built_in_mapping_version()
    {
        var window = new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero);
        var province = new SimulatedProvince(new ProvinceOptions { Dossiers = 300, Seed = 4, Start = window, End = window.AddDays(20) });

        var truth = PortalTruth.Of(province, "h56-portal");

        Assert.Equal(NationalPortalMapping.Version, PortalTruth.MappingVersion);
        Assert.Equal(province.Truth.Changes.Count, truth.Changes.Count);
        Assert.Equal(province.Truth.Steps.Count, truth.Steps.Count);
        Assert.All(truth.Changes, c =>
        {
            Assert.Equal("h56-portal", c.SourceSystem);
            Assert.Equal(c.DossierCode, c.NativeId);
            Assert.Null(c.SourceVersion);
            Assert.Equal(((int)c.Status).ToString(System.Globalization.CultureInfo.InvariantCulture), c.SourceStatus);
            Assert.Equal(0, c.EventTime.UtcTicks % TimeSpan.TicksPerSecond);
            Assert.Equal("national-portal/1", c.MappingVersion);
        });
        var codes = truth.Changes.Select(c => c.DossierCode).ToHashSet();
        Assert.All(truth.Steps, s => Assert.Contains(s.NativeId, codes));
        Assert.Equal(
            province.Truth.Changes.Select(c => (c.DossierCode, c.Status, c.EventTime.UtcTicks / TimeSpan.TicksPerSecond)),
            truth.Changes.Select(c => (c.DossierCode, c.Status, c.EventTime.UtcTicks / TimeSpan.TicksPerSecond)));
        Assert.DoesNotContain(truth.Changes, c => c.ApplicantType is null || c.Channel is null || c.AgencyCode is null);
    }
}
