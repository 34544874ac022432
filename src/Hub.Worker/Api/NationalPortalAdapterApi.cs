using System.Globalization;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Unicode;
using Hub.Connectors;
using Hub.Connectors.BuiltIn;
using Hub.Connectors.BuiltIn.NationalPortal;
using Hub.Core.Audit;
using Hub.Core.Sync;
using Hub.Worker.Portal;
using Hub.Worker.Sync;
using Npgsql;

namespace Hub.Worker.Api;

/// <summary>
/// The national portal's own sync protocol, so that a one-stop system's existing sync client can point at the hub
/// unchanged: <c>POST /portal/login</c> gives a session for the credentials of a <c>national-portal</c> connector;
/// <c>POST /portal/sync</c> (or <c>/portal/{service}</c>) takes <c>DongBoHoSoMC</c> and <c>CapNhatTienDoHoSoMC</c> posts.
/// Replies are the portal's <c>{error_code, message, result}</c>. See the kind's README for the protocol and codes.
/// </summary>
/// <remarks>
/// Rows enter the store through <see cref="RecordIngest"/> like every other record: mapped with the connector's
/// mapping, the bad ones quarantined in the same transaction. Logs name connectors, services, counts and reasons,
/// never row contents or passwords (personal data and secrets). The exchange log keeps every post (in the transaction
/// of its rows when it stored some) without the applicant's personal fields, which the hub keeps nowhere, and every
/// reply; log-ins and the replies that carry a session are logged with their bytes withheld.
/// </remarks>
public static partial class NationalPortalAdapterApi
{
    private const string LogCategory = "Hub.Worker.Api.NationalPortalAdapter";

    /// <summary>
    /// The largest sync post: a one-stop system back-filling sends thousands of rows of 1-2 KB each in one post, and
    /// before this limit was stated the server's default (30 MB) applied. Log-ins keep the general limit.
    /// </summary>
    public const long MaxPostBytes = 32 * 1024 * 1024;

    /// <summary>The exchange log's transport name of the adapter's messages.</summary>
    private const string Transport = NationalPortalConnectorKind.KindName;

    /// <summary>Why a log-in's bytes are not kept.</summary>
    private const string LoginWithheld = "a log-in carries the connector's password; neither its bytes nor their hash is kept";

    /// <summary>Why a successful log-in reply's bytes are not kept.</summary>
    private const string SessionWithheld = "the reply carries a session token; neither its bytes nor their hash is kept";

    private const string ReplyContentType = "application/json; charset=utf-8";

    /// <summary>At most this many "already exists" answers are spelled out in a reply's message; all are in <c>result</c>.</summary>
    private const int MaxNamedInMessage = 10;

