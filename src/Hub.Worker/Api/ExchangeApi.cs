using Hub.Worker.Identity;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Core.Audit;
using Hub.Worker.Audit;
using Npgsql;

namespace Hub.Worker.Api;

/// <summary>
/// What auditors need: search and read the exchange log, prove an entry is in a signed checkpoint, verify the whole
/// log, read checkpoints and the signing certificates, and export evidence bundles that verify offline.
/// </summary>
/// <remarks>
/// Views never carry payload bytes (only their SHA-256 in hex and their size). Raw payloads hold personal data: until
/// the hub has roles, every read of one (<c>GET /api/exchange/{id}/payload</c>) and every evidence export (which carries
/// payloads) is itself appended to the exchange log as an administrative entry (<c>exchange.payload-read</c>,
/// <c>evidence.exported</c>) with its actor (<see cref="Actors"/>), before the bytes are sent. Times are UTC.
/// </remarks>
public static class ExchangeApi
{
    /// <summary>The response header naming the exchange-log entry that records a payload read or an evidence export.</summary>
    public const string RecordedAsHeader = "X-Hub-Exchange-Entry";

    private const int DefaultLimit = 100;
    private const int MaxLimit = 1000;
    private static readonly string[] Outcomes = ["stored", "rejected", "done", "failed"];
    private static readonly string[] Kinds = [ExchangeRecord.MessageKind, ExchangeRecord.AdminKind];

    public static IServiceCollection AddExchangeApi(this IServiceCollection services) => services.AddSingleton<EvidenceBundle>();

    public static WebApplication MapExchangeApi(this WebApplication app)
    {
        // Operators and auditors read the log; raw payloads and evidence (which holds them) are for auditors only.
        var api = app.MapGroup("/api/exchange").RequireAuthorization(HubPolicies.Monitor);
        api.MapGet("/", SearchAsync);
        api.MapPost("/verify", VerifyAsync);
        api.MapGet("/checkpoints", CheckpointsAsync);
        api.MapGet("/checkpoints/{size}", CheckpointAsync);
        api.MapGet("/consistency", ConsistencyAsync);
        api.MapPost("/checkpoints", SealAsync).RequireAuthorization(HubPolicies.Operator);
        api.MapGet("/certificate", (HubSigning signing) =>
            Results.Text(string.Concat(signing.Trusted.Select(c => c.ExportCertificatePem() + "\n")), "application/x-pem-file"));
        api.MapGet("/evidence", EvidenceAsync).RequireAuthorization(HubPolicies.Auditor);
        api.MapGet("/{id}", GetAsync);
        api.MapGet("/{id}/payload", PayloadAsync).RequireAuthorization(HubPolicies.Auditor);
        api.MapGet("/{id}/proof", ProofAsync);
        return app;
    }

    private static async Task<IResult> SearchAsync(HttpContext http, ExchangeLog log, CancellationToken cancellationToken)
    {
        var p = new Parameters(http.Request.Query, "dossier", "connector", "from", "to", "outcome", "kind", "run", "before", "limit");
        var search = new ExchangeSearch
        {
            Dossier = p.Text("dossier"),
            ConnectorId = p.Text("connector"),
            From = p.Time("from"),
            To = p.Time("to"),
            Outcome = p.OneOf("outcome", Outcomes),
            Kind = p.OneOf("kind", Kinds),
            RunId = p.Number("run", 1),
            BeforeId = p.Number("before", 1),
            Limit = (int)(p.Number("limit", 1, MaxLimit) ?? DefaultLimit),
        };
        if (p.Problem() is { } problem)
        {
            return problem;
        }

        var entries = await log.SearchAsync(search, cancellationToken);
        return Results.Ok(entries.Select(EntryView.From));
    }

    private static async Task<IResult> GetAsync(string id, ExchangeLog log, CancellationToken cancellationToken)
    {
        if (EntryId(id) is not { } entryId)
        {
            return BadId(id);
        }

        return await log.GetAsync(entryId, cancellationToken) is { } entry ? Results.Ok(EntryView.From(entry)) : EntryNotFound(entryId);
    }

