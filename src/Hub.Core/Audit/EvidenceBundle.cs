using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml;
using Hub.Core.Xml;
using Npgsql;

namespace Hub.Core.Audit;

/// <summary>
/// Evidence bundles: what the exchange log holds about a dossier or a time range, exported as one XML document that an
/// auditor verifies offline with nothing but the hub's certificate.
/// </summary>
/// <remarks>
/// <code>
/// &lt;EvidenceBundle xmlns="urn:hub:exchange-log:1"&gt;
///   &lt;Content Id="evidence-content"&gt;
///     &lt;Query&gt;&lt;Dossier&gt;…&lt;/Dossier&gt; | &lt;From&gt;…&lt;/From&gt;&lt;To&gt;…&lt;/To&gt;, &lt;ConnectorId&gt;…&lt;/ConnectorId&gt;&lt;/Query&gt;
///     &lt;ExportedAt&gt;…&lt;/ExportedAt&gt;&lt;Signer&gt;thumbprint&lt;/Signer&gt;&lt;Unsealed&gt;n&lt;/Unsealed&gt;
///     &lt;Checkpoint Id="checkpoint-N"&gt;… its own ds:Signature …&lt;/Checkpoint&gt;
///     &lt;Entry&gt;&lt;LeafIndex&gt;…&lt;/LeafIndex&gt;&lt;Id&gt;…&lt;/Id&gt;… every field of the entry …&lt;Payload&gt;base64&lt;/Payload&gt;
///       &lt;InclusionPath&gt;&lt;Hash&gt;hex&lt;/Hash&gt;…&lt;/InclusionPath&gt;&lt;/Entry&gt;…
///   &lt;/Content&gt;
///   &lt;ds:Signature&gt;… one reference to #evidence-content …&lt;/ds:Signature&gt;
/// &lt;/EvidenceBundle&gt;
/// </code>
/// Each entry's fields are written as the exact text that goes into <see cref="ExchangeEntry.LeafData"/>, one element
/// per field in that order, absent when the field has no value; a value that XML cannot carry unchanged (control
/// characters, carriage returns) is written as the base64 of its UTF-8 bytes with <c>Encoding="base64"</c>. The
/// verifier rebuilds each entry, recomputes its leaf hash and follows its inclusion path to the root of the embedded
/// checkpoint, whose own signature still verifies (exclusive c14n); the bundle's signature covers everything else.
/// No whitespace is written anywhere, so every byte of the document is either signed or structural.
/// </remarks>
public sealed class EvidenceBundle(
    NpgsqlDataSource dataSource, ExchangeLog log, ExchangeSealer sealer, ExchangeProofs proofs, IHubSigningCertificate signing, TimeProvider timeProvider)
{
    /// <summary>The <c>Id</c> of the signed content.</summary>
    public const string ContentId = "evidence-content";

    /// <summary>Entries in one bundle at most: a longer range must be exported in parts.</summary>
    public const int MaxEntries = 10_000;

    /// <summary>Payload bytes in one bundle at most (64 MiB).</summary>
    public const long MaxPayloadBytes = 64L * 1024 * 1024;

    /// <summary>The largest document the verifier reads (128 MiB: the payload limit in base64, plus the entries).</summary>
    public const int MaxDocumentBytes = 128 * 1024 * 1024;

    private const string Ns = Checkpoint.Namespace;

    /// <summary>
    /// Seals what is waiting, then exports the entries matching <paramref name="query"/> that the latest checkpoint
    /// covers, each with its inclusion path to that checkpoint, and signs the bundle with the hub's certificate.
    /// </summary>
    /// <param name="query">What to export; must be valid (<see cref="EvidenceQuery.Problem"/>).</param>
    /// <param name="trusted">The certificates the hub's checkpoints may be signed with.</param>
    /// <param name="cancellationToken">Cancels.</param>
    /// <exception cref="EvidenceExportException">Nothing matches, or too much does.</exception>
    public async Task<EvidenceExport> ExportAsync(EvidenceQuery query, IReadOnlyCollection<X509Certificate2> trusted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(query));
        }

        await sealer.SealAsync(evenIfEmpty: true, cancellationToken);
        var search = new ExchangeSearch { Dossier = query.Dossier, ConnectorId = query.ConnectorId, From = query.From, To = query.To, Limit = MaxEntries };
        var matching = await log.SearchAsync(search, cancellationToken);
        if (matching.Count == MaxEntries && (await log.SearchAsync(search with { BeforeId = matching[^1].Id, Limit = 1 }, cancellationToken)).Count > 0)
        {
            throw new EvidenceExportException(EvidenceExportFailure.TooLarge,
                $"More than {MaxEntries:N0} exchange-log entries match {query}: export a shorter time range, or one connector at a time.");
        }

        var (checkpoint, entryProofs) = await proofs.ProveAsync([.. matching.Select(e => e.Id)], trusted, cancellationToken);
        if (checkpoint is null)
        {
            throw new EvidenceExportException(EvidenceExportFailure.NoCheckpoint,
                "The exchange log has no checkpoint that verifies with the hub's trusted certificates: run a verification (POST /api/exchange/verify).");
        }

        var proofById = entryProofs.ToDictionary(p => p.EntryId);
        var included = matching.Where(e => proofById.ContainsKey(e.Id)).OrderBy(e => proofById[e.Id].LeafIndex).ToList();
        var unsealed = matching.Count - included.Count;
        if (included.Count == 0)
        {
            throw new EvidenceExportException(EvidenceExportFailure.NothingMatches, unsealed == 0
                ? $"No exchange-log entry matches {query}."
                : $"The {unsealed} exchange-log entries matching {query} are not sealed yet: try again in a moment.");
        }

        var kept = included.Where(HasKeptPayload).ToList();
        var payloadBytes = kept.Sum(e => e.PayloadSize ?? 0);
        if (payloadBytes > MaxPayloadBytes)
        {
            throw new EvidenceExportException(EvidenceExportFailure.TooLarge,
                $"The entries matching {query} carry {payloadBytes:N0} payload bytes, more than a bundle holds ({MaxPayloadBytes:N0}): export a shorter time range.");
        }

        var payloads = await PayloadsAsync([.. kept.Select(e => e.PayloadSha256!).DistinctBy(Convert.ToHexString)], cancellationToken);
        var certificate = signing.Certificate;
        var exportedAt = ExchangeEntry.ToMicroseconds(timeProvider.GetUtcNow());

        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        var root = document.AppendChild(document.CreateElement("EvidenceBundle", Ns))!;
        var content = (XmlElement)root.AppendChild(document.CreateElement("Content", Ns))!;
        content.SetAttribute("Id", ContentId);
        var queryElement = Add(content, "Query");
        Add(queryElement, "Dossier", query.Dossier);
        Add(queryElement, "ConnectorId", query.ConnectorId);
        Add(queryElement, "From", query.From is { } from ? ExchangeEntry.FormatTime(from) : null);
        Add(queryElement, "To", query.To is { } to ? ExchangeEntry.FormatTime(to) : null);
        Add(content, "ExportedAt", ExchangeEntry.FormatTime(exportedAt));
        Add(content, "Signer", Checkpoint.ThumbprintOf(certificate));
        Add(content, "Unsealed", unsealed.ToString(CultureInfo.InvariantCulture));
        content.AppendChild(document.ImportNode(Checkpoint.Parse(checkpoint.Document).DocumentElement!, deep: true));
        foreach (var entry in included)
        {
            var proof = proofById[entry.Id];
            var element = Add(content, "Entry");
            Add(element, "LeafIndex", proof.LeafIndex.ToString(CultureInfo.InvariantCulture));
            foreach (var (name, value) in Fields(entry))
            {
                Add(element, name, value);
            }

            if (HasKeptPayload(entry) && payloads.TryGetValue(Convert.ToHexString(entry.PayloadSha256!), out var payload))
            {
                Add(element, "Payload", Convert.ToBase64String(payload));
            }

            var path = Add(element, "InclusionPath");
            foreach (var hash in proof.Path)
            {
                Add(path, "Hash", Convert.ToHexStringLower(hash));
            }
        }

        XmlDsigSigner.SignDetached(content, certificate);
        return new EvidenceExport(Encoding.UTF8.GetBytes(document.OuterXml), included.Count, unsealed, checkpoint.TreeSize, checkpoint.RootHash, exportedAt);

        XmlElement Add(XmlNode parent, string name, string? value = "")
        {
            var element = document.CreateElement(name, Ns);
            if (value is null)
            {
                return element;
            }

            parent.AppendChild(element);
            // <X></X> rather than <X />: no whitespace inside tags, where it would not be signed.
            element.IsEmpty = false;
            if (value.Length > 0)
            {
                if (NeedsBase64(value))
                {
                    element.SetAttribute("Encoding", "base64");
                    value = Convert.ToBase64String(Encoding.UTF8.GetBytes(value));
                }

                element.AppendChild(document.CreateTextNode(value));
            }

            return element;
        }
    }

    /// <summary>The fields of an entry in leaf-data order, as the text <see cref="ExchangeEntry.LeafData"/> hashes (null when absent).</summary>
    private static IEnumerable<(string Name, string? Value)> Fields(ExchangeEntry e)
    {
        yield return ("Id", e.Id.ToString(CultureInfo.InvariantCulture));
        yield return ("RecordedAt", ExchangeEntry.FormatTime(e.RecordedAt));
        yield return ("Kind", e.Kind);
        yield return ("ConnectorId", e.ConnectorId);
        yield return ("Direction", e.Direction);
        yield return ("Transport", e.Transport);
        yield return ("ReceivedAt", e.ReceivedAt is { } r ? ExchangeEntry.FormatTime(r) : null);
        yield return ("ContentType", e.ContentType);
        yield return ("PayloadSha256", e.PayloadSha256 is { } h ? Convert.ToHexStringLower(h) : null);
        yield return ("PayloadSize", e.PayloadSize?.ToString(CultureInfo.InvariantCulture));
        yield return ("PayloadWithheld", e.PayloadWithheld);
        yield return ("Outcome", e.Outcome);
        yield return ("Reason", e.Reason);
        foreach (var code in e.Dossiers)
        {
            yield return ("Dossier", code);
        }

        yield return ("MappingVersion", e.MappingVersion);
        yield return ("RunId", e.RunId?.ToString(CultureInfo.InvariantCulture));
        yield return ("Actor", e.Actor);
        yield return ("Action", e.Action);
        yield return ("Detail", e.Detail);
    }

    private static bool HasKeptPayload(ExchangeEntry e) => e.PayloadSha256 is not null && e.PayloadWithheld is null;

    /// <summary>
    /// Whether XML cannot carry the text unchanged: characters XML 1.0 does not allow, and carriage returns (a parser
    /// turns them into line feeds).
    /// </summary>
    private static bool NeedsBase64(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\r')
            {
                return true;
            }

            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }

            if (!XmlConvert.IsXmlChar(c))
            {
                return true;
            }
        }

        return false;
    }

    private async Task<Dictionary<string, byte[]>> PayloadsAsync(byte[][] hashes, CancellationToken cancellationToken)
    {
        var payloads = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (hashes.Length == 0)
        {
            return payloads;
        }

        await using var command = dataSource.CreateCommand("select sha256, content from exchange_payload where sha256 = any($1)");
        command.Parameters.Add(new() { Value = hashes });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            payloads[Convert.ToHexString(reader.GetFieldValue<byte[]>(0))] = reader.GetFieldValue<byte[]>(1);
        }

        return payloads;
    }

    /// <summary>Verifies a bundle offline against the hub's certificate (see <see cref="Verify(byte[], IReadOnlyCollection{X509Certificate2})"/>).</summary>
    public static EvidenceVerification Verify(byte[] bundle, X509Certificate2 certificate) => Verify(bundle, [certificate]);

    /// <summary>
    /// Verifies a bundle offline, trusting only <paramref name="trusted"/> (never a key carried in the document): that it
    /// is well-formed and of the expected shape; the embedded checkpoint's signature; for each entry its payload's
    /// SHA-256 and size, its leaf hash recomputed from its fields, and its inclusion path to the checkpoint's root; and
    /// the bundle's own signature over all of it.
    /// </summary>
    /// <param name="bundle">The document's bytes, as downloaded.</param>
    /// <param name="trusted">The hub's signing certificates (the current one, and earlier ones after a key rotation).</param>
    /// <returns>What was checked and every problem found, in document order (the bundle's own signature last).</returns>
    public static EvidenceVerification Verify(byte[] bundle, IReadOnlyCollection<X509Certificate2> trusted)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(trusted);
        return new BundleVerifier(trusted).Run(bundle);
    }

    /// <summary>One verification: reads the document, collecting problems as it goes.</summary>
    private sealed class BundleVerifier(IReadOnlyCollection<X509Certificate2> trusted)
    {
        private readonly List<EvidenceProblem> _problems = [];
        private EvidenceQuery? _query;
        private DateTimeOffset? _exportedAt;
        private string? _signer;
        private long _unsealed;
        private Checkpoint? _checkpoint;
        private int _entries;

        public EvidenceVerification Run(byte[] bundle)
        {
            if (bundle.Length > MaxDocumentBytes)
            {
                return Fail($"the bundle has {bundle.Length:N0} bytes, more than the {MaxDocumentBytes:N0} a bundle may have");
            }

            XmlDocument document;
            try
            {
                document = Load(bundle);
            }
            catch (XmlException e)
            {
                return Fail("the bundle is not well-formed XML: " + e.Message);
            }

            if (Structure(document) is not { } parts)
            {
                return Result();
            }

            var (content, signature) = parts;
            var children = content.ChildNodes.Cast<XmlNode>().ToList();
            if (children.Any(n => n is not XmlElement element || element.NamespaceURI != Ns))
            {
                return Fail("the bundle's <Content> holds something other than elements of " + Ns);
            }

            var elements = children.Cast<XmlElement>().ToList();
            if (elements.Count < 5 || elements[0].LocalName != "Query" || elements[1].LocalName != "ExportedAt" || elements[2].LocalName != "Signer"
                || elements[3].LocalName != "Unsealed" || elements[4].LocalName != "Checkpoint" || elements.Skip(5).Any(e => e.LocalName != "Entry"))
            {
                return Fail("the bundle's <Content> is not Query, ExportedAt, Signer, Unsealed, Checkpoint, then entries");
            }

            Header(elements);
            var checkpointElement = elements[4];
            var checkpointValid = CheckCheckpoint(checkpointElement);
            long previousLeaf = -1;
            var position = 0;
            foreach (var entry in elements.Skip(5))
            {
                position++;
                _entries++;
                CheckEntry(entry, position, checkpointValid, ref previousLeaf);
            }

            CheckBundleSignature(document, signature);
            return Result();
        }

        private static XmlDocument Load(byte[] bundle)
        {
            var settings = new XmlReaderSettings
            {
                DtdProcessing = DtdProcessing.Prohibit,
                XmlResolver = null,
                MaxCharactersInDocument = MaxDocumentBytes,
                IgnoreWhitespace = false,
            };
            var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
            using var reader = XmlReader.Create(new MemoryStream(bundle, writable: false), settings);
            document.Load(reader);
            return document;
        }

        /// <summary>The root holds exactly the content and one signature, and nothing else is outside the root.</summary>
        private (XmlElement Content, XmlElement Signature)? Structure(XmlDocument document)
        {
            if (document.ChildNodes.Cast<XmlNode>().Any(n => n is not (XmlElement or XmlDeclaration or XmlWhitespace)))
            {
                Problem("the bundle holds something besides its root element (a comment, a processing instruction or a document type)");
                return null;
            }

            var root = document.DocumentElement!;
            if (root.LocalName != "EvidenceBundle" || root.NamespaceURI != Ns)
            {
                Problem($"the root element is <{root.Name}> in '{root.NamespaceURI}', not <EvidenceBundle> in {Ns}");
                return null;
            }

            if (root.Attributes.Cast<XmlAttribute>().Any(a => a.Prefix != "xmlns" && a.Name != "xmlns"))
            {
                Problem("the <EvidenceBundle> element carries attributes, which are not signed");
                return null;
            }

            var children = root.ChildNodes.Cast<XmlNode>().ToList();
            if (children is not [XmlElement { LocalName: "Content", NamespaceURI: Ns } content, XmlElement { LocalName: "Signature", NamespaceURI: XmlDsigSigner.DsigNamespace } signature])
            {
                Problem("the <EvidenceBundle> element must hold exactly its <Content> and then one ds:Signature, nothing else");
                return null;
            }

            if (content.GetAttribute("Id") != ContentId)
            {
                Problem($"the bundle's <Content> has Id '{content.GetAttribute("Id")}', not '{ContentId}'");
                return null;
            }

            var sameId = document.SelectNodes($"//*[@Id='{ContentId}' or @ID='{ContentId}' or @id='{ContentId}']")!.Count;
            if (sameId != 1)
            {
                Problem($"{sameId} elements carry the Id '{ContentId}': the signed content is ambiguous");
                return null;
            }

            return (content, signature);
        }

        private void Header(List<XmlElement> elements)
        {
            try
            {
                var query = elements[0];
                if (query.ChildNodes.Cast<XmlNode>().Any(n => n is not XmlElement { NamespaceURI: Ns }))
                {
                    throw new FormatException("the query holds something other than its fields");
                }

                var fields = new FieldReader(query);
                _query = new EvidenceQuery
                {
                    Dossier = fields.Optional("Dossier"),
                    ConnectorId = fields.Optional("ConnectorId"),
                    From = fields.Optional("From") is { } from ? Time(from, "From") : null,
                    To = fields.Optional("To") is { } to ? Time(to, "To") : null,
                };
                fields.End();
                _exportedAt = Time(Value(elements[1]), "ExportedAt");
                _signer = Value(elements[2]);
                _unsealed = Number(Value(elements[3]), "Unsealed");
            }
            catch (FormatException e)
            {
                Problem("the bundle's header cannot be read: " + e.Message);
            }
        }

        private bool CheckCheckpoint(XmlElement element)
        {
            try
            {
                _checkpoint = Checkpoint.Read(element);
            }
            catch (FormatException e)
            {
                Problem("the checkpoint cannot be read: " + e.Message);
                return false;
            }

            var name = $"the checkpoint of {_checkpoint.TreeSize} leaves";
            if (Trusted(_checkpoint.Signer) is not { } certificate)
            {
                Problem($"{name} is signed by certificate {_checkpoint.Signer}, which is not among the certificates given");
                return false;
            }

            string? bad;
            try
            {
                bad = Checkpoint.CheckSignature(element, certificate);
            }
            catch (Exception e) when (e is CryptographicException or FormatException or XmlException)
            {
                bad = "its signature cannot be read: " + e.Message;
            }

            if (bad is not null)
            {
                Problem($"{name}: {bad}");
                return false;
            }

            return true;
        }

        private void CheckEntry(XmlElement element, int position, bool checkpointValid, ref long previousLeaf)
        {
            long? id = null;
            long? leaf = null;
            try
            {
                if (element.Attributes.Count > 0 || element.ChildNodes.Cast<XmlNode>().Any(n => n is not XmlElement { NamespaceURI: Ns }))
                {
                    throw new FormatException("it holds something other than its field elements");
                }

                var fields = new FieldReader(element);
                leaf = Number(fields.Required("LeafIndex"), "LeafIndex");
                id = Number(fields.Required("Id"), "Id");
                var entry = new ExchangeEntry
                {
                    Id = id.Value,
                    RecordedAt = Time(fields.Required("RecordedAt"), "RecordedAt"),
                    Kind = fields.Required("Kind"),
                    ConnectorId = fields.Optional("ConnectorId"),
                    Direction = fields.Optional("Direction"),
                    Transport = fields.Optional("Transport"),
                    ReceivedAt = fields.Optional("ReceivedAt") is { } received ? Time(received, "ReceivedAt") : null,
                    ContentType = fields.Optional("ContentType"),
                    PayloadSha256 = fields.Optional("PayloadSha256") is { } sha ? Hash(sha, "PayloadSha256") : null,
                    PayloadSize = fields.Optional("PayloadSize") is { } size ? Number(size, "PayloadSize") : null,
                    PayloadWithheld = fields.Optional("PayloadWithheld"),
                    Outcome = fields.Required("Outcome"),
                    Reason = fields.Optional("Reason"),
                    Dossiers = fields.Repeated("Dossier"),
                    MappingVersion = fields.Optional("MappingVersion"),
                    RunId = fields.Optional("RunId") is { } run ? Number(run, "RunId") : null,
                    Actor = fields.Optional("Actor"),
                    Action = fields.Optional("Action"),
                    Detail = fields.Optional("Detail"),
                };
                var payload = fields.Optional("Payload", plainOnly: true) is { } base64 ? Base64(base64) : null;
                var pathElement = fields.RequiredElement("InclusionPath");
                fields.End();
                var path = PathOf(pathElement);

                var name = $"entry {id} (leaf {leaf})";
                if (leaf <= previousLeaf)
                {
                    Problem(id, leaf, $"{name} is out of order: entries are listed by leaf index, each once");
                }

                previousLeaf = Math.Max(previousLeaf, leaf.Value);
                if (PayloadProblem(entry, payload) is { } payloadProblem)
                {
                    Problem(id, leaf, $"{name}: {payloadProblem}");
                }

                if (_query is { } query && !query.Matches(entry))
                {
                    Problem(id, leaf, $"{name} does not match the bundle's query ({query})");
                }

                if (checkpointValid && _checkpoint is { } checkpoint
                    && !MerkleTree.VerifyInclusion(leaf.Value, checkpoint.TreeSize, entry.LeafHash(), path, checkpoint.RootHash))
                {
                    Problem(id, leaf, leaf >= checkpoint.TreeSize
                        ? $"{name} is outside the checkpoint's tree of {checkpoint.TreeSize} leaves"
                        : $"{name}: its leaf hash, recomputed from its fields, does not lead to the checkpoint's root through its inclusion path: the entry or its path was altered");
                }
            }
            catch (FormatException e)
            {
                var name = id is { } known ? $"entry {known}" + (leaf is { } l ? $" (leaf {l})" : "") : $"entry #{position} of the bundle";
                Problem(id, leaf, $"{name} cannot be read: {e.Message}");
            }
        }

        private static string? PayloadProblem(ExchangeEntry entry, byte[]? payload)
        {
            if (payload is null)
            {
                return HasKeptPayload(entry) ? "its payload is missing from the bundle" : null;
            }

            if (!HasKeptPayload(entry))
            {
                return "it carries a payload that its fields do not declare";
            }

            if (!SHA256.HashData(payload).AsSpan().SequenceEqual(entry.PayloadSha256))
            {
                return "its payload does not match its SHA-256 (the payload was altered)";
            }

            return payload.Length == entry.PayloadSize ? null : $"its payload has {payload.Length} bytes, not the {entry.PayloadSize} its fields declare";
        }

        private void CheckBundleSignature(XmlDocument document, XmlElement signature)
        {
            if (_signer is null)
            {
                Problem("the bundle's signature cannot be checked: its signer is unreadable");
                return;
            }

            if (Trusted(_signer) is not { } certificate)
            {
                Problem($"the bundle is signed by certificate {_signer}, which is not among the certificates given");
                return;
            }

            var signedXml = new SignedXml(document);
            try
            {
                signedXml.LoadXml(signature);
            }
            catch (Exception e) when (e is CryptographicException or FormatException or XmlException)
            {
                Problem("the bundle's signature cannot be read: " + e.Message);
                return;
            }

            var info = signedXml.SignedInfo!;
            if (info.CanonicalizationMethod != SignedXml.XmlDsigExcC14NTransformUrl || info.SignatureMethod != SignedXml.XmlDsigRSASHA256Url
                || info.References.Count != 1 || info.References[0] is not Reference reference || reference.Uri != "#" + ContentId
                || reference.DigestMethod != SignedXml.XmlDsigSHA256Url || reference.TransformChain.Count != 1
                || reference.TransformChain[0].Algorithm != SignedXml.XmlDsigExcC14NTransformUrl)
            {
                Problem($"the bundle's signature is not one reference to #{ContentId} with exclusive c14n, SHA-256 and RSA-SHA256");
                return;
            }

            using var key = certificate.GetRSAPublicKey();
            bool valid;
            try
            {
                valid = key is not null && signedXml.CheckSignature(key);
            }
            catch (Exception e) when (e is CryptographicException or FormatException or XmlException)
            {
                Problem("the bundle's signature cannot be checked: " + e.Message);
                return;
            }

            if (!valid)
            {
                Problem($"the bundle's signature does not verify with certificate {_signer}: the bundle was altered after its export");
            }
        }

        private X509Certificate2? Trusted(string thumbprint) =>
            trusted.FirstOrDefault(c => string.Equals(Checkpoint.ThumbprintOf(c), thumbprint, StringComparison.OrdinalIgnoreCase));

        private EvidenceVerification Fail(string problem)
        {
            Problem(problem);
            return Result();
        }

        private void Problem(string problem) => _problems.Add(new EvidenceProblem(null, null, problem));

        private void Problem(long? entryId, long? leafIndex, string problem) => _problems.Add(new EvidenceProblem(entryId, leafIndex, problem));

        private EvidenceVerification Result() =>
            new(_problems.Count == 0, _problems, _query, _exportedAt, _signer, _checkpoint, _entries, _unsealed);
    }

    /// <summary>Reads an element's field children in a fixed order, each at most once unless repeated.</summary>
    private sealed class FieldReader
    {
        private readonly List<XmlElement> _elements;
        private int _next;

        public FieldReader(XmlElement parent)
        {
            _elements = [.. parent.ChildNodes.OfType<XmlElement>()];
            if (_elements.FirstOrDefault(e => e.NamespaceURI != Ns) is { } foreign)
            {
                throw new FormatException($"<{parent.LocalName}> holds <{foreign.Name}> from namespace '{foreign.NamespaceURI}'");
            }
        }

        public string? Optional(string name, bool plainOnly = false) =>
            _next < _elements.Count && _elements[_next].LocalName == name ? Value(_elements[_next++], plainOnly) : null;

        public string Required(string name) => Optional(name) ?? throw Missing(name);

        public XmlElement RequiredElement(string name) =>
            _next < _elements.Count && _elements[_next].LocalName == name ? _elements[_next++] : throw Missing(name);

        public List<string> Repeated(string name)
        {
            var values = new List<string>();
            while (Optional(name) is { } value)
            {
                values.Add(value);
            }

            return values;
        }

        public void End()
        {
            if (_next < _elements.Count)
            {
                throw new FormatException($"<{_elements[_next].LocalName}> is not expected there");
            }
        }

        private FormatException Missing(string name) =>
            new(_next < _elements.Count ? $"<{_elements[_next].LocalName}> is found where <{name}> is expected" : $"<{name}> is missing");
    }

    /// <summary>An element's text, decoded when written in base64; only the form the exporter writes is accepted.</summary>
    private static string Value(XmlElement element, bool plainOnly = false)
    {
        if (element.ChildNodes.Cast<XmlNode>().Any(n => n is not (XmlText or XmlWhitespace or XmlSignificantWhitespace)))
        {
            throw new FormatException($"<{element.LocalName}> holds more than text");
        }

        var encoding = element.GetAttributeNode("Encoding");
        if (element.Attributes.Count > (encoding is null ? 0 : 1) || (encoding is not null && (plainOnly || encoding.Value != "base64" || encoding.NamespaceURI.Length > 0)))
        {
            throw new FormatException($"<{element.LocalName}> carries an attribute that is not expected");
        }

        var text = element.InnerText;
        if (encoding is null)
        {
            return plainOnly || !NeedsBase64(text) ? text : throw new FormatException($"<{element.LocalName}> holds characters that are written in base64");
        }

        string value;
        try
        {
            value = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64(text));
        }
        catch (ArgumentException)
        {
            throw new FormatException($"<{element.LocalName}> is not base64 of UTF-8 text");
        }

        return NeedsBase64(value) ? value : throw new FormatException($"<{element.LocalName}> is in base64 though its text needs no encoding");
    }

    /// <summary>Base64 in the one form the exporter writes (no whitespace, canonical padding).</summary>
    private static byte[] Base64(string text)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new FormatException("a value is not valid base64");
        }

        return Convert.ToBase64String(bytes) == text ? bytes : throw new FormatException("a value is not base64 in canonical form");
    }

    private static long Number(string text, string name) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n.ToString(CultureInfo.InvariantCulture) == text
            ? n
            : throw new FormatException($"<{name}> '{text}' is not a number in canonical form");

    private static DateTimeOffset Time(string text, string name)
    {
        try
        {
            var time = ExchangeEntry.ParseTime(text);
            return ExchangeEntry.FormatTime(time) == text ? time : throw new FormatException();
        }
        catch (FormatException)
        {
            throw new FormatException($"<{name}> '{text}' is not a time written as yyyy-MM-ddTHH:mm:ss.ffffffZ");
        }
    }

    private static byte[] Hash(string text, string name) =>
        text.Length == 64 && text.All(char.IsAsciiHexDigit) && !text.Any(char.IsAsciiLetterUpper)
            ? Convert.FromHexString(text)
            : throw new FormatException($"<{name}> is not 64 lower-case hex digits");

    private static List<byte[]> PathOf(XmlElement path)
    {
        if (path.Attributes.Count > 0)
        {
            throw new FormatException("<InclusionPath> carries an attribute that is not expected");
        }

        var fields = new FieldReader(path);
        var hashes = fields.Repeated("Hash").Select(h => Hash(h, "Hash")).ToList();
        fields.End();
        return path.ChildNodes.Count == hashes.Count ? hashes : throw new FormatException("<InclusionPath> holds more than its hashes");
    }
}