    private static readonly JsonSerializerOptions ReplyJson = new()
    {
        // Clients look for "thành công" and "đã tồn tại" in the raw reply: Vietnamese must not be \u-escaped.
        Encoder = JavaScriptEncoder.Create(UnicodeRanges.All),
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static IServiceCollection AddNationalPortalAdapter(this IServiceCollection services)
    {
        services.AddSingleton<PortalSessions>();
        services.AddSingleton<PortalServices>();
        return services;
    }

    public static WebApplication MapNationalPortalAdapterApi(this WebApplication app)
    {
        // The portal's own log-in and session tokens authenticate these calls, not the hub's API keys.
        var portal = app.MapGroup("/portal").AllowAnonymous();
        portal.MapPost("/login", LoginAsync);
        portal.MapPost("/sync", (HttpContext context, PortalServices services, CancellationToken cancellationToken) =>
            SyncAsync(context, null, services, cancellationToken)).WithBodyLimit(MaxPostBytes);
        portal.MapPost("/{service}", (HttpContext context, string service, PortalServices services, CancellationToken cancellationToken) =>
            SyncAsync(context, service, services, cancellationToken)).WithBodyLimit(MaxPostBytes);
        return app;
    }

    private static async Task<IResult> LoginAsync(HttpContext context, PortalServices services, CancellationToken cancellationToken)
    {
        var logger = services.Logger;
        var receivedAt = services.Time.GetUtcNow();
        var (username, password, problem) = await ReadCredentialsAsync(context.Request, cancellationToken);
        if (problem is not null)
        {
            LogLoginMalformed(logger, Remote(context), problem);
            return await LoginReplyAsync(context, services, null, receivedAt, username, StatusCodes.Status400BadRequest, -2,
                $"The login cannot be read: {problem}.", cancellationToken);
        }

        var candidates = new List<ConnectorRegistration>();
        foreach (var state in await services.Catalog.ListAsync(cancellationToken))
        {
            var connector = state.Registration;
            if (connector.Kind != NationalPortalConnectorKind.KindName || !connector.Active)
            {
                continue;
            }

            NationalPortalSettings settings;
            try
            {
                settings = NationalPortalSettings.Parse(connector.Configuration);
            }
            catch (ConnectorException e)
            {
                LogConnectorUnusable(logger, connector.Id, e.Message);
                continue;
            }

            if (settings.CredentialsMatch(username!, password!))
            {
                candidates.Add(connector);
            }
        }

        if (candidates.Count == 0)
        {
            LogLoginRefused(logger, username!, Remote(context));
            return await LoginReplyAsync(context, services, null, receivedAt, username, StatusCodes.Status401Unauthorized, -1,
                "Wrong user name or password: no active national-portal connector of the hub has these credentials.", cancellationToken);
        }

        if (candidates.Count > 1)
        {
            LogLoginAmbiguous(logger, username!, string.Join(", ", candidates.Select(c => c.Id)));
            return await LoginReplyAsync(context, services, null, receivedAt, username, StatusCodes.Status500InternalServerError, -9,
                "These credentials belong to more than one connector of the hub; its operators must give each national-portal connector its own user name.",
                cancellationToken);
        }

        var chosen = candidates[0];
        var chosenSettings = NationalPortalSettings.Parse(chosen.Configuration);
        var (token, expiresAt) = await services.Sessions.OpenAsync(chosen.Id, chosenSettings.CredentialStamp(), chosenSettings.SessionLifetime, cancellationToken);
        LogLoggedIn(logger, chosen.Id, username!, expiresAt);
        var reply = JsonSerializer.SerializeToUtf8Bytes(new LoginAnswer(0, PortalProtocol.Messages.Success, token), ReplyJson);
        await services.AppendAsync([
            LoginEntry(context, chosen.Id, receivedAt, username, "stored", null),
            ReplyEntry(chosen.Id, services.Time.GetUtcNow(), reply, [], StatusCodes.Status200OK, "0") with { Payload = null, PayloadWithheld = SessionWithheld },
        ], cancellationToken);
        return new JsonBytesResult(reply, StatusCodes.Status200OK);
    }

    /// <summary>A refused log-in: logged (without its bytes) with its reply, which holds no secret.</summary>
    private static async Task<IResult> LoginReplyAsync(
        HttpContext context, PortalServices services, string? connectorId, DateTimeOffset receivedAt, string? username, int status, int code, string message,
        CancellationToken cancellationToken)
    {
        var reply = JsonSerializer.SerializeToUtf8Bytes(new LoginAnswer(code, message, null), ReplyJson);
        await services.AppendAsync([
            LoginEntry(context, connectorId, receivedAt, username, "rejected", message),
            ReplyEntry(connectorId, services.Time.GetUtcNow(), reply, [], status, code.ToString(CultureInfo.InvariantCulture)),
        ], cancellationToken);
        return new JsonBytesResult(reply, status);
    }

    private static ExchangeRecord LoginEntry(HttpContext context, string? connectorId, DateTimeOffset receivedAt, string? username, string outcome, string? reason) => new()
    {
        Kind = ExchangeRecord.MessageKind,
        ConnectorId = connectorId,
        Direction = "inbound",
        Transport = Transport,
        ReceivedAt = receivedAt,
        ContentType = context.Request.ContentType,
        PayloadWithheld = LoginWithheld,
        Outcome = outcome,
        Reason = reason,
        Detail = JsonSerializer.Serialize(new { request = "login", username, remoteAddress = Remote(context) }),
    };

    /// <summary>A reply of the hub as the exchange log keeps it.</summary>
    private static ExchangeRecord ReplyEntry(string? connectorId, DateTimeOffset sentAt, byte[] reply, IReadOnlyList<string> dossiers, int status, string code) => new()
    {
        Kind = ExchangeRecord.MessageKind,
        ConnectorId = connectorId,
        Direction = "outbound",
        Transport = Transport,
        ReceivedAt = sentAt,
        ContentType = ReplyContentType,
        Payload = reply,
        Outcome = "done",
        Dossiers = dossiers,
        Detail = JsonSerializer.Serialize(new { status, errorCode = code }),
    };

    /// <summary>
    /// A post as the exchange log keeps it: its JSON without the applicant's personal fields in its rows (which the hub
    /// keeps nowhere); a body that is not a JSON object keeps only its hash and size, since nothing in it can be removed.
    /// </summary>
    private static ExchangeRecord PostEntry(string? connectorId, DateTimeOffset receivedAt, string? contentType, ReadOnlyMemory<byte> body, string outcome, string? reason)
    {
        var record = new ExchangeRecord
        {
            Kind = ExchangeRecord.MessageKind,
            ConnectorId = connectorId,
            Direction = "inbound",
            Transport = Transport,
            ReceivedAt = receivedAt,
            ContentType = contentType,
            Outcome = outcome,
            Reason = reason,
        };
        if (WithoutPersonalFields(body) is { } kept)
        {
            return record with { Payload = kept.Bytes, Detail = kept.Removed > 0 ? JsonSerializer.Serialize(new { personalFieldsRemoved = kept.Removed }) : null };
        }

        return record with
        {
            Payload = body,
            PayloadWithheld = "the post is not a JSON object, so the applicant's personal fields could not be removed from it: only its hash and size are kept",
        };
    }

    /// <summary>The post with <see cref="PortalProtocol.PersonalFields"/> removed from each row of <c>data</c>; <c>null</c> when it is not a JSON object.</summary>
    internal static (byte[] Bytes, int Removed)? WithoutPersonalFields(ReadOnlyMemory<byte> body)
    {
        var removed = 0;
        JsonObject envelope;
        try
        {
            if (JsonNode.Parse(body.Span) is not JsonObject root)
            {
                return null;
            }

            envelope = root;
            if (envelope["data"] is JsonArray rows)
            {
                foreach (var row in rows.OfType<JsonObject>())
                {
                    foreach (var field in PortalProtocol.PersonalFields)
                    {
                        removed += row.Remove(field) ? 1 : 0;
                    }
                }
            }
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            // Not JSON, or an object with a property twice (which JsonObject refuses when it is read).
            return null;
        }

        // Nothing removed: the bytes exactly as received.
        return removed == 0 ? (body.ToArray(), 0) : (JsonSerializer.SerializeToUtf8Bytes(envelope, ReplyJson), removed);
    }

    private static async Task<IResult> SyncAsync(HttpContext context, string? pathService, PortalServices services, CancellationToken cancellationToken)
    {
        var logger = services.Logger;
        var receivedAt = services.Time.GetUtcNow();
        var body = await ReadBodyAsync(context.Request, cancellationToken);
        var post = new Post(context.Request.ContentType, body, receivedAt);
        if (pathService is not null && !PortalProtocol.Services.Contains(pathService, StringComparer.Ordinal))
        {
            LogRefused(logger, "-", pathService, PortalProtocol.Codes.UnknownService, "unknown service in the path");
            return await RefuseAsync(services, post, null, StatusCodes.Status404NotFound, PortalProtocol.Codes.UnknownService,
                $"/portal/{Shown(pathService)} is not a service of the hub; post to /portal/sync or /portal/{{{string.Join("|", PortalProtocol.Services)}}}.",
                cancellationToken);
        }

        var envelope = PortalEnvelope.Read(body, pathService, out var problems);
        if (envelope is null)
        {
            var reason = string.Join("; ", problems).TrimEnd('.');
            LogRefused(logger, "-", pathService ?? "-", PortalProtocol.Codes.Malformed, reason);
            return await RefuseAsync(services, post, null, StatusCodes.Status400BadRequest, PortalProtocol.Codes.Malformed,
                $"The sync post cannot be read: {reason}.", cancellationToken);
        }

        post = post with { Dossiers = [.. envelope.Rows.Select(DossierCode).OfType<string>().Distinct(StringComparer.Ordinal)] };
        string? connectorId = null;
        try
        {
            var (connector, refusal) = await AuthenticateAsync(envelope, services, cancellationToken);
            connectorId = connector?.Id;
            if (refusal is not null)
            {
                LogRefused(logger, connector?.Id ?? "-", envelope.Service, refusal.Code, refusal.Message);
                return await RefuseAsync(services, post, connector?.Id, refusal.Status, refusal.Code, refusal.Message, cancellationToken);
            }

            return await StoreAsync(envelope, post, connector!, receivedAt, services, cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            LogHubFailure(logger, envelope.Service, e.GetType().Name, e.Message);
            return await RefuseAsync(services, post, connectorId, StatusCodes.Status503ServiceUnavailable, PortalProtocol.Codes.HubFailure,
                "The hub's database did not answer; nothing of this post was stored. Send it again later.", cancellationToken);
        }
    }

    /// <summary>A refused post: logged as rejected with the reason, then the reply, logged as sent.</summary>
    private static async Task<IResult> RefuseAsync(
        PortalServices services, Post post, string? connectorId, int status, string code, string message, CancellationToken cancellationToken)
    {
        await services.AppendAsync([PostEntry(connectorId, post.ReceivedAt, post.ContentType, post.Body, "rejected", message) with { Dossiers = post.Dossiers }], cancellationToken);
        return await ReplyAsync(services, post, connectorId, status, code, message, null, cancellationToken);
    }

    /// <summary>Sends a sync reply and logs it as an outbound message of the connector.</summary>
    private static async Task<IResult> ReplyAsync(
        PortalServices services, Post post, string? connectorId, int status, string code, string message, IReadOnlyList<RowAnswer>? result,
        CancellationToken cancellationToken)
    {
        var reply = JsonSerializer.SerializeToUtf8Bytes(new SyncAnswer(code, message, result ?? []), ReplyJson);
        await services.AppendAsync([ReplyEntry(connectorId, services.Time.GetUtcNow(), reply, post.Dossiers, status, code)], cancellationToken);
        return new JsonBytesResult(reply, status);
    }

    /// <summary>The session's connector, or why the post is refused.</summary>
    private static async Task<(ConnectorRegistration? Connector, Refusal? Refusal)> AuthenticateAsync(
        PortalEnvelope envelope, PortalServices services, CancellationToken cancellationToken)
    {
        const string LogIn = "log in again with POST /portal/login and send the new session token";
        if (envelope.Session is not { } token)
        {
            return (null, Refusal.Unauthorized("The post has no session: log in with POST /portal/login and send its session token in every post."));
        }

        var session = await services.Sessions.FindAsync(token, cancellationToken);
        if (session is null)
        {
            return (null, Refusal.Unauthorized($"The session is unknown to the hub: {LogIn}."));
        }

        if (session.Expired)
        {
            return (null, Refusal.Unauthorized(
                $"The session expired at {session.ExpiresAt.ToOffset(PortalProtocol.VietnamOffset).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} (Vietnam time): {LogIn}."));
        }

        var connector = (await services.Catalog.GetAsync(session.ConnectorId, cancellationToken))?.Registration;
        if (connector is null || !connector.Active || connector.Kind != NationalPortalConnectorKind.KindName)
        {
            return (connector, Refusal.Unauthorized($"The session's connector is no longer active in the hub: {LogIn} once it is."));
        }

        NationalPortalSettings settings;
        try
        {
            settings = NationalPortalSettings.Parse(connector.Configuration);
        }
        catch (ConnectorException e)
        {
            LogConnectorUnusable(services.Logger, connector.Id, e.Message);
            return (connector, new Refusal(StatusCodes.Status500InternalServerError, PortalProtocol.Codes.HubFailure,
                "The connector's configuration in the hub is invalid; the hub's operators must fix it. Nothing was stored."));
        }

        if (!CryptographicOperations.FixedTimeEquals(session.CredentialStamp, settings.CredentialStamp()))
        {
            return (connector, Refusal.Unauthorized($"The connector's credentials changed since this session began: {LogIn}."));
        }

        return (connector, null);
    }

    private static async Task<IResult> StoreAsync(
        PortalEnvelope envelope, Post post, ConnectorRegistration connector, DateTimeOffset receivedAt, PortalServices services, CancellationToken cancellationToken)
    {
        var logger = services.Logger;
        var receiver = NationalPortalConnectorKind.Create(connector.Configuration);
        var accepted = receiver.Accept(envelope, receivedAt);
        if (accepted.IsRefused)
        {
            var status = accepted.ErrorCode == PortalProtocol.Codes.AgencyNotAllowed ? StatusCodes.Status403Forbidden : StatusCodes.Status400BadRequest;
            LogRefused(logger, connector.Id, envelope.Service, accepted.ErrorCode!, accepted.Reason!);
            return await RefuseAsync(services, post, connector.Id, status, accepted.ErrorCode!, $"The post is refused: {accepted.Reason}.", cancellationToken);
        }

        var message = PostEntry(connector.Id, receivedAt, post.ContentType, post.Body, "stored", null);

        // The portal does not upsert: an insert of a dossier it holds is answered "already exists" and not applied, and
        // clients then send it again as an update. The other rows of the post are applied.
        var codes = envelope.Rows.Select(DossierCode).ToList();
        var existing = accepted.Kind == RawRecordKind.Dossier && !envelope.IsUpdating
            ? await ExistingCodesAsync(services.DataSource, connector.SourceSystem, codes, cancellationToken)
            : [];
        var toStore = new List<RawRecord>(accepted.Records.Count);
        var origins = new List<int>(accepted.Records.Count);
        var results = new List<RowAnswer>();
        for (var i = 0; i < accepted.Records.Count; i++)
        {
            if (codes[i] is { } code && existing.Contains(code))
            {
                results.Add(new RowAnswer(Index(i), code, PortalProtocol.Codes.AlreadyExists, PortalProtocol.Messages.AlreadyExists(code)));
                continue;
            }

            toStore.Add(accepted.Records[i]);
            origins.Add(i);
        }

        IngestResult? stored = null;
        if (toStore.Count > 0)
        {
            try
            {
                stored = await services.Ingest.StoreAsync(
                    connector, services.Runner.MapperFor(connector), toStore, IngestLedger.Push with { Message = message }, cancellationToken);
            }
            catch (ConnectorException e)
            {
                LogConnectorUnusable(logger, connector.Id, e.Message);
                return await RefuseAsync(services, post, connector.Id, StatusCodes.Status500InternalServerError, PortalProtocol.Codes.HubFailure,
                    "The connector's mapping in the hub is invalid; the hub's operators must fix it. Nothing was stored.", cancellationToken);
            }

            foreach (var problem in stored!.Quarantined)
            {
                var row = origins[problem.Index];
                results.Add(new RowAnswer(Index(row), codes[row] ?? "", PortalProtocol.Codes.RowQuarantined,
                    $"Not accepted, kept in the hub's quarantine: {problem.Reason}"));
            }
        }

        if (toStore.Count == 0)
        {
            // Nothing to store (every row already exists): the post is logged on its own, with the codes it named.
            await services.AppendAsync([message with
            {
                Dossiers = post.Dossiers,
                MappingVersion = connector.Mapping.Version,
                Detail = JsonSerializer.Serialize(new { recordsRead = envelope.Rows.Count, alreadyExisting = envelope.Rows.Count }),
            }], cancellationToken);
        }

        results.Sort((a, b) => int.Parse(a.Index, CultureInfo.InvariantCulture).CompareTo(int.Parse(b.Index, CultureInfo.InvariantCulture)));
        var alreadyExisting = results.Where(r => r.ErrorCode == PortalProtocol.Codes.AlreadyExists).ToList();
        var quarantined = results.Count - alreadyExisting.Count;
        var applied = toStore.Count - quarantined;
        if (quarantined > 0)
        {
            LogQuarantined(logger, connector.Id, envelope.Service, quarantined, envelope.Rows.Count);
        }

        LogStored(logger, connector.Id, envelope.Service, envelope.Rows.Count, stored?.Counts.ChangesStored ?? 0, stored?.Counts.StepsStored ?? 0,
            alreadyExisting.Count, quarantined);

        var notAccepted = quarantined == 0
            ? ""
            : $"{quarantined} of {envelope.Rows.Count} row(s) were not accepted and are kept in the hub's quarantine (see result)";
        if (alreadyExisting.Count > 0)
        {
            var named = string.Join("; ", alreadyExisting.Take(MaxNamedInMessage).Select(r => r.Message));
            var more = alreadyExisting.Count > MaxNamedInMessage ? $"; and {alreadyExisting.Count - MaxNamedInMessage} more (see result)" : "";
            var text = $"{named}{more}. These were not applied: send them with isUpdating \"True\" to update them. {applied} other row(s) were applied."
                + (notAccepted.Length > 0 ? " " + notAccepted + "." : "");
            return await ReplyAsync(services, post, connector.Id, StatusCodes.Status200OK, PortalProtocol.Codes.AlreadyExists, text, results, cancellationToken);
        }

        return await ReplyAsync(services, post, connector.Id, StatusCodes.Status200OK, PortalProtocol.Codes.Success,
            notAccepted.Length == 0 ? PortalProtocol.Messages.SyncSuccess : $"{PortalProtocol.Messages.SyncSuccess}; {notAccepted}.", results, cancellationToken);
    }

    /// <summary>Which of the codes the source system's dossiers already use.</summary>
    private static async Task<HashSet<string>> ExistingCodesAsync(
        NpgsqlDataSource dataSource, string sourceSystem, List<string?> codes, CancellationToken cancellationToken)
    {
        var distinct = codes.OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        var existing = new HashSet<string>(StringComparer.Ordinal);
        if (distinct.Length == 0)
        {
            return existing;
        }

        await using var command = dataSource.CreateCommand("select dossier_code from dossier where source_system = $1 and dossier_code = any($2)");
        command.Parameters.Add(new() { Value = sourceSystem });
        command.Parameters.Add(new() { Value = distinct });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            existing.Add(reader.GetString(0));
        }

        return existing;
    }

    /// <summary>A row's <c>MaHoSo</c>, trimmed; <c>null</c> when it has none.</summary>
    private static string? DossierCode(JsonElement row) =>
        row.ValueKind == JsonValueKind.Object
        && row.TryGetProperty(PortalProtocol.DossierCodeField, out var code)
        && code.ValueKind == JsonValueKind.String
        && code.GetString()!.Trim() is { Length: > 0 } text
            ? text
            : null;

    private static async Task<(string? Username, string? Password, string? Problem)> ReadCredentialsAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        string? username, password;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellationToken);
            username = form["username"].FirstOrDefault();
            password = form["password"].FirstOrDefault();
        }
        else
        {
            var body = await ReadBodyAsync(request, cancellationToken);
            JsonElement root;
            try
            {
                root = body.IsEmpty ? default : JsonSerializer.Deserialize<JsonElement>(body.Span);
            }
            catch (JsonException e)
            {
                return (null, null, $"the body is not valid JSON ({e.Message})");
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null, "the body must be a JSON object {\"username\": \"…\", \"password\": \"…\"}");
            }

            username = root.TryGetProperty("username", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
            password = root.TryGetProperty("password", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
        }

        var missing = new[] { ("username", username), ("password", password) }.Where(f => string.IsNullOrEmpty(f.Item2)).Select(f => f.Item1).ToList();
        return missing.Count > 0
            ? (null, null, $"{string.Join(" and ", missing)} missing or not a string")
            : (username, password, null);
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }


    private static string Index(int i) => i.ToString(CultureInfo.InvariantCulture);

    private static string Remote(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>A value from the wire, shortened for messages and logs.</summary>
    private static string Shown(string value) => value.Length <= 64 ? value : value[..64] + "…";

    [LoggerMessage(Level = LogLevel.Information, Message = "Portal login: connector {ConnectorId} (user {Username}) got a session until {ExpiresAt}")]
    private static partial void LogLoggedIn(ILogger logger, string connectorId, string username, DateTimeOffset expiresAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Portal login refused for user {Username} from {Remote}: no active national-portal connector has these credentials")]
    private static partial void LogLoginRefused(ILogger logger, string username, string remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Portal login from {Remote} cannot be read: {Problem}")]
    private static partial void LogLoginMalformed(ILogger logger, string remote, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Portal login for user {Username} refused: the credentials belong to several connectors ({ConnectorIds}); give each its own user name")]
    private static partial void LogLoginAmbiguous(ILogger logger, string username, string connectorIds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Connector {ConnectorId} cannot serve portal clients: {Reason}")]
    private static partial void LogConnectorUnusable(ILogger logger, string connectorId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Portal post refused (connector {ConnectorId}, service {Service}): error_code {Code}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string connectorId, string service, string code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Portal post (connector {ConnectorId}, service {Service}): {Quarantined} of {Rows} rows quarantined; see the connector's quarantine for the reasons")]
    private static partial void LogQuarantined(ILogger logger, string connectorId, string service, int quarantined, int rows);

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "Portal post (connector {ConnectorId}, service {Service}): {Rows} rows, {Changes} changes and {Steps} steps stored, {Existing} already existing, {Quarantined} quarantined")]
    private static partial void LogStored(ILogger logger, string connectorId, string service, int rows, int changes, int steps, int existing, int quarantined);

    [LoggerMessage(Level = LogLevel.Error, Message = "Portal adapter: {Count} exchange-log entries could not be appended: {Error}")]
    private static partial void LogNotLogged(ILogger logger, int count, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Portal post (service {Service}) not stored: the hub's database failed ({Error}: {Message})")]
    private static partial void LogHubFailure(ILogger logger, string service, string error, string message);

    /// <summary>What the handlers use, resolved once per request.</summary>
    internal sealed class PortalServices(
        ConnectorCatalog catalog,
        PortalSessions sessions,
        RecordIngest ingest,
        SyncRunner runner,
        NpgsqlDataSource dataSource,
        TimeProvider time,
        ILoggerFactory loggerFactory)
    {
        public ConnectorCatalog Catalog => catalog;

        public PortalSessions Sessions => sessions;

        public RecordIngest Ingest => ingest;

        public SyncRunner Runner => runner;

        public NpgsqlDataSource DataSource => dataSource;

        public TimeProvider Time => time;

        public ILogger Logger { get; } = loggerFactory.CreateLogger(LogCategory);

        /// <summary>
        /// Appends entries in a transaction of their own. A log that cannot be written does not change the answer: the
        /// failure is logged (never the bytes) and the reply goes out.
        /// </summary>
        public async Task AppendAsync(IReadOnlyList<ExchangeRecord> records, CancellationToken cancellationToken)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                foreach (var record in records)
                {
                    await ExchangeLog.AppendAsync(connection, record, time.GetUtcNow(), cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
            }
            catch (NpgsqlException e)
            {
                LogNotLogged(Logger, records.Count, e.Message);
            }
        }
    }

    /// <summary>A reply written exactly as the bytes the exchange log kept.</summary>
    private sealed class JsonBytesResult(byte[] body, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = ReplyContentType;
            httpContext.Response.ContentLength = body.Length;
            return httpContext.Response.Body.WriteAsync(body, httpContext.RequestAborted).AsTask();
        }
    }

    /// <summary>A sync post as received: what the exchange log keeps of it, and the dossier codes it names.</summary>
    private sealed record Post(string? ContentType, ReadOnlyMemory<byte> Body, DateTimeOffset ReceivedAt)
    {
        public IReadOnlyList<string> Dossiers { get; init; } = [];
    }

    private sealed record Refusal(int Status, string Code, string Message)
    {
        public static Refusal Unauthorized(string message) => new(StatusCodes.Status401Unauthorized, PortalProtocol.Codes.AuthenticationFailed, message);
    }

    private sealed record LoginAnswer(
        [property: JsonPropertyName("error_code")] int ErrorCode,
        [property: JsonPropertyName("message")] string Message,
        [property: JsonPropertyName("session")] string? Session);

    private sealed record SyncAnswer(
        [property: JsonPropertyName("error_code")] string ErrorCode,
        [property: JsonPropertyName("message")] string Message,
        [property: JsonPropertyName("result")] IReadOnlyList<RowAnswer> Result);

    private sealed record RowAnswer(
        [property: JsonPropertyName("index")] string Index,
        [property: JsonPropertyName("MaHoSo")] string DossierCode,
        [property: JsonPropertyName("error_code")] string ErrorCode,
        [property: JsonPropertyName("message")] string Message);
}
