using System.Buffers;
using Hub.Connectors;
using Hub.Connectors.BuiltIn;
using Hub.Connectors.BuiltIn.Webhook;
using Hub.Core.Audit;
using Hub.Core.Mapping;
using Hub.Core.Sync;
using Hub.Worker.Sync;
using Microsoft.AspNetCore.Http.Features;
using Npgsql;

namespace Hub.Worker.Api;

/// <summary>
/// <c>POST /api/connectors/{id}/webhook</c>: where a source posts the signed batches of its json-webhook connector. An
/// accepted batch is mapped and stored like a pulled page (bad records quarantined, the rest stored, in one
/// transaction with the delivery's digest, so that an exact replay is refused by every hub process).
/// </summary>
/// <remarks>
/// Every refusal is logged as a warning with the connector, the kind of refusal, the remote address and the reason;
/// reasons never hold header values, body content or secrets, and the body itself is never logged there. The exchange
/// log keeps every delivery: an accepted one in the transaction of its records, a refused one as a rejected entry with
/// its reason and its body (up to <see cref="RejectedBodyKept"/>; beyond, its hash and size).
/// </remarks>
public static partial class WebhookApi
{
    /// <summary>What a paused connector's sender is told to wait before sending again.</summary>
    public static readonly TimeSpan PausedRetryAfter = TimeSpan.FromMinutes(5);

    /// <summary>The largest body of a refused delivery whose bytes the exchange log keeps; of a larger one, only its hash and size.</summary>
    public const int RejectedBodyKept = 256 * 1024;

    /// <summary>The exchange log's transport name of deliveries.</summary>
    private const string Transport = JsonWebhookConnectorKind.KindName;

    private const string LoggerName = "Hub.Worker.Api.WebhookApi";

    public static WebApplication MapWebhookApi(this WebApplication app)
    {
        // Authenticated by the delivery's HMAC signature with the connector's secret, not by an API key.
        // The largest maxBodyBytes a connector may have; ReadBodyAsync narrows it to the connector's own.
        app.MapPost("/api/connectors/{id}/webhook", ReceiveAsync).AllowAnonymous().WithBodyLimit(JsonWebhookConnectorKind.LargestBody);
        return app;
    }