/// <summary>What an evidence bundle covers: a dossier's entries, or a time range; optionally one connector's only.</summary>
public sealed record EvidenceQuery
{
    /// <summary>The dossier code (MaHoSo) the entries touched.</summary>
    public string? Dossier { get; init; }

    /// <summary>The connector the entries came through.</summary>
    public string? ConnectorId { get; init; }

    /// <summary>Entries recorded at or after this time.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Entries recorded before this time.</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Why the query cannot be exported, or <c>null</c>.</summary>
    public string? Problem()
    {
        if (Dossier is { } dossier && (dossier.Length == 0 || dossier.Length > 200))
        {
            return "dossier must be a dossier code (MaHoSo) of 1 to 200 characters";
        }

        if (ConnectorId is { Length: 0 })
        {
            return "connector must not be empty";
        }

        if ((From is null) != (To is null))
        {
            return "a time range needs both from and to";
        }

        if (Dossier is null && From is null)
        {
            return "give a dossier, or a time range with from and to (optionally with a connector)";
        }

        return From >= To ? "from must be before to" : null;
    }

    /// <summary>Whether an entry falls under the query.</summary>
    public bool Matches(ExchangeEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return (Dossier is null || entry.Dossiers.Contains(Dossier, StringComparer.Ordinal))
            && (ConnectorId is null || entry.ConnectorId == ConnectorId)
            && (From is null || entry.RecordedAt >= From)
            && (To is null || entry.RecordedAt < To);
    }

