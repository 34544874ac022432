using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml;
using Hub.Core.Audit;
using Hub.Core.Xml;
using Hub.Tests.Infrastructure;

namespace Hub.Tests.Audit;

/// <summary>
/// Evidence bundles exported from a real exchange log and verified offline: what they hold, and that one byte flipped
/// anywhere in them (an entry's value, a payload, a path hash, the checkpoint, a signature) makes them invalid, naming
/// the entry when the flip is in one.
/// </summary>
public class EvidenceBundleTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_dossier_bundle_holds_every_sealed_entry_of_the_dossier_and_verifies_offline()
    {
        await using var kit = await EvidenceKit.CreateAsync("evidence_dossier");
        var export = await kit.Bundles.ExportAsync(new EvidenceQuery { Dossier = EvidenceKit.Dossier }, [TestSigning.Hub.Certificate], None);

        var result = EvidenceBundle.Verify(export.Document, TestSigning.Hub.Certificate);
       

        Assert.True(result.Valid, string.Join("\n", result.Problems.Select(p => p.Problem)));
        Assert.Equal(kit.DossierEntries.Count, result.Entries);
        Assert.Equal(kit.DossierEntries.Count, export.Entries);
        Assert.Equal(0, result.Unsealed);
        Assert.Equal(EvidenceKit.Dossier, result.Query!.Dossier);
        Assert.Equal(13, result.Checkpoint!.TreeSize);
        Assert.Equal(Checkpoint.ThumbprintOf(TestSigning.Hub.Certificate), result.Signer);
        var text = Encoding.UTF8.GetString(export.Document);
        Assert.StartsWith("<EvidenceBundle xmlns=\"urn:hub:exchange-log:1\"><Content Id=\"evidence-content\">", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", text.Replace(EvidenceKit.AwkwardReason, "", StringComparison.Ordinal), StringComparison.Ordinal);
        foreach (var id in kit.DossierEntries)
        {
            Assert.Contains($"<Id>{id}</Id>", text, StringComparison.Ordinal);
        }

        // The withheld payload keeps its hash and size but not its bytes; the others carry theirs.
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"username":"x","password":"secret"}""")), text, StringComparison.Ordinal);
        Assert.Contains("<PayloadWithheld>credentials</PayloadWithheld>", text, StringComparison.Ordinal);
        var payload = await kit.Log.PayloadAsync((await kit.Log.GetAsync(kit.PayloadEntry, None))!, None);
        Assert.Contains($"<Payload>{Convert.ToBase64String(payload!)}</Payload>", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_latest_signed_checkpoint_is_embedded_verbatim_and_its_own_signature_still_verifies_there()
    {
        await using var kit = await EvidenceKit.CreateAsync("evidence_checkpoint");
        var bundle = await kit.DossierBundleAsync();
        await using var connection = await kit.Db.OpenConnectionAsync();
        var latest = (await ExchangeCheckpoints.LatestAsync(connection, None))!;

        Assert.Contains(latest.Document, Encoding.UTF8.GetString(bundle), StringComparison.Ordinal);
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml(Encoding.UTF8.GetString(bundle));
        var checkpoint = (XmlElement)document.GetElementsByTagName("Checkpoint", Checkpoint.Namespace)[0]!;
        Assert.Null(Checkpoint.CheckSignature(checkpoint, TestSigning.Hub.Certificate));
        Assert.NotNull(Checkpoint.CheckSignature(checkpoint, TestSigning.Other.Certificate));
        Assert.Equal(2, document.GetElementsByTagName("Signature", SignedXml.XmlDsigNamespaceUrl).Count);
    }

    [Fact]
    public async Task A_time_range_bundle_of_one_connector_holds_exactly_its_entries()
    {
        await using var kit = await EvidenceKit.CreateAsync("evidence_range");
        var query = new EvidenceQuery { From = DateTimeOffset.UtcNow.AddHours(-1), To = DateTimeOffset.UtcNow.AddHours(1), ConnectorId = "c-b" };
        var export = await kit.Bundles.ExportAsync(query, [TestSigning.Hub.Certificate], None);

        var result = EvidenceBundle.Verify(export.Document, TestSigning.Hub.Certificate);

        Assert.True(result.Valid, result.FirstProblem?.Problem);
        Assert.Equal(kit.ConnectorBEntries.Count, result.Entries);
        Assert.Equal("c-b", result.Query!.ConnectorId);
        var text = Encoding.UTF8.GetString(export.Document);
        Assert.DoesNotContain("<ConnectorId>c-a</ConnectorId>", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_that_XML_cannot_carry_unchanged_travels_in_base64_and_verifies()
    {
        await using var kit = await EvidenceKit.CreateAsync("evidence_base64");
        var bundle = await kit.DossierBundleAsync();

        var text = Encoding.UTF8.GetString(bundle);
        Assert.Contains($"<Reason Encoding=\"base64\">{Convert.ToBase64String(Encoding.UTF8.GetBytes(EvidenceKit.AwkwardReason))}</Reason>", text, StringComparison.Ordinal);
        Assert.Contains("<Detail></Detail>", text, StringComparison.Ordinal);
        Assert.True(EvidenceBundle.Verify(bundle, TestSigning.Hub.Certificate).Valid);
    }

    [Fact]
    public async Task One_byte_flipped_anywhere_in_the_bundle_makes_it_invalid()
    {
        await using var kit = await EvidenceKit.CreateAsync("evidence_flip");
        var bundle = await kit.DossierBundleAsync();
        Assert.True(EvidenceBundle.Verify(bundle, TestSigning.Hub.Certificate).Valid);

        var positions = Enumerable.Range(0, 400).Select(i => (int)((long)i * bundle.Length / 400)).Append(bundle.Length - 1).Append(0).ToHashSet();
        foreach (var position in positions)
        {
            var result = EvidenceBundle.Verify(EvidenceKit.Flip(bundle, position), TestSigning.Hub.Certificate);
            Assert.False(result.Valid, $"a flip at byte {position} of {bundle.Length} went unnoticed: ...{Context(bundle, position)}...");
        }
    }

    [Fact]
    public async Task A_flip_inside_an_entry_names_that_entry()
    {
        await using var kit = await EvidenceKit.CreateAsync("evidence_flip_entry");
        var bundle = await kit.DossierBundleAsync();
        var payloadEntry = $"<Id>{kit.PayloadEntry}</Id>";
        var cases = new (string Where, int Position, long Entry)[]
        {
            ("a reason", EvidenceKit.Inside(bundle, "new mapping"), kit.DossierEntries[^3]),
            ("a dossier code", EvidenceKit.Inside(bundle, "G09.20-260101-0102"), kit.DossierEntries[1]),
            ("a payload", EvidenceKit.Inside(bundle, "<Payload>", payloadEntry) + 20, kit.PayloadEntry),
            ("a path hash", EvidenceKit.Inside(bundle, "<Hash>", payloadEntry) + 30, kit.PayloadEntry),
            ("a base64 value", EvidenceKit.Inside(bundle, "Encoding=\"base64\">") + 12, kit.AwkwardEntry),
            ("a recorded time", EvidenceKit.Inside(bundle, "<RecordedAt>", $"<Id>{kit.WithheldEntry}</Id>") + 14, kit.WithheldEntry),
        };

        foreach (var (where, position, entry) in cases)
        {
            var result = EvidenceBundle.Verify(EvidenceKit.Flip(bundle, position), TestSigning.Hub.Certificate);
            Assert.False(result.Valid, where);
            Assert.Equal(entry, result.FirstProblem!.EntryId);
            Assert.Contains($"entry {entry}", result.FirstProblem.Problem, StringComparison.Ordinal);
            Assert.Contains(result.Problems, p => p.Problem.Contains("bundle's signature does not verify", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_flip_in_the_checkpoint_or_a_signature_value_is_caught_by_that_signature()
    {
        await using var kit = await EvidenceKit.CreateAsync("evidence_flip_signatures");
        var bundle = await kit.DossierBundleAsync();

        var root = EvidenceBundle.Verify(EvidenceKit.Flip(bundle, EvidenceKit.DigitAfter(bundle, "<RootHash>")), TestSigning.Hub.Certificate);
        Assert.Contains("checkpoint", root.FirstProblem!.Problem, StringComparison.Ordinal);
        Assert.Contains("signature does not verify", root.FirstProblem.Problem, StringComparison.Ordinal);

        var checkpointSignature = EvidenceBundle.Verify(
            EvidenceKit.Flip(bundle, EvidenceKit.Inside(bundle, "<SignatureValue>") + 40), TestSigning.Hub.Certificate);
        Assert.Contains("checkpoint", checkpointSignature.FirstProblem!.Problem, StringComparison.Ordinal);

        var bundleSignature = EvidenceBundle.Verify(
            EvidenceKit.Flip(bundle, EvidenceKit.Inside(bundle, "<SignatureValue>", "</Content>") + 40), TestSigning.Hub.Certificate);
        Assert.False(bundleSignature.Valid);
        Assert.Single(bundleSignature.Problems);
        Assert.Contains("bundle's signature", bundleSignature.FirstProblem!.Problem, StringComparison.Ordinal);

        var exportedAt = EvidenceBundle.Verify(EvidenceKit.Flip(bundle, EvidenceKit.DigitAfter(bundle, "<ExportedAt>")), TestSigning.Hub.Certificate);
        Assert.Contains("bundle's signature does not verify", exportedAt.FirstProblem!.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bundle_checked_against_another_certificate_is_invalid()
    {
        await using var kit = await EvidenceKit.CreateAsync("evidence_other_cert");
        var bundle = await kit.DossierBundleAsync();

        var result = EvidenceBundle.Verify(bundle, TestSigning.Other.Certificate);

        Assert.False(result.Valid);
        Assert.Contains("not among the certificates given", result.FirstProblem!.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bundle_altered_and_signed_again_with_another_key_is_invalid_even_with_that_key_inside()
    {
        await using var kit = await EvidenceKit.CreateAsync("evidence_resigned");
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml(Encoding.UTF8.GetString(await kit.DossierBundleAsync()));
        var root = document.DocumentElement!;
        root.RemoveChild(root.LastChild!);
        var content = (XmlElement)root.FirstChild!;
        var exportedAt = (XmlElement)content.GetElementsByTagName("ExportedAt", Checkpoint.Namespace)[0]!;
        exportedAt.InnerText = "2020-01-01T00:00:00.000000Z";
        // An attacker's signature, with the attacker's certificate in KeyInfo: the verifier must not use it.
        var signedXml = new SignedXml(document) { SigningKey = TestSigning.Other.Certificate.GetRSAPrivateKey() };
        signedXml.SignedInfo!.CanonicalizationMethod = SignedXml.XmlDsigExcC14NTransformUrl;
        signedXml.SignedInfo.SignatureMethod = SignedXml.XmlDsigRSASHA256Url;
        var reference = new Reference("#" + EvidenceBundle.ContentId) { DigestMethod = SignedXml.XmlDsigSHA256Url };
        reference.AddTransform(new XmlDsigExcC14NTransform());
        signedXml.AddReference(reference);
        var keyInfo = new KeyInfo();
        keyInfo.AddClause(new KeyInfoX509Data(TestSigning.Other.Certificate));
        signedXml.KeyInfo = keyInfo;
        signedXml.ComputeSignature();
        root.AppendChild(document.ImportNode(signedXml.GetXml(), deep: true));

        var result = EvidenceBundle.Verify(Encoding.UTF8.GetBytes(document.OuterXml), TestSigning.Hub.Certificate);

        Assert.False(result.Valid);
        Assert.Contains("bundle's signature does not verify", result.FirstProblem!.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entry_edited_in_the_database_after_sealing_is_named_in_the_bundle_exported_afterwards()
    {
        await using var kit = await EvidenceKit.CreateAsync("evidence_db_edit");
        var edited = kit.DossierEntries[2];
        await kit.TamperAsync($"update exchange_entry set outcome = 'rejected', reason = 'edited' where id = {edited}");

        var result = EvidenceBundle.Verify(await kit.DossierBundleAsync(), TestSigning.Hub.Certificate);

        Assert.False(result.Valid);
        Assert.Single(result.Problems);
        Assert.Equal(edited, result.FirstProblem!.EntryId);
        Assert.Contains("does not lead to the checkpoint's root", result.FirstProblem.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_payload_edited_in_the_database_is_named_in_the_bundle()
    {
        await using var kit = await EvidenceKit.CreateAsync("evidence_db_payload");
        await kit.TamperAsync($"update exchange_payload set content = convert_to('{{}}', 'UTF8') where sha256 = (select payload_sha256 from exchange_entry where id = {kit.PayloadEntry})");

        var result = EvidenceBundle.Verify(await kit.DossierBundleAsync(), TestSigning.Hub.Certificate);

        Assert.Equal(kit.PayloadEntry, result.FirstProblem!.EntryId);
        Assert.Contains("payload does not match its SHA-256", result.FirstProblem.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_document_type_declaration_is_refused_and_never_resolved()
    {
        await using var kit = await EvidenceKit.CreateAsync("evidence_dtd");
        var bundle = await kit.DossierBundleAsync();
        var withDtd = Encoding.UTF8.GetBytes("<!DOCTYPE EvidenceBundle [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>").Concat(bundle).ToArray();

        var result = EvidenceBundle.Verify(withDtd, TestSigning.Hub.Certificate);

        Assert.False(result.Valid);
        Assert.Contains("not well-formed XML", result.FirstProblem!.Problem, StringComparison.Ordinal);
        Assert.Contains("DTD", result.FirstProblem.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_export_that_matches_nothing_says_so()
    {
        await using var kit = await EvidenceKit.CreateAsync("evidence_nothing");
        var e = await Assert.ThrowsAsync<EvidenceExportException>(() =>
            kit.Bundles.ExportAsync(new EvidenceQuery { Dossier = "G09.20-000000-0000" }, [TestSigning.Hub.Certificate], None));
        Assert.Equal(EvidenceExportFailure.NothingMatches, e.Failure);
        Assert.Contains("G09.20-000000-0000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_that_is_neither_XML_nor_a_bundle_is_invalid_with_a_reason()
    {
        Assert.Contains("not well-formed", EvidenceBundle.Verify("not xml"u8.ToArray(), TestSigning.Hub.Certificate).FirstProblem!.Problem, StringComparison.Ordinal);
        Assert.Contains("<EvidenceBundle>", EvidenceBundle.Verify("<a/>"u8.ToArray(), TestSigning.Hub.Certificate).FirstProblem!.Problem, StringComparison.Ordinal);
        var checkpointOnly = EvidenceBundle.Verify(
            "<EvidenceBundle xmlns=\"urn:hub:exchange-log:1\"><Content Id=\"evidence-content\"/></EvidenceBundle>"u8.ToArray(), TestSigning.Hub.Certificate);
        Assert.Contains("exactly its <Content> and then one ds:Signature", checkpointOnly.FirstProblem!.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null, null, "give a dossier")]
    [InlineData("", null, null, "1 to 200 characters")]
    [InlineData(null, "2026-01-02T00:00:00Z", null, "needs both from and to")]
    [InlineData(null, "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z", "from must be before to")]
    public void An_evidence_query_without_a_dossier_or_a_whole_range_is_refused(string? dossier, string? from, string? to, string expected)
    {
        var query = new EvidenceQuery
        {
            Dossier = dossier,
            From = from is null ? null : DateTimeOffset.Parse(from, System.Globalization.CultureInfo.InvariantCulture),
            To = to is null ? null : DateTimeOffset.Parse(to, System.Globalization.CultureInfo.InvariantCulture),
        };
        Assert.Contains(expected, query.Problem(), StringComparison.Ordinal);
        Assert.Null(new EvidenceQuery { Dossier = "X" }.Problem());
    }

    [Fact]
    public void A_detached_signature_sits_after_the_signed_element_and_covers_it_without_an_enveloped_transform()
    {
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml("<r><a Id=\"x\">text</a></r>");
        var signature = XmlDsigSigner.SignDetached((XmlElement)document.DocumentElement!.FirstChild!, TestSigning.Hub.Certificate);

        Assert.Same(signature, document.DocumentElement.LastChild);
        Assert.DoesNotContain("enveloped-signature", signature.OuterXml, StringComparison.Ordinal);
        var signedXml = new SignedXml(document);
        signedXml.LoadXml(signature);
        Assert.True(signedXml.CheckSignature(TestSigning.Hub.Certificate.GetRSAPublicKey()!));
        document.DocumentElement.FirstChild!.InnerText = "texT";
        Assert.False(signedXml.CheckSignature(TestSigning.Hub.Certificate.GetRSAPublicKey()!));
    }

    private static string Context(byte[] bundle, int position)
    {
        var start = Math.Max(0, position - 30);
        return Encoding.UTF8.GetString(bundle, start, Math.Min(60, bundle.Length - start));
    }
}