    private static async Task<IResult> ReceiveAsync(string id, HttpContext http, [AsParameters] WebhookServices services, CancellationToken cancellationToken)
    {
        var receivedAt = services.Time.GetUtcNow();
        var logger = services.LoggerFactory.CreateLogger(LoggerName);
        var state = await services.Catalog.GetAsync(id, cancellationToken);
        if (state is null || services.Kinds.Find(state.Registration.Kind) is not JsonWebhookConnectorKind kind)
        {
            LogUnknown(logger, id, Remote(http));
            await LogRejectedAsync(http, services, logger, id, receivedAt, await ReadBodyAsync(http.Request, RejectedBodyKept, cancellationToken),
                "UnknownConnector", StatusCodes.Status404NotFound, $"no {JsonWebhookConnectorKind.KindName} connector is registered with this id", cancellationToken);
            return Results.Problem(
                title: "Webhook connector not found",
                detail: $"No {JsonWebhookConnectorKind.KindName} connector is registered with id '{id}'.",
                statusCode: StatusCodes.Status404NotFound);
        }

        var connector = state.Registration;
        if (!connector.Active)
        {
            // 503 rather than 409: senders retry a 5xx later, and the batch must not be lost while the connector is paused.
            LogPaused(logger, connector.Id, Remote(http));
            await LogRejectedAsync(http, services, logger, connector.Id, receivedAt, await ReadBodyAsync(http.Request, RejectedBodyKept, cancellationToken),
                "Paused", StatusCodes.Status503ServiceUnavailable, "the connector is paused", cancellationToken);
            http.Response.Headers.RetryAfter = ((int)PausedRetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Problem(
                title: "Connector paused",
                detail: $"Connector '{connector.Id}' is paused and accepts no deliveries now. Keep the batch and send it again later, signed with the time of sending.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        JsonWebhookReceiver receiver;
        RecordMapper mapper;
        try
        {
            receiver = kind.CreateReceiver(new ConnectorContext(
                connector.Id, connector.SourceSystem, connector.Configuration, services.HttpClients.For(connector).Client,
                services.LoggerFactory.CreateLogger("Hub.Connectors." + connector.Kind), services.Time));
            mapper = services.Runner.MapperFor(connector);
        }
        catch (ConnectorException e)
        {
            LogMisconfigured(logger, connector.Id, e.Message);
            await LogRejectedAsync(http, services, logger, connector.Id, receivedAt, await ReadBodyAsync(http.Request, RejectedBodyKept, cancellationToken),
                "Misconfigured", StatusCodes.Status500InternalServerError, "the connector's configuration or mapping is unusable: " + e.Message, cancellationToken);
            return Results.Problem(
                title: "Connector misconfigured",
                detail: $"Connector '{connector.Id}' cannot receive deliveries: its configuration or mapping is unusable. The hub's operators must fix it; the hub's log lists the problems.",
                statusCode: StatusCodes.Status500InternalServerError);
        }

        var body = await ReadBodyAsync(http.Request, receiver.MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            // Not read to its end: the entry holds no payload, only the length the sender announced (detail).
            return await RefuseAsync(http, services, logger, connector.Id, receiver, receivedAt, null, "TooLarge", StatusCodes.Status413PayloadTooLarge,
                $"the body is larger than the connector's maxBodyBytes ({receiver.MaxBodyBytes} bytes); send smaller batches", cancellationToken);
        }

        var headers = http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
        var receipt = receiver.Receive(new PushMessage(headers, body.Value, receivedAt));
        if (receipt.Acceptance.Rejection is { } rejection)
        {
            var status = rejection.Kind == PushRejectionKind.Malformed ? StatusCodes.Status400BadRequest : StatusCodes.Status401Unauthorized;
            return await RefuseAsync(http, services, logger, connector.Id, receiver, receivedAt, body, rejection.Kind.ToString(), status, rejection.Reason, cancellationToken);
        }

        // Authenticated from here on: only the connector's own sender can make the hub write.
        var digest = receipt.Digest!;
        var delivery = new WebhookDelivery(digest, receipt.SignedAt!.Value, receivedAt);
        await WebhookDeliveries.ForgetAsync(services.DataSource, connector.Id, receivedAt - receiver.Tolerance - WebhookDeliveries.ClockSkewMargin, cancellationToken);
        var records = receipt.Acceptance.Records;
        IngestResult stored;
        try
        {
            // A cheap check first; the transaction's insert is what decides when two copies race.
            if (await WebhookDeliveries.SeenAsync(services.DataSource, connector.Id, digest, cancellationToken))
            {
                throw new ReplayedDeliveryException(connector.Id);
            }

            var message = new ExchangeRecord
            {
                Kind = ExchangeRecord.MessageKind,
                Direction = "inbound",
                Transport = Transport,
                ReceivedAt = receivedAt,
                ContentType = http.Request.ContentType,
                Payload = body.Value,
                Outcome = "stored",
            };
            stored = await services.Ingest.StoreAsync(connector, mapper, records, IngestLedger.Push with { Delivery = delivery, Message = message }, cancellationToken);
        }
        catch (ReplayedDeliveryException)
        {
            return await RefuseAsync(http, services, logger, connector.Id, receiver, receivedAt, body, nameof(PushRejectionKind.Replay), StatusCodes.Status401Unauthorized,
                "a delivery with the same timestamp and body was already accepted; a new delivery, a retry included, must be signed with the time of sending", cancellationToken);
        }

        var dossiers = records.Count(r => r.Kind == RawRecordKind.Dossier);
        var reply = new WebhookReply(
            records.Count,
            stored.Counts.ChangesStored,
            stored.Counts.Unchanged,
            stored.Counts.StepsStored,
            [.. stored.Quarantined.Select(q => q.Index < dossiers
                ? new QuarantinedItem("dossiers", q.Index, q.Reason)
                : new QuarantinedItem("steps", q.Index - dossiers, q.Reason))]);
        LogAccepted(logger, connector.Id, reply.Received, reply.Stored, reply.Unchanged, reply.StepsStored, reply.Quarantined.Count);
        return Results.Ok(reply);
    }

    /// <summary>Reads the whole body, or returns <c>null</c> as soon as it is known to be larger than <paramref name="maxBytes"/>.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        // The endpoint's limit (the largest any connector may have) becomes the connector's, so that neither cuts the other short.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        var buffer = new ArrayBufferWriter<byte>((int)(request.ContentLength ?? 16 * 1024) + 1);
        try
        {
            while (true)
            {
                var read = await request.Body.ReadAsync(buffer.GetMemory(1), cancellationToken);
                if (read == 0)
                {
                    return buffer.WrittenMemory;
                }

                if (buffer.WrittenCount + read > maxBytes)
                {
                    return null;
                }

                buffer.Advance(read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
    }

    /// <summary>
    /// Appends a refused delivery to the exchange log, in a transaction of its own (nothing else was written). A log that
    /// cannot be written does not change the answer: the failure is logged (without the body) and the refusal goes out.
    /// </summary>
    private static async Task LogRejectedAsync(
        HttpContext http, WebhookServices services, ILogger logger, string connectorId, DateTimeOffset receivedAt, ReadOnlyMemory<byte>? body,
        string rejection, int status, string reason, CancellationToken cancellationToken)
    {
        var record = new ExchangeRecord
        {
            Kind = ExchangeRecord.MessageKind,
            ConnectorId = connectorId.Length <= 200 ? connectorId : connectorId[..200],
            Direction = "inbound",
            Transport = Transport,
            ReceivedAt = receivedAt,
            ContentType = body is null ? null : http.Request.ContentType,
            Payload = body,
            PayloadWithheld = body is { Length: > RejectedBodyKept }
                ? $"a refused delivery larger than {RejectedBodyKept} bytes: only its hash and size are kept"
                : null,
            Outcome = "rejected",
            Reason = reason,
            Detail = System.Text.Json.JsonSerializer.Serialize(new
            {
                rejection,
                status,
                remoteAddress = Remote(http),
                contentLength = http.Request.ContentLength,
                bodyRead = body is not null,
            }),
        };
        try
        {
            await services.Exchange.AppendAsync(record, cancellationToken);
        }
        catch (NpgsqlException e)
        {
            LogNotLogged(logger, connectorId, rejection, e.Message);
        }
    }

    private static async Task<IResult> RefuseAsync(
        HttpContext http, WebhookServices services, ILogger logger, string connectorId, JsonWebhookReceiver receiver, DateTimeOffset receivedAt,
        ReadOnlyMemory<byte>? body, string rejection, int status, string reason, CancellationToken cancellationToken)
    {
        await LogRejectedAsync(http, services, logger, connectorId, receivedAt, body, rejection, status, reason, cancellationToken);
        return Refuse(http, logger, connectorId, receiver, rejection, status, reason);
    }

    private static IResult Refuse(HttpContext http, ILogger logger, string connectorId, JsonWebhookReceiver receiver, string rejection, int status, string reason)
    {
        LogRefused(logger, connectorId, rejection, Remote(http), reason);
        if (status == StatusCodes.Status401Unauthorized)
        {
            // RFC 9110, section 11.6.1: a 401 carries a challenge; this one names the headers the hub expects.
            http.Response.Headers.WWWAuthenticate = $"HMAC-SHA256 header=\"{receiver.SignatureHeader}\", timestamp=\"{receiver.TimestampHeader}\"";
        }

        return Results.Problem(
            title: rejection switch
            {
                nameof(PushRejectionKind.Unauthenticated) => "Delivery not authenticated",
                nameof(PushRejectionKind.Replay) => "Delivery refused as a replay",
                nameof(PushRejectionKind.Malformed) => "Delivery malformed",
                _ => "Delivery too large",
            },
            detail: $"Connector '{connectorId}': {reason}.",
            statusCode: status,
            extensions: new Dictionary<string, object?> { ["connectorId"] = connectorId, ["rejection"] = rejection });
    }

    private static string Remote(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connector {ConnectorId}: webhook delivery refused ({Rejection}) from {RemoteAddress}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string connectorId, string rejection, string remoteAddress, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Connector {ConnectorId}: a refused webhook delivery ({Rejection}) could not be appended to the exchange log: {Error}")]
    private static partial void LogNotLogged(ILogger logger, string connectorId, string rejection, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook delivery from {RemoteAddress} to connector {ConnectorId}, which is not a registered json-webhook connector")]
    private static partial void LogUnknown(ILogger logger, string connectorId, string remoteAddress);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connector {ConnectorId}: webhook delivery from {RemoteAddress} refused, the connector is paused")]
    private static partial void LogPaused(ILogger logger, string connectorId, string remoteAddress);

    [LoggerMessage(Level = LogLevel.Error, Message = "Connector {ConnectorId}: webhook delivery refused, the connector is misconfigured: {Problems}")]
    private static partial void LogMisconfigured(ILogger logger, string connectorId, string problems);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Connector {ConnectorId}: webhook delivery accepted: {Received} records, {Stored} changes stored, {Unchanged} unchanged, {StepsStored} steps stored, {Quarantined} quarantined")]
    private static partial void LogAccepted(ILogger logger, string connectorId, int received, int stored, int unchanged, int stepsStored, int quarantined);

    /// <summary>The services a delivery needs.</summary>
    internal sealed record WebhookServices(
        ConnectorCatalog Catalog,
        ConnectorKinds Kinds,
        SyncRunner Runner,
        RecordIngest Ingest,
        ConnectorHttpClients HttpClients,
        NpgsqlDataSource DataSource,
        ExchangeLog Exchange,
        TimeProvider Time,
        ILoggerFactory LoggerFactory);

    /// <summary>The reply to an accepted delivery.</summary>
    /// <param name="Received">Records in the batch, dossiers and steps.</param>
    /// <param name="Stored">Dossier changes added to the history.</param>
    /// <param name="Unchanged">Dossier changes the hub already had.</param>
    /// <param name="StepsStored">Processing steps stored or replaced (those of step records and those nested in dossiers).</param>
    /// <param name="Quarantined">The records kept in quarantine instead of stored, with why.</param>
    internal sealed record WebhookReply(int Received, int Stored, int Unchanged, int StepsStored, IReadOnlyList<QuarantinedItem> Quarantined);

    /// <summary>A record of the batch kept in quarantine.</summary>
    /// <param name="List"><c>dossiers</c> or <c>steps</c>: the array of the body it was in.</param>
    /// <param name="Index">Its position in that array, from 0.</param>
    /// <param name="Reason">Why it was not stored.</param>
    internal sealed record QuarantinedItem(string List, int Index, string Reason);
}
