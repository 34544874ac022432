using System.Text.Json;
using Hub.Connectors;
using Hub.Connectors.BuiltIn;
using Hub.Tests.Infrastructure;
using Hub.Worker.Sync;

namespace Hub.Tests.Registration;

/// <summary>Registration files go through the validation of <c>POST /api/connectors/validate</c>, so the two cannot disagree.</summary>
public sealed class ConnectorFileValidationTests : IDisposable
{
    private static readonly ConnectorValidation Validation = new(new ConnectorKinds(
        [new RestPullConnectorKind(), new JsonWebhookConnectorKind(), new NationalPortalConnectorKind(), new SignedXmlConnectorKind()]));

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("hub-connector-files-");

    public void Dispose() => _folder.Delete(recursive: true);

    private static string Simulator(string name) =>
        File.ReadAllText(Path.Combine(RepoRoot.Path, "src", "Hub.Simulator", "Connectors", name))
            .Replace("{{baseUrl}}", "http://127.0.0.1:9", StringComparison.Ordinal)
            .Replace("{{sourceSystem}}", "h57-files", StringComparison.Ordinal)
            .Replace("{{username}}", "h57", StringComparison.Ordinal)
            .Replace("{{password}}", "a-password", StringComparison.Ordinal);

    private string Write(string json)
    {
        var file = Path.Combine(_folder.FullName, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(file, json);
        return file;
    }

    [Theory]
    [InlineData("vendor-rest.connector.json", "h57-files-rest")]
    [InlineData("national-portal.connector.json", "h57-files-portal")]
    public void The_registration_files_in_the_repository_are_valid(string name, string id)
    {
        var registration = ConnectorFiles.Read(Write(Simulator(name)), Validation);

        Assert.Equal(id, registration.Id);
        Assert.Empty(Validation.Validate(JsonDocument.Parse(Simulator(name)).RootElement, out _));
    }

    [Fact]
    public void A_bad_file_is_refused_naming_the_file_and_every_field()
    {
        var json = Simulator("vendor-rest.connector.json")
            .Replace("\"*/1 * * * *\"", "\"*/1 * * *\"", StringComparison.Ordinal)
            .Replace("\"clientSecret\": \"simulator-secret\"", "\"clientSecretX\": \"simulator-secret\"", StringComparison.Ordinal);
        var file = Write(json);

        var e = Assert.Throws<InvalidOperationException>(() => ConnectorFiles.Read(file, Validation));

        Assert.StartsWith($"Connector file '{file}' is not a valid registration (3 problem(s)):", e.Message, StringComparison.Ordinal);
        Assert.Contains("\n- schedule: '*/1 * * *' has 4 field(s); expected a cron expression", e.Message, StringComparison.Ordinal);
        Assert.Contains("\n- configuration.auth.clientSecret: is missing (a secret)", e.Message, StringComparison.Ordinal);
        Assert.Contains("\n- configuration.auth.clientSecretX: is not a known property", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("simulator-secret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_kind_without_its_own_check_is_checked_against_its_schema_only()
    {
        IConnectorKind kind = new Hub.Tests.Sync.ScriptedPullKind();

        Assert.Empty(kind.CheckConfiguration(JsonDocument.Parse("{}").RootElement));
    }

    [Theory]
    [InlineData("Dossier.DueAt.DateFormats[1] 'Q' is not a valid .NET date format", "mapping.dossier.DueAt.dateFormats.1")]
    [InlineData("StatusCodes['9'] is 11: national statuses are 1 to 10", "mapping.statusCodes.9")]
    [InlineData("Steps.Fields: required field 'NativeId' is not mapped: steps that come as records of their own", "mapping.steps.fields.NativeId")]
    [InlineData("Steps.ItemsPath: the path is empty", "mapping.steps.itemsPath")]
    [InlineData("Dossier: field 'SourceSystem' is set by the hub and cannot be mapped", "mapping.dossier.SourceSystem")]
    [InlineData("ProcedureBaseCodePattern '(' is not a valid regular expression: x", "mapping.procedureBaseCodePattern")]
    [InlineData("TimeZone: the time zone is empty", "mapping.timeZone")]
    [InlineData("Dossier is missing: it maps at least DossierCode, EventTime and Status", "mapping.dossier")]
    public void Mapping_messages_become_fields(string message, string field) =>
        Assert.Equal(field, ConnectorValidation.MappingError(message).Field);
}
