using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Xml;
using Hub.Core.Xml;
using Hub.Tests.Infrastructure;
using Hub.Tests.Xml;
using static Hub.Tests.Xml.SignedXmlSamples;

namespace Hub.Tests.Connectors.SignedXml;

/// <summary>
/// The signed-xml endpoint over real HTTP to the real hub process and real PostgreSQL: an accepted document is stored,
/// logged and answered with a receipt the hub signed; every corpus attack is refused with its code, logged with its
/// reason, and stores nothing.
/// </summary>
[Collection(SignedXmlHubCollection.Name)]
public class SignedXmlEndpointTests(SignedXmlHub hub)
{
    public static TheoryData<string> CorpusFiles => [.. CorpusGenerator.ReadManifest().Select(e => e.File)];

    [Fact]
    public async Task A_document_signed_by_xmlsec1_is_stored_logged_and_answered_with_a_receipt_signed_by_the_hub()
    {
        var connector = await hub.RegisterAsync("accepted");
        var code1 = $"{connector.Id}-0001";
        var code2 = $"{connector.Id}-0002";
        var template = XmlsecTemplate("goi-accepted",
            dossiers: [new Dossier(code1, 2, 0, "Owner-A"), new Dossier(code2, 4, 5, "Owner-B")],
            steps: [new Step(code1, 1, "Tiep nhan ho so", 2)]);
        var body = Encoding.UTF8.GetBytes(Xmlsec.Sign(template, CorpusKeys.KeyPem("sender"), CorpusKeys.CertificatePem("sender"), $"{Namespace}:GoiTinHoSo"));

        using var response = await hub.PostAsync(connector.Id, body);

        var receipt = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, Encoding.UTF8.GetString(receipt));
        Assert.Equal("application/xml", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((History: 2L, Dossiers: 2L, Steps: 1L, Quarantined: 0L), await hub.StoredAsync(connector));

        // The receipt verifies with the hub's published certificate, by the hub's verifier and by xmlsec1, and names the document.
        var hubPem = await hub.HubCertificatePemAsync();
        var verification = new SignedXmlVerifier(new SignedXmlPolicy { RootNamespace = Namespace, RootName = "BienNhan" }, [X509Certificate2.CreateFromPem(hubPem)])
            .Verify(receipt, DateTimeOffset.UtcNow);
        Assert.True(verification.Accepted, verification.Rejection?.Reason);
        Assert.Equal("goi-accepted", Text(verification.Element!, "MaGoiTin"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), Text(verification.Element!, "SHA256GoiTin"));
        Assert.Equal("3", Text(verification.Element!, "SoBanGhi"));
        Assert.Equal("2", Text(verification.Element!, "SoThayDoiDaLuu"));
        var xmlsec = Xmlsec.Verify(Encoding.UTF8.GetString(receipt), hubPem, $"{Namespace}:BienNhan");
        Assert.True(xmlsec.Verified, xmlsec.Output);

        // The document is logged as stored (with its exact bytes and the dossiers it touched), then the receipt as outbound.
        var entries = await hub.EntriesAsync(connector.Id);
        Assert.Equal(2, entries.Count);
        var inbound = entries[0];
        Assert.Equal(("inbound", "signed-xml", "stored"), (inbound.Direction, inbound.Transport, inbound.Outcome));
        Assert.Equal(body, inbound.Payload);
        Assert.Equal([code1, code2], inbound.Dossiers.Order(StringComparer.Ordinal));
        var outbound = entries[1];
        Assert.Equal(("outbound", "signed-xml", "done"), (outbound.Direction, outbound.Transport, outbound.Outcome));
        Assert.Equal(receipt, outbound.Payload);
        Assert.Equal([code1, code2], outbound.Dossiers.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public async Task Each_corpus_attack_is_refused_over_HTTP_with_its_code_logged_with_its_reason_and_stores_nothing(string file)
    {
        var entry = CorpusGenerator.ReadManifest().Single(e => e.File == file);
        var connector = await hub.RegisterAsync(Path.GetFileNameWithoutExtension(file)[..Math.Min(20, file.Length - 4)], entry.Registered,
            c => c["maxBytes"] = CorpusGenerator.Policy.MaxBytes);
        var body = await File.ReadAllBytesAsync(Path.Combine(CorpusGenerator.Directory, file));

        using var response = await hub.PostAsync(connector.Id, body);

        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var expectedStatus = entry.Code switch
        {
            SignedXmlCodes.TooLarge => HttpStatusCode.RequestEntityTooLarge,
            SignedXmlCodes.TooDeep or SignedXmlCodes.ExternalEntity or SignedXmlCodes.EntityExpansion or SignedXmlCodes.DtdProhibited => HttpStatusCode.BadRequest,
            _ => HttpStatusCode.Unauthorized,
        };
        Assert.Equal(expectedStatus, response.StatusCode);
        Assert.Equal(entry.Code, problem.GetProperty("code").GetString());
        Assert.Contains(entry.Reason, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal((0L, 0L, 0L, 0L), await hub.StoredAsync(connector));

        var logged = Assert.Single(await hub.EntriesAsync(connector.Id));
        Assert.Equal(("inbound", "signed-xml", "rejected"), (logged.Direction, logged.Transport, logged.Outcome));
        Assert.Contains(entry.Reason, logged.Reason, StringComparison.Ordinal);
        Assert.Equal($"Connector '{connector.Id}': {logged.Reason}.", problem.GetProperty("detail").GetString());
        Assert.Equal(logged.Id, problem.GetProperty("exchangeEntry").GetInt64());
        Assert.Equal(entry.Code, JsonDocument.Parse(logged.Detail!).RootElement.GetProperty("code").GetString());
        if (entry.Code == SignedXmlCodes.TooLarge)
        {
            // Refused on its declared length, before a byte was read: only that is logged.
            Assert.Null(logged.Payload);
            Assert.Equal("not read: too-large", logged.PayloadWithheld);
        }
        else
        {
            Assert.Equal(body, logged.Payload);
        }
    }

    [Fact]
    public async Task An_oversized_document_sent_without_length_is_cut_at_the_limit_and_the_part_read_is_logged()
    {
        var connector = await hub.RegisterAsync("chunked", configure: c => c["maxBytes"] = 4096);
        var document = Document("goi-big", Enumerable.Range(1, 200).Select(i => new Dossier($"{connector.Id}-{i:D4}", 2, i, "Owner-A")));
        Sign(document.DocumentElement!, CorpusKeys.Instance.Sender);
        var body = Bytes(document);

        using var response = await hub.PostAsync(connector.Id, body, chunked: true);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var logged = Assert.Single(await hub.EntriesAsync(connector.Id));
        Assert.Equal(4096, logged.PayloadSize);
        Assert.Equal(body.AsSpan(0, 4096).ToArray(), logged.Payload);
        Assert.True(JsonDocument.Parse(logged.Detail!).RootElement.GetProperty("truncated").GetBoolean());
        Assert.Equal((0L, 0L, 0L, 0L), await hub.StoredAsync(connector));
    }

    [Fact]
    public async Task The_previous_certificate_is_accepted_during_a_rotation()
    {
        var connector = await hub.RegisterAsync("rotation", "other", c => c["previousCertificate"] = CorpusKeys.CertificatePem("sender"));
        var document = Document("goi-rotation", [new Dossier($"{connector.Id}-0001", 2, 0, "Owner-A")]);
        Sign(document.DocumentElement!, CorpusKeys.Instance.Sender);

        using var response = await hub.PostAsync(connector.Id, Bytes(document));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((1L, 1L, 0L, 0L), await hub.StoredAsync(connector));
    }

    [Fact]
    public async Task Unknown_and_paused_connectors_refuse_with_a_code_and_the_refusal_is_logged()
    {
        var paused = await hub.RegisterAsync("paused", active: false);
        var unknown = "no-such-" + Guid.NewGuid().ToString("N")[..8];
        var document = Document("goi-p", [new Dossier($"{paused.Id}-0001", 2, 0, "Owner-A")]);
        Sign(document.DocumentElement!, CorpusKeys.Instance.Sender);

        using var toPaused = await hub.PostAsync(paused.Id, Bytes(document));
        using var toUnknown = await hub.PostAsync(unknown, Bytes(document));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, toPaused.StatusCode);
        Assert.Equal("connector-paused", JsonDocument.Parse(await toPaused.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.NotFound, toUnknown.StatusCode);
        Assert.Equal("unknown-connector", JsonDocument.Parse(await toUnknown.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
        Assert.Equal((0L, 0L, 0L, 0L), await hub.StoredAsync(paused));
        Assert.Contains("is paused", Assert.Single(await hub.EntriesAsync(paused.Id)).Reason, StringComparison.Ordinal);
        Assert.Contains("no signed-xml connector is registered", Assert.Single(await hub.EntriesAsync(unknown)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_verified_document_with_an_unknown_item_is_refused_and_stores_nothing()
    {
        var connector = await hub.RegisterAsync("unknown-item");
        var document = Document("goi-item", [new Dossier($"{connector.Id}-0001", 2, 0, "Owner-A")]);
        document.DocumentElement!.AppendChild(document.CreateElement("ThanhToan", Namespace));
        Sign(document.DocumentElement!, CorpusKeys.Instance.Sender);

        using var response = await hub.PostAsync(connector.Id, Bytes(document));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("unknown-item", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
        Assert.Equal((0L, 0L, 0L, 0L), await hub.StoredAsync(connector));
        Assert.Equal("rejected", Assert.Single(await hub.EntriesAsync(connector.Id)).Outcome);
    }

    [Fact]
    public async Task The_exchange_log_holding_accepted_refused_and_outbound_signed_xml_messages_seals_and_verifies()
    {
        var connector = await hub.RegisterAsync("sealed");
        var document = Document("goi-sealed", [new Dossier($"{connector.Id}-0001", 2, 0, "Owner-A")]);
        Sign(document.DocumentElement!, CorpusKeys.Instance.Sender);
        using var accepted = await hub.PostAsync(connector.Id, Bytes(document));
        using var refused = await hub.PostAsync(connector.Id, await File.ReadAllBytesAsync(Path.Combine(CorpusGenerator.Directory, "wrapping-moved-element.xml")));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(["inbound/stored", "outbound/done", "inbound/rejected"], (await hub.EntriesAsync(connector.Id)).Select(e => $"{e.Direction}/{e.Outcome}"));

        using var seal = await hub.Process.Client.PostAsync("/api/exchange/checkpoints", null);
        using var verify = await hub.Process.Client.PostAsync("/api/exchange/verify", null);

        Assert.Equal(HttpStatusCode.OK, seal.StatusCode);
        var result = JsonDocument.Parse(await verify.Content.ReadAsStringAsync()).RootElement;
        Assert.True(result.GetProperty("valid").GetBoolean(), result.GetRawText());
        Assert.Equal(0, result.GetProperty("unsealed").GetInt64());
    }

    private static string Text(XmlElement root, string name) => root.GetElementsByTagName(name, Namespace)[0]!.InnerText;
}