    private static async Task<IResult> PayloadAsync(string id, HttpContext http, ExchangeLog log, CancellationToken cancellationToken)
    {
        if (EntryId(id) is not { } entryId)
        {
            return BadId(id);
        }

        var (actor, reason, actorProblem) = Actors.Of(http);
        if (actorProblem is not null)
        {
            return BadRequest("Bad actor or reason", actorProblem);
        }

        if (await log.GetAsync(entryId, cancellationToken) is not { } entry)
        {
            return EntryNotFound(entryId);
        }

        var read = await ReadPayloadAsync(entry, actor, reason, http.Connection.RemoteIpAddress?.ToString(), log, cancellationToken);
        if (read.Problem is { } missing)
        {
            return NotFound(missing.Title, missing.Detail);
        }

        var (payload, readEntry) = (read.Bytes!, read.RecordedAs);
        http.Response.Headers[RecordedAsHeader] = readEntry.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers.CacheControl = "no-store";
        var contentType = MediaTypeHeaderValue.TryParse(entry.ContentType, out var parsed) ? parsed.ToString() : "application/octet-stream";
        return Results.Bytes(payload, contentType);
    }

    /// <summary>
    /// An entry's payload for an auditor (the API and the dashboard's audit view): first appended to the log as an admin
    /// entry <c>exchange.payload-read</c> with its actor and reason, then returned with the id of that entry; or why
    /// there are no bytes to give (nothing is logged then).
    /// </summary>
    internal static async Task<PayloadRead> ReadPayloadAsync(
        ExchangeEntry entry, string actor, string? reason, string? remoteAddress, ExchangeLog log, CancellationToken cancellationToken)
    {
        if (entry.PayloadSha256 is null)
        {
            return new(null, 0, ("No payload", $"Exchange-log entry {entry.Id} carries no payload (an action, or a message recorded without its bytes)."));
        }

        if (entry.PayloadWithheld is { } withheld)
        {
            return new(null, 0, ("Payload withheld", $"The payload of exchange-log entry {entry.Id} was not kept ({withheld}); only its SHA-256 and size are."));
        }

        if (await log.PayloadAsync(entry, cancellationToken) is not { } payload)
        {
            return new(null, 0, ("Payload missing",
                $"The payload of exchange-log entry {entry.Id} is not in the store although it should be: run a verification (POST /api/exchange/verify)."));
        }

        var readEntry = await log.AppendAsync(new ExchangeRecord
        {
            Kind = ExchangeRecord.AdminKind,
            ConnectorId = entry.ConnectorId,
            Outcome = "done",
            Actor = actor,
            Action = "exchange.payload-read",
            Reason = reason,
            Dossiers = entry.Dossiers,
            Detail = new JsonObject
            {
                ["entryId"] = entry.Id,
                ["payloadSha256"] = Convert.ToHexStringLower(entry.PayloadSha256),
                ["payloadSize"] = payload.Length,
                ["remoteAddress"] = remoteAddress,
            }.ToJsonString(),
        }, cancellationToken);
        return new(payload, readEntry, null);
    }

    private static async Task<IResult> ProofAsync(string id, ExchangeLog log, ExchangeProofs proofs, HubSigning signing, CancellationToken cancellationToken)
    {
        if (EntryId(id) is not { } entryId)
        {
            return BadId(id);
        }

        if (await log.GetAsync(entryId, cancellationToken) is not { } entry)
        {
            return EntryNotFound(entryId);
        }

        if (entry.LeafIndex is null)
        {
            return Conflict("Entry not sealed yet",
                $"Exchange-log entry {entryId} is not sealed yet: the hub seals every Hub:Audit:SealInterval (30 s by default); POST /api/exchange/checkpoints seals now.");
        }

        var (checkpoint, found) = await proofs.ProveAsync([entryId], signing.Trusted, cancellationToken);
        if (checkpoint is null || found.Count == 0)
        {
            return Conflict("Entry not covered by a valid checkpoint",
                $"Exchange-log entry {entryId} (leaf {entry.LeafIndex}) is not covered by a checkpoint that verifies with the hub's certificates: run a verification (POST /api/exchange/verify).");
        }

        var proof = found[0];
        return Results.Ok(new ProofView(
            entryId, proof.LeafIndex, proof.TreeSize, Convert.ToHexStringLower(proof.LeafHash), [.. proof.Path.Select(Convert.ToHexStringLower)],
            Convert.ToHexStringLower(checkpoint.RootHash), entry.LeafHash().AsSpan().SequenceEqual(proof.LeafHash), checkpoint.Document));
    }

