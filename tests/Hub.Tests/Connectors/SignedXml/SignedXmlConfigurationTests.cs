using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors;
using Hub.Connectors.BuiltIn;
using Hub.Connectors.BuiltIn.SignedXml;
using Hub.Tests.Xml;
using Microsoft.Extensions.Logging.Abstractions;
using NJsonSchema;

namespace Hub.Tests.Connectors.SignedXml;

public class SignedXmlConfigurationTests
{
    private static readonly SignedXmlConnectorKind Kind = new();

    private static ConnectorContext Context(JsonNode configuration) =>
        new("h56-xml", "h56", JsonSerializer.SerializeToElement(configuration), new HttpClient(), NullLogger.Instance, TimeProvider.System);

    [Fact]
    public void The_kind_is_named_signed_xml_and_receives_pushes()
    {
        Assert.Equal("signed-xml", Kind.Name);
        Assert.False(string.IsNullOrWhiteSpace(Kind.Description));
        Assert.IsAssignableFrom<IPushConnectorKind>(Kind);
    }

    [Fact]
    public void A_certificate_inline_or_as_a_file_path_is_registered_with_the_default_limit()
    {
        var path = Path.Combine(CorpusKeys.KeysDirectory, "sender.cert.pem");

        var inline = Kind.CreateReceiver(Context(new JsonObject { ["certificate"] = CorpusKeys.CertificatePem("sender") }));
        var file = Kind.CreateReceiver(Context(new JsonObject { ["certificate"] = path, ["previousCertificate"] = CorpusKeys.CertificatePem("other"), ["maxBytes"] = 2048 }));

        Assert.Equal(10 * 1024 * 1024, inline.MaxBytes);
        Assert.Equal([CorpusKeys.Instance.Sender.Thumbprint], inline.Certificates.Select(c => c.Thumbprint));
        Assert.Equal(2048, file.MaxBytes);
        Assert.Equal([CorpusKeys.Instance.Sender.Thumbprint, CorpusKeys.Instance.Other.Thumbprint], file.Certificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public void Validation_lists_every_problem_at_once()
    {
        using var rsa = RSA.Create(1024);
        using var weak = new CertificateRequest("CN=weak", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var configuration = new JsonObject
        {
            ["certificate"] = "/nowhere/sender.pem",
            ["previousCertificate"] = weak.ExportCertificatePem(),
            ["maxBytes"] = 10,
            ["secret"] = "x",
        };

        var e = Assert.Throws<ConnectorException>(() => Kind.CreateReceiver(Context(configuration)));

        Assert.Equal(FailureSide.Configuration, e.Side);
        Assert.Contains("has 4 problem(s)", e.Message, StringComparison.Ordinal);
        Assert.Contains("secret: is not a setting here", e.Message, StringComparison.Ordinal);
        Assert.Contains("certificate: is neither PEM text nor the path of an existing file", e.Message, StringComparison.Ordinal);
        Assert.Contains("previousCertificate: the certificate 'CN=weak' has a 1024-bit RSA key; at least 2048 bits are required", e.Message, StringComparison.Ordinal);
        Assert.Contains("maxBytes: must be a whole number of bytes from 1024 to 104857600", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing", "certificate: is required")]
    [InlineData("not-pem", "certificate: is not a readable PEM certificate")]
    [InlineData("same-as-previous", "previousCertificate: must differ from certificate")]
    public void A_certificate_that_is_missing_unreadable_or_repeated_is_refused(string @case, string problem)
    {
        var pem = CorpusKeys.CertificatePem("sender");
        var configuration = @case switch
        {
            "missing" => new JsonObject(),
            "not-pem" => new JsonObject { ["certificate"] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----" },
            _ => new JsonObject { ["certificate"] = pem, ["previousCertificate"] = pem },
        };

        var e = Assert.Throws<ConnectorException>(() => SignedXmlSettings.Parse(JsonSerializer.SerializeToElement(configuration)));

        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_configuration_schema_is_draft_07_and_accepts_what_the_settings_accept()
    {
        var schema = await JsonSchema.FromJsonAsync(Kind.ConfigurationSchema);

        Assert.Equal("http://json-schema.org/draft-07/schema#", (string?)JsonNode.Parse(Kind.ConfigurationSchema)!["$schema"]);
        Assert.Empty(schema.Validate(new JsonObject { ["certificate"] = "/etc/hub/h56.pem", ["maxBytes"] = 1048576 }.ToJsonString()));
        Assert.NotEmpty(schema.Validate("""{ "maxBytes": 1048576 }"""));
        Assert.NotEmpty(schema.Validate("""{ "certificate": "/etc/hub/h56.pem", "secret": "x" }"""));
    }

    [Fact]
    public void Items_become_records_in_document_order_with_child_elements_as_properties_and_repeated_names_as_arrays()
    {
        var receiver = Kind.CreateReceiver(Context(new JsonObject { ["certificate"] = CorpusKeys.CertificatePem("sender") }));
        var document = SignedXmlSamples.Document("goi-json", [new SignedXmlSamples.Dossier("C-1", 2, 0, "Owner-A")], [new SignedXmlSamples.Step("C-1", 1, "Tiep nhan", 2)]);
        var item = document.CreateElement("DanhSachLePhi", SignedXmlSamples.Namespace);
        item.InnerXml = $"<LePhi xmlns='{SignedXmlSamples.Namespace}'><SoTien>1</SoTien></LePhi><LePhi xmlns='{SignedXmlSamples.Namespace}'><SoTien>2</SoTien></LePhi>";
        document.DocumentElement!.FirstChild!.NextSibling!.AppendChild(item);
        SignedXmlSamples.Sign(document.DocumentElement, CorpusKeys.Instance.Sender);

        var delivery = receiver.Receive(new PushMessage(new Dictionary<string, string>(), SignedXmlSamples.Bytes(document), DateTimeOffset.UtcNow));

        Assert.Null(delivery.Acceptance.Rejection);
        Assert.Equal([RawRecordKind.Dossier, RawRecordKind.Step], delivery.Acceptance.Records.Select(r => r.Kind));
        var dossier = delivery.Acceptance.Records[0].Payload;
        Assert.Equal("C-1", dossier.GetProperty("MaHoSo").GetString());
        Assert.Equal("2", dossier.GetProperty("TrangThaiHoSo").GetString());
        Assert.Equal(["1", "2"], dossier.GetProperty("DanhSachLePhi").GetProperty("LePhi").EnumerateArray().Select(f => f.GetProperty("SoTien").GetString()));
        Assert.Equal("Tiep nhan", delivery.Acceptance.Records[1].Payload.GetProperty("NoiDungXuLy").GetString());
        Assert.Equal("goi-json", delivery.DocumentId);
        Assert.Equal(SHA256.HashData(SignedXmlSamples.Bytes(document)), delivery.Sha256);
    }
}