    /// <summary>The query in words, for messages.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Dossier is not null)
        {
            parts.Add($"dossier {Dossier}");
        }

        if (From is { } from && To is { } to)
        {
            parts.Add($"recorded from {ExchangeEntry.FormatTime(from)} to {ExchangeEntry.FormatTime(to)}");
        }

        if (ConnectorId is not null)
        {
            parts.Add($"connector {ConnectorId}");
        }

        return string.Join(", ", parts);
    }
}

/// <summary>An exported bundle and what it holds.</summary>
/// <param name="Document">The signed XML document (UTF-8, no declaration).</param>
/// <param name="Entries">Entries in the bundle.</param>
/// <param name="Unsealed">Entries matching the query that were left out because the latest checkpoint does not cover them (appended after the seal).</param>
/// <param name="TreeSize">The size of the checkpoint the entries' paths lead to.</param>
/// <param name="RootHash">That checkpoint's root.</param>
/// <param name="ExportedAt">When the bundle was exported.</param>
public sealed record EvidenceExport(byte[] Document, int Entries, int Unsealed, long TreeSize, byte[] RootHash, DateTimeOffset ExportedAt);

/// <summary>Why a bundle cannot be exported.</summary>
public enum EvidenceExportFailure
{
    /// <summary>No sealed entry matches the query.</summary>
    NothingMatches,

