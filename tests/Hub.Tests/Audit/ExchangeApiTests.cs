using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Hub.Core.Audit;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Audit;

/// <summary>
/// The real hub process over a test schema, signing with the tests' certificate from a PEM file and sealing only when
/// asked (its seal interval is an hour). Tests append entries straight into its schema, each with a dossier and
/// connector of its own.
/// </summary>
public sealed class ExchangeApiHub : IAsyncLifetime
{
    private string _work = "";

    public NpgsqlDataSource Db { get; private set; } = null!;

    public HubProcess Process { get; private set; } = null!;

    public ExchangeLog Log { get; private set; } = null!;

    public HttpClient Client => Process.Client;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateSchemaAsync("exchange_api");
        Log = new ExchangeLog(Db, TimeProvider.System);
        _work = Directory.CreateTempSubdirectory("hub-exchange-api-").FullName;
        var pem = Path.Combine(_work, "signing.pem");
        var certificate = TestSigning.Hub.Certificate;
        await File.WriteAllTextAsync(pem, certificate.ExportCertificatePem() + "\n" + certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n");
        Process = HubProcess.Start(_work, new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = Db.ConnectionString,
            ["Hub__Signing__CertificatePath"] = pem,
            ["Hub__Audit__SealInterval"] = "01:00:00",
        });
        await Process.WaitReadyAsync(TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        await Process.DisposeAsync();
        await Db.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }
}