    private static async Task<IResult> VerifyAsync(HttpContext http, ExchangeVerifier verifier, HubSigning signing, CancellationToken cancellationToken)
    {
        var p = new Parameters(http.Request.Query, "from", "to");
        var from = p.Number("from", 0);
        var to = p.Number("to", 0);
        if (p.Problem() is { } problem)
        {
            return problem;
        }

        if (from >= to)
        {
            return BadRequest("Bad parameters", "'from' must be smaller than 'to' (leaf indexes: from inclusive, to exclusive).");
        }

        return Results.Ok(await verifier.VerifyAsync(signing.Trusted, from, to, cancellationToken));
    }

    private static async Task<IResult> CheckpointsAsync(HttpContext http, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var p = new Parameters(http.Request.Query, "limit", "before");
        var limit = (int)(p.Number("limit", 1, MaxLimit) ?? 50);
        var before = p.Number("before", 1);
        if (p.Problem() is { } problem)
        {
            return problem;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var checkpoints = await ExchangeCheckpoints.ListAsync(connection, limit, before, cancellationToken);
        return Results.Ok(checkpoints.Select(CheckpointView.From));
    }

    private static async Task<IResult> CheckpointAsync(string size, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        if (!long.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var treeSize))
        {
            return BadRequest("Bad checkpoint size", $"'{size}' is not a tree size: checkpoints are named by their number of leaves (GET /api/exchange/checkpoints lists them).");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ExchangeCheckpoints.GetAsync(connection, treeSize, cancellationToken) is { } checkpoint
            ? Results.Text(checkpoint.Document, "application/xml", Encoding.UTF8)
            : NotFound("Checkpoint not found", $"No checkpoint has a tree of {treeSize} leaves (GET /api/exchange/checkpoints lists them).");
    }

    private static async Task<IResult> ConsistencyAsync(HttpContext http, ExchangeProofs proofs, HubSigning signing, CancellationToken cancellationToken)
    {
        var p = new Parameters(http.Request.Query, "from", "to");
        var from = p.Number("from", 1);
        var to = p.Number("to", 1);
        if (p.Problem() is { } problem)
        {
            return problem;
        }

        if (from is null)
        {
            return BadRequest("Bad parameters", "'from' (the tree size of the checkpoint you kept) is required.");
        }

        var (proof, why) = await proofs.ProveConsistencyAsync(from.Value, to, signing.Trusted, cancellationToken);
        if (proof is null)
        {
            return Conflict("No consistency proof", $"No consistency proof from {from} leaves: {why}.");
        }

        return Results.Ok(new ConsistencyView(
            proof.OldSize, Convert.ToHexStringLower(proof.OldRoot), proof.NewSize, Convert.ToHexStringLower(proof.NewRoot),
            [.. proof.Path.Select(Convert.ToHexStringLower)], proof.Checkpoint.Document));
    }

    private static async Task<IResult> SealAsync(ExchangeSealer sealer, CancellationToken cancellationToken) =>
        await sealer.SealAsync(evenIfEmpty: true, cancellationToken) is { } latest
            ? Results.Ok(CheckpointView.From(latest))
            : Results.Problem(title: "Nothing sealed", detail: "The exchange log has no checkpoint after sealing.", statusCode: StatusCodes.Status500InternalServerError);

    private static async Task<IResult> EvidenceAsync(HttpContext http, EvidenceBundle bundles, ExchangeLog log, HubSigning signing, CancellationToken cancellationToken)
    {
        var p = new Parameters(http.Request.Query, "dossier", "from", "to", "connector", Actors.ReasonParameter);
        var query = new EvidenceQuery { Dossier = p.Text("dossier"), From = p.Time("from"), To = p.Time("to"), ConnectorId = p.Text("connector") };
        if (p.Problem() is { } problem)
        {
            return problem;
        }

        if (query.Problem() is { } queryProblem)
        {
            return BadRequest("Bad evidence query", char.ToUpperInvariant(queryProblem[0]) + queryProblem[1..] + ".");
        }

        var (actor, reason, actorProblem) = Actors.Of(http);
        if (actorProblem is not null)
        {
            return BadRequest("Bad actor or reason", actorProblem);
        }

        EvidenceExport export;
        try
        {
            export = await bundles.ExportAsync(query, signing.Trusted, cancellationToken);
        }
        catch (EvidenceExportException e)
        {
            return e.Failure switch
            {
                EvidenceExportFailure.NothingMatches => NotFound("Nothing to export", e.Message),
                EvidenceExportFailure.TooLarge => BadRequest("Too much for one bundle", e.Message),
                _ => Conflict("No valid checkpoint", e.Message),
            };
        }

        var recorded = await log.AppendAsync(new ExchangeRecord
        {
            Kind = ExchangeRecord.AdminKind,
            ConnectorId = query.ConnectorId,
            Outcome = "done",
            Actor = actor,
            Action = "evidence.exported",
            Reason = reason,
            Dossiers = query.Dossier is null ? [] : [query.Dossier],
            Detail = new JsonObject
            {
                ["query"] = query.ToString(),
                ["entries"] = export.Entries,
                ["treeSize"] = export.TreeSize,
                ["rootHash"] = Convert.ToHexStringLower(export.RootHash),
                ["bundleSha256"] = Convert.ToHexStringLower(SHA256.HashData(export.Document)),
                ["remoteAddress"] = http.Connection.RemoteIpAddress?.ToString(),
            }.ToJsonString(),
        }, cancellationToken);
        http.Response.Headers[RecordedAsHeader] = recorded.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers.CacheControl = "no-store";
        return Results.File(export.Document, "application/xml", FileName(query, export.ExportedAt));
    }

    private static string FileName(EvidenceQuery query, DateTimeOffset exportedAt)
    {
        var subject = query.Dossier ?? $"{query.From!.Value.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{query.To!.Value.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}";
        if (query.ConnectorId is { } connector)
        {
            subject += "-" + connector;
        }

        var safe = new string([.. subject.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')]);
        return $"evidence-{safe}-{exportedAt.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}.xml";
    }

    private static long? EntryId(string id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : null;

    private static IResult BadId(string id) =>
        BadRequest("Bad entry id", $"'{id}' is not an exchange-log entry id (a positive whole number).");

    private static IResult EntryNotFound(long id) => NotFound("Entry not found", $"No exchange-log entry has id {id}.");

    private static IResult BadRequest(string title, string detail) =>
        Results.Problem(title: title, detail: detail, statusCode: StatusCodes.Status400BadRequest);

    private static IResult NotFound(string title, string detail) =>
        Results.Problem(title: title, detail: detail, statusCode: StatusCodes.Status404NotFound);

    private static IResult Conflict(string title, string detail) =>
        Results.Problem(title: title, detail: detail, statusCode: StatusCodes.Status409Conflict);

    /// <summary>Query parameters read one by one, each problem kept, so that a bad request lists all of them.</summary>
    private sealed class Parameters
    {
        private readonly IQueryCollection _query;
        private readonly List<string> _problems = [];

        public Parameters(IQueryCollection query, params string[] known)
        {
            _query = query;
            foreach (var unknown in query.Keys.Where(k => !known.Contains(k, StringComparer.Ordinal)))
            {
                _problems.Add($"'{unknown}' is not a parameter here (known: {string.Join(", ", known)}).");
            }
        }

        public string? Text(string name)
        {
            if (!_query.TryGetValue(name, out var values))
            {
                return null;
            }

            if (values.Count > 1)
            {
                _problems.Add($"'{name}' is given {values.Count} times; give it once.");
                return null;
            }

            var value = values.ToString();
            if (value.Length == 0)
            {
                _problems.Add($"'{name}' is empty; leave it out, or give a value.");
                return null;
            }

            return value;
        }

        public long? Number(string name, long min, long max = long.MaxValue)
        {
            if (Text(name) is not { } text)
            {
                return null;
            }

            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            _problems.Add(max == long.MaxValue
                ? $"'{name}' must be a whole number of at least {min}, not '{text}'."
                : $"'{name}' must be a whole number from {min} to {max}, not '{text}'.");
            return null;
        }

        public DateTimeOffset? Time(string name)
        {
            if (Text(name) is not { } text)
            {
                return null;
            }

            // A zone is required: a time without one would be read in the server's zone.
            var hasZone = text.EndsWith('Z') || (text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':');
            if (hasZone && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var time))
            {
                return time;
            }

            _problems.Add($"'{name}' must be an ISO-8601 time with its zone, such as 2026-11-23T08:00:00+07:00 or 2026-11-23T01:00:00Z, not '{text}'"
                + (text.Contains(' ', StringComparison.Ordinal) ? " (write '+' as %2B in a URL)." : "."));
            return null;
        }

        public string? OneOf(string name, string[] allowed)
        {
            if (Text(name) is not { } text)
            {
                return null;
            }

            if (allowed.Contains(text, StringComparer.Ordinal))
            {
                return text;
            }

            _problems.Add($"'{name}' must be one of {string.Join(", ", allowed)}, not '{text}'.");
            return null;
        }

        public IResult? Problem() => _problems.Count == 0
            ? null
            : Results.Problem(title: "Bad parameters", detail: string.Join(" ", _problems), statusCode: StatusCodes.Status400BadRequest);
    }

    /// <summary>An entry as the API shows it: never the payload's bytes, only their SHA-256 and size.</summary>
    internal sealed record EntryView(
        long Id,
        DateTimeOffset RecordedAt,
        string Kind,
        string? ConnectorId,
        string? Direction,
        string? Transport,
        DateTimeOffset? ReceivedAt,
        string? ContentType,
        PayloadView? Payload,
        string Outcome,
        string? Reason,
        IReadOnlyList<string> Dossiers,
        string? MappingVersion,
        long? RunId,
        string? Actor,
        string? Action,
        JsonNode? Detail,
        bool Sealed,
        long? LeafIndex)
    {
        public static EntryView From(ExchangeEntry e) => new(
            e.Id, e.RecordedAt, e.Kind, e.ConnectorId, e.Direction, e.Transport, e.ReceivedAt, e.ContentType,
            e.PayloadSha256 is { } sha ? new PayloadView(Convert.ToHexStringLower(sha), e.PayloadSize ?? 0, e.PayloadWithheld is null, e.PayloadWithheld) : null,
            e.Outcome, e.Reason, e.Dossiers, e.MappingVersion, e.RunId, e.Actor, e.Action, ParseDetail(e.Detail), e.LeafIndex is not null, e.LeafIndex);

        /// <summary>The detail as JSON when it is JSON, else as a string.</summary>
        private static JsonNode? ParseDetail(string? detail)
        {
            if (detail is null)
            {
                return null;
            }

            try
            {
                return JsonNode.Parse(detail);
            }
            catch (JsonException)
            {
                return JsonValue.Create(detail);
            }
        }
    }

    /// <summary>A payload read: its bytes and the log entry recording the read, or why there are none.</summary>
    internal sealed record PayloadRead(byte[]? Bytes, long RecordedAs, (string Title, string Detail)? Problem);

    /// <summary>A payload's SHA-256 (hex) and size; whether its bytes are kept, and why not.</summary>
    internal sealed record PayloadView(string Sha256, long Size, bool Kept, string? Withheld);

    /// <summary>An inclusion proof and the signed checkpoint it leads to.</summary>
    internal sealed record ProofView(
        long EntryId, long LeafIndex, long TreeSize, string LeafHash, IReadOnlyList<string> Path, string RootHash, bool StoredEntryMatches, string Checkpoint);

    /// <summary>
    /// That the tree of <c>OldSize</c> leaves (root <c>OldRoot</c>, which an auditor compares with the root of the
    /// checkpoint they kept) is a prefix of the signed checkpoint's tree: RFC 9162 consistency path.
    /// </summary>
    internal sealed record ConsistencyView(long OldSize, string OldRoot, long NewSize, string NewRoot, IReadOnlyList<string> Path, string Checkpoint);

    /// <summary>A checkpoint as stored (GET /api/exchange/checkpoints/{treeSize} gives its signed document).</summary>
    internal sealed record CheckpointView(long TreeSize, long PreviousTreeSize, string RootHash, DateTimeOffset SealedAt, string Signer, string Document)
    {
        public static CheckpointView From(StoredCheckpoint c) => new(
            c.TreeSize, c.PreviousSize, Convert.ToHexStringLower(c.RootHash), c.SealedAt, c.Signer,
            "/api/exchange/checkpoints/" + c.TreeSize.ToString(CultureInfo.InvariantCulture));
    }
}