    /// <summary>More entries or payload bytes match than a bundle holds.</summary>
    TooLarge,

    /// <summary>No checkpoint verifies with the trusted certificates.</summary>
    NoCheckpoint,
}

/// <summary>A bundle cannot be exported; the message says why and what to do.</summary>
public sealed class EvidenceExportException(EvidenceExportFailure failure, string message) : Exception(message)
{
    public EvidenceExportFailure Failure { get; } = failure;
}

/// <summary>The outcome of an offline verification of a bundle.</summary>
/// <param name="Valid">Whether every check passed.</param>
/// <param name="Problems">Every problem found, in document order (the bundle's own signature last).</param>
/// <param name="Query">What the bundle says it covers (when readable).</param>
/// <param name="ExportedAt">When it says it was exported.</param>
/// <param name="Signer">The thumbprint of the certificate it says signed it.</param>
/// <param name="Checkpoint">The embedded checkpoint (when readable).</param>
/// <param name="Entries">Entries in the bundle.</param>
/// <param name="Unsealed">Entries the bundle says were left out, not sealed yet at its export.</param>
public sealed record EvidenceVerification(
    bool Valid, IReadOnlyList<EvidenceProblem> Problems, EvidenceQuery? Query, DateTimeOffset? ExportedAt, string? Signer, Checkpoint? Checkpoint,
    int Entries, long Unsealed)
{
    /// <summary>The first problem, or <c>null</c> when valid.</summary>
    public EvidenceProblem? FirstProblem => Problems.Count > 0 ? Problems[0] : null;
}

/// <summary>A problem found in a bundle: the entry and leaf when it concerns one, and what is wrong.</summary>
public sealed record EvidenceProblem(long? EntryId, long? LeafIndex, string Problem);