/// <summary>The auditors' API of a real hub process: search, entries, payload reads (logged), proofs, verification, checkpoints, evidence.</summary>
public sealed class ExchangeApiTests(ExchangeApiHub hub) : IClassFixture<ExchangeApiHub>
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static string Tag() => Guid.NewGuid().ToString("N")[..10];

    private Task<long> AppendAsync(string dossier, string connector, string outcome = "stored", byte[]? payload = null, string? withheld = null, string? detail = null) =>
        hub.Log.AppendAsync(new ExchangeRecord
        {
            Kind = ExchangeRecord.MessageKind,
            ConnectorId = connector,
            Direction = "inbound",
            Transport = "json-webhook",
            ReceivedAt = DateTimeOffset.UtcNow,
            ContentType = payload is null ? null : "application/json; charset=utf-8",
            // A null byte[] converts to an empty ReadOnlyMemory (a payload of 0 bytes), not to none: say none explicitly.
            Payload = payload is null ? (ReadOnlyMemory<byte>?)null : payload,
            PayloadWithheld = withheld,
            Outcome = outcome,
            Reason = outcome == "rejected" ? "unmapped code X" : null,
            Dossiers = [dossier],
            MappingVersion = "v1",
            Detail = detail,
        }, None);

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await hub.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task SealAsync()
    {
        using var response = await hub.Client.PostAsync("/api/exchange/checkpoints", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<X509Certificate2> CertificateAsync()
    {
        var pem = await hub.Client.GetStringAsync("/api/exchange/certificate");
        return X509Certificate2.CreateFromPem(pem);
    }

    [Fact]
    public async Task Search_filters_by_dossier_connector_and_outcome_newest_first_and_shows_payload_hashes_not_bytes()
    {
        var tag = Tag();
        var (dossier, connector) = ($"D-{tag}", $"c-{tag}");
        var payload = Encoding.UTF8.GetBytes($$"""{"ChuHoSo":"Trần Thị B {{tag}}"}""");
        var first = await AppendAsync(dossier, connector);
        var rejected = await AppendAsync(dossier, connector, "rejected");
        var withPayload = await AppendAsync(dossier, connector, payload: payload);
        var otherConnector = await AppendAsync(dossier, "other-" + tag);
        await AppendAsync("other-" + dossier, connector);

        var byDossier = await GetJsonAsync($"/api/exchange?dossier={dossier}");
        var byConnector = await GetJsonAsync($"/api/exchange?dossier={dossier}&connector={connector}");
        var byOutcome = await GetJsonAsync($"/api/exchange?dossier={dossier}&outcome=rejected");

        Assert.Equal([otherConnector, withPayload, rejected, first], byDossier.EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
        Assert.Equal([withPayload, rejected, first], byConnector.EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
        Assert.Equal([rejected], byOutcome.EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
        var view = byDossier[1].GetProperty("payload");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(payload)), view.GetProperty("sha256").GetString());
        Assert.Equal(payload.Length, view.GetProperty("size").GetInt64());
        Assert.True(view.GetProperty("kept").GetBoolean());
        var text = byDossier.GetRawText();
        Assert.DoesNotContain(Convert.ToBase64String(payload), text, StringComparison.Ordinal);
        Assert.DoesNotContain("ChuHoSo", text, StringComparison.Ordinal);

        var page1 = await GetJsonAsync($"/api/exchange?dossier={dossier}&limit=2");
        var page2 = await GetJsonAsync($"/api/exchange?dossier={dossier}&limit=2&before={page1[1].GetProperty("id").GetInt64()}");
        Assert.Equal([otherConnector, withPayload], page1.EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
        Assert.Equal([rejected, first], page2.EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task Bad_search_parameters_get_400_naming_each_problem()
    {
        using var response = await hub.Client.GetAsync("/api/exchange?from=yesterday&to=2026-11-23T08:00:00&limit=0&outcome=maybe&kind=admin&dosier=x&run=-1");

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        var detail = problem.GetProperty("detail").GetString()!;
        foreach (var expected in new[]
        {
            "'from' must be an ISO-8601 time with its zone", "'to' must be an ISO-8601 time with its zone", "not '2026-11-23T08:00:00'",
            "'limit' must be a whole number from 1 to 1000", "'outcome' must be one of stored, rejected, done, failed", "'dosier' is not a parameter here",
            "'run' must be a whole number of at least 1",
        })
        {
            Assert.Contains(expected, detail, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("'kind'", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entry_reads_with_its_detail_parsed_its_dossiers_and_whether_it_is_sealed()
    {
        var tag = Tag();
        var id = await AppendAsync($"D-{tag}", $"c-{tag}", detail: """{"stored":3,"quarantined":[{"reason":"unmapped code X"}]}""");

        var before = await GetJsonAsync($"/api/exchange/{id}");
        await SealAsync();
        var after = await GetJsonAsync($"/api/exchange/{id}");

        Assert.False(before.GetProperty("sealed").GetBoolean());
        Assert.Equal(JsonValueKind.Null, before.GetProperty("leafIndex").ValueKind);
        Assert.True(after.GetProperty("sealed").GetBoolean());
        Assert.True(after.GetProperty("leafIndex").GetInt64() >= 0);
        Assert.Equal(3, after.GetProperty("detail").GetProperty("stored").GetInt32());
        Assert.Equal("unmapped code X", after.GetProperty("detail").GetProperty("quarantined")[0].GetProperty("reason").GetString());
        Assert.Equal([$"D-{tag}"], after.GetProperty("dossiers").EnumerateArray().Select(d => d.GetString()));
        Assert.Equal("stored", after.GetProperty("outcome").GetString());

        using var unknown = await hub.Client.GetAsync("/api/exchange/999999999");
        Assert.Contains("999999999", (await ProblemAsync(unknown, HttpStatusCode.NotFound)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var bad = await hub.Client.GetAsync("/api/exchange/abc");
        Assert.Contains("'abc' is not an exchange-log entry id", (await ProblemAsync(bad, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reading_a_payload_returns_its_bytes_and_is_itself_logged_with_its_actor()
    {
        var tag = Tag();
        var dossier = $"D-{tag}";
        var payload = Encoding.UTF8.GetBytes("""{"MaHoSo":"x","ChuHoSo":"Nguyễn Văn A"}""");
        var id = await AppendAsync(dossier, $"c-{tag}", payload: payload);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/exchange/{id}/payload?reason=case%2042");
        using var response = await hub.Client.SendAsync(request);
        using var again = await hub.Client.GetAsync($"/api/exchange/{id}/payload");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(payload, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var read = await GetJsonAsync($"/api/exchange/{response.Headers.GetValues("X-Hub-Exchange-Entry").Single()}");
        Assert.Equal("admin", read.GetProperty("kind").GetString());
        Assert.Equal("exchange.payload-read", read.GetProperty("action").GetString());
        Assert.Equal(hub.Process.PrincipalId, read.GetProperty("actor").GetString());
        Assert.Equal("case 42", read.GetProperty("reason").GetString());
        Assert.Equal(id, read.GetProperty("detail").GetProperty("entryId").GetInt64());
        Assert.Equal([dossier], read.GetProperty("dossiers").EnumerateArray().Select(d => d.GetString()));
        var secondRead = await GetJsonAsync($"/api/exchange/{again.Headers.GetValues("X-Hub-Exchange-Entry").Single()}");
        Assert.Equal(JsonValueKind.Null, secondRead.GetProperty("reason").ValueKind);
        var reads = await GetJsonAsync($"/api/exchange?dossier={dossier}&kind=admin");
        Assert.Equal(2, reads.GetArrayLength());
    }

    [Fact]
    public async Task A_withheld_payload_or_an_entry_without_one_is_not_served_and_no_read_is_logged()
    {
        var tag = Tag();
        var dossier = $"D-{tag}";
        var withheld = await AppendAsync(dossier, $"c-{tag}", payload: "secret"u8.ToArray(), withheld: "credentials");
        var none = await AppendAsync(dossier, $"c-{tag}");

        using var withheldResponse = await hub.Client.GetAsync($"/api/exchange/{withheld}/payload");
        using var noneResponse = await hub.Client.GetAsync($"/api/exchange/{none}/payload");

        Assert.Contains("credentials", (await ProblemAsync(withheldResponse, HttpStatusCode.NotFound)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("carries no payload", (await ProblemAsync(noneResponse, HttpStatusCode.NotFound)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await GetJsonAsync($"/api/exchange?dossier={dossier}&kind=admin")).GetArrayLength());
    }

    [Fact]
    public async Task A_proof_leads_from_the_entry_to_the_root_of_a_checkpoint_signed_by_the_hub_certificate()
    {
        var tag = Tag();
        var id = await AppendAsync($"D-{tag}", $"c-{tag}", payload: Encoding.UTF8.GetBytes(tag));
        using var unsealed = await hub.Client.GetAsync($"/api/exchange/{id}/proof");
        Assert.Contains("not sealed yet", (await ProblemAsync(unsealed, HttpStatusCode.Conflict)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        await SealAsync();
        await AppendAsync($"D-{tag}", $"c-{tag}");
        await SealAsync();

        var proof = await GetJsonAsync($"/api/exchange/{id}/proof");

        // Recomputed here from the entry as stored, not taken from the hub's answer.
        var entry = (await hub.Log.GetAsync(id, None))!;
        Assert.Equal(Convert.ToHexStringLower(entry.LeafHash()), proof.GetProperty("leafHash").GetString());
        Assert.True(proof.GetProperty("storedEntryMatches").GetBoolean());
        var element = Checkpoint.Parse(proof.GetProperty("checkpoint").GetString()!).DocumentElement!;
        Assert.Null(Checkpoint.CheckSignature(element, await CertificateAsync()));
        var checkpoint = Checkpoint.Read(element);
        Assert.Equal(checkpoint.TreeSize, proof.GetProperty("treeSize").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(checkpoint.RootHash), proof.GetProperty("rootHash").GetString());
        var path = proof.GetProperty("path").EnumerateArray().Select(h => Convert.FromHexString(h.GetString()!)).ToList();
        Assert.True(MerkleTree.VerifyInclusion(proof.GetProperty("leafIndex").GetInt64(), checkpoint.TreeSize, entry.LeafHash(), path, checkpoint.RootHash));
        Assert.False(MerkleTree.VerifyInclusion(proof.GetProperty("leafIndex").GetInt64(), checkpoint.TreeSize, (entry with { Outcome = "rejected" }).LeafHash(), path, checkpoint.RootHash));

        using var unknown = await hub.Client.GetAsync("/api/exchange/999999999/proof");
        await ProblemAsync(unknown, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Verification_of_the_log_reports_it_valid_and_a_reversed_range_gets_400()
    {
        var tag = Tag();
        await AppendAsync($"D-{tag}", $"c-{tag}", payload: Encoding.UTF8.GetBytes(tag));
        await SealAsync();

        using var response = await hub.Client.PostAsync("/api/exchange/verify", null);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        using var reversed = await hub.Client.PostAsync("/api/exchange/verify?from=5&to=2", null);
        using var range = await hub.Client.PostAsync("/api/exchange/verify?from=0&to=1", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(result.GetProperty("valid").GetBoolean(), result.GetRawText());
        Assert.True(result.GetProperty("treeSize").GetInt64() >= 1);
        Assert.Equal(result.GetProperty("treeSize").GetInt64(), result.GetProperty("entriesVerified").GetInt64());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("firstProblem").ValueKind);
        Assert.Contains("'from' must be smaller than 'to'", (await ProblemAsync(reversed, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, (await range.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("entriesVerified").GetInt64());
    }

    [Fact]
    public async Task A_consistency_proof_links_a_checkpoint_an_auditor_kept_to_the_latest_signed_one()
    {
        var tag = Tag();
        await AppendAsync($"D-{tag}", $"c-{tag}");
        using var first = await hub.Client.PostAsync("/api/exchange/checkpoints", null);
        var kept = await first.Content.ReadFromJsonAsync<JsonElement>();
        var keptSize = kept.GetProperty("treeSize").GetInt64();
        var keptRoot = Convert.FromHexString(kept.GetProperty("rootHash").GetString()!);
        for (var i = 0; i < 3; i++)
        {
            await AppendAsync($"D-{tag}-{i}", $"c-{tag}");
        }

        await SealAsync();

        var proof = await GetJsonAsync($"/api/exchange/consistency?from={keptSize}");

        // Checked here with the root kept from the first checkpoint, against the root the hub's certificate signed.
        var element = Checkpoint.Parse(proof.GetProperty("checkpoint").GetString()!).DocumentElement!;
        Assert.Null(Checkpoint.CheckSignature(element, await CertificateAsync()));
        var latest = Checkpoint.Read(element);
        Assert.True(latest.TreeSize >= keptSize + 3);
        Assert.Equal(latest.TreeSize, proof.GetProperty("newSize").GetInt64());
        var path = proof.GetProperty("path").EnumerateArray().Select(h => Convert.FromHexString(h.GetString()!)).ToList();
        Assert.True(MerkleTree.VerifyConsistency(keptSize, latest.TreeSize, keptRoot, latest.RootHash, path));
        Assert.False(MerkleTree.VerifyConsistency(keptSize, latest.TreeSize, SHA256.HashData(keptRoot), latest.RootHash, path));

        using var missing = await hub.Client.GetAsync("/api/exchange/consistency");
        using var tooLarge = await hub.Client.GetAsync($"/api/exchange/consistency?from={latest.TreeSize + 1}");
        using var unknownTo = await hub.Client.GetAsync($"/api/exchange/consistency?from=1&to=999999999");
        Assert.Contains("'from'", (await ProblemAsync(missing, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("between 1 and", (await ProblemAsync(tooLarge, HttpStatusCode.Conflict)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("no checkpoint of 999999999 leaves", (await ProblemAsync(unknownTo, HttpStatusCode.Conflict)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checkpoints_are_listed_newest_first_and_each_reads_as_its_signed_XML()
    {
        var tag = Tag();
        await AppendAsync($"D-{tag}", $"c-{tag}");
        using var sealResponse = await hub.Client.PostAsync("/api/exchange/checkpoints", null);
        var sealedNow = await sealResponse.Content.ReadFromJsonAsync<JsonElement>();
        var size = sealedNow.GetProperty("treeSize").GetInt64();

        var list = await GetJsonAsync("/api/exchange/checkpoints?limit=3");
        using var xml = await hub.Client.GetAsync($"/api/exchange/checkpoints/{size}");
        using var unknown = await hub.Client.GetAsync("/api/exchange/checkpoints/999999999");
        using var bad = await hub.Client.GetAsync("/api/exchange/checkpoints/latest");

        Assert.Equal(size, list[0].GetProperty("treeSize").GetInt64());
        var sizes = list.EnumerateArray().Select(c => c.GetProperty("treeSize").GetInt64()).ToList();
        Assert.Equal(sizes.OrderDescending(), sizes);
        Assert.Equal(HttpStatusCode.OK, xml.StatusCode);
        Assert.Equal("application/xml", xml.Content.Headers.ContentType?.MediaType);
        var element = Checkpoint.Parse(await xml.Content.ReadAsStringAsync()).DocumentElement!;
        Assert.Null(Checkpoint.CheckSignature(element, await CertificateAsync()));
        Assert.Equal(sealedNow.GetProperty("rootHash").GetString(), Convert.ToHexStringLower(Checkpoint.Read(element).RootHash));
        await ProblemAsync(unknown, HttpStatusCode.NotFound);
        await ProblemAsync(bad, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_certificate_endpoint_gives_the_configured_signing_certificate_in_PEM()
    {
        var certificate = await CertificateAsync();

        Assert.Equal(TestSigning.Hub.Certificate.Thumbprint, certificate.Thumbprint);
        Assert.False(certificate.HasPrivateKey);
    }

    [Fact]
    public async Task An_evidence_download_verifies_offline_with_the_published_certificate_and_its_export_is_logged()
    {
        var tag = Tag();
        var dossier = $"D-{tag}";
        var ids = new[]
        {
            await AppendAsync(dossier, $"c-{tag}", payload: Encoding.UTF8.GetBytes($$"""{"ChuHoSo":"Lê Văn C","tag":"{{tag}}"}""")),
            await AppendAsync(dossier, $"c-{tag}", "rejected"),
        };

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/exchange/evidence?dossier={dossier}");
        using var response = await hub.Client.SendAsync(request);
        var bundle = await response.Content.ReadAsByteArrayAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, Encoding.UTF8.GetString(bundle));
        Assert.Equal("application/xml", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.StartsWith($"evidence-{dossier}-", response.Content.Headers.ContentDisposition?.FileName, StringComparison.Ordinal);
        var result = EvidenceBundle.Verify(bundle, await CertificateAsync());
        Assert.True(result.Valid, string.Join("\n", result.Problems.Select(p => p.Problem)));
        Assert.Equal(ids.Length, result.Entries);
        var recorded = await GetJsonAsync($"/api/exchange/{response.Headers.GetValues("X-Hub-Exchange-Entry").Single()}");
        Assert.Equal("evidence.exported", recorded.GetProperty("action").GetString());
        Assert.Equal(hub.Process.PrincipalId, recorded.GetProperty("actor").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bundle)), recorded.GetProperty("detail").GetProperty("bundleSha256").GetString());

        using var noQuery = await hub.Client.GetAsync("/api/exchange/evidence");
        Assert.Contains("give a dossier", (await ProblemAsync(noQuery, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        using var nothing = await hub.Client.GetAsync($"/api/exchange/evidence?dossier=none-{tag}");
        Assert.Contains($"none-{tag}", (await ProblemAsync(nothing, HttpStatusCode.NotFound)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
