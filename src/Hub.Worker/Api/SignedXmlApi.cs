using System.Buffers;
using System.Text.Json;
using Hub.Connectors;
using Hub.Connectors.BuiltIn;
using Hub.Connectors.BuiltIn.SignedXml;
using Hub.Core.Audit;
using Hub.Core.Mapping;
using Hub.Core.Sync;
using Hub.Core.Xml;
using Hub.Worker.Sync;
using Microsoft.AspNetCore.Http.Features;

namespace Hub.Worker.Api;

/// <summary>
/// <c>POST /api/connectors/{id}/signed-xml</c>: where a source posts the XML-DSig signed documents of its signed-xml
/// connector. One decision point: the connector's receiver verifies the document (against the registered certificates
/// only) and reads its items; an accepted document is mapped and stored like a pulled page, the document itself
/// appended to the exchange log in the same transaction, and the hub answers with a receipt (<c>&lt;BienNhan&gt;</c>) it
/// signs, which is logged as an outbound message.
/// </summary>
/// <remarks>
/// Every refusal is answered with problem details carrying its stable <c>code</c> and reason, and is appended to the
/// exchange log as a rejected inbound message of its own, with the bytes read: the whole body, or for a body over the
/// connector's <c>maxBytes</c> only the first <c>maxBytes</c> bytes read (the entry's detail says so); a body not read
/// at all (unknown or paused connector, declared length over the limit) is logged without payload. The hub's own log
/// gets a warning with the connector, code and reason, never the body.
/// </remarks>
public static partial class SignedXmlApi
{
    /// <summary>The exchange log's transport name of these messages.</summary>
    public const string Transport = SignedXmlConnectorKind.KindName;

    private const string LoggerName = "Hub.Worker.Api.SignedXmlApi";
    private const string XmlContentType = "application/xml";

    public static WebApplication MapSignedXmlApi(this WebApplication app)
    {
        // Authenticated by the document's signature with the connector's registered certificate, not by an API key.
        // The largest maxBytes a connector may have; ReadBodyAsync enforces the connector's own.
        app.MapPost("/api/connectors/{id}/signed-xml", ReceiveAsync).AllowAnonymous().WithBodyLimit(SignedXmlConnectorKind.LargestDocument);
        return app;
    }

    private static async Task<IResult> ReceiveAsync(string id, HttpContext http, [AsParameters] SignedXmlServices services, CancellationToken cancellationToken)
    {
        var receivedAt = services.Time.GetUtcNow();
        var logger = services.LoggerFactory.CreateLogger(LoggerName);
        var refusal = new Refusal(http, services, logger, id, receivedAt);
        var state = await services.Catalog.GetAsync(id, cancellationToken);
        if (state is null || services.Kinds.Find(state.Registration.Kind) is not SignedXmlConnectorKind kind)
        {
            return await refusal.AnswerAsync(StatusCodes.Status404NotFound, "unknown-connector", "Signed-XML connector not found",
                $"no {SignedXmlConnectorKind.KindName} connector is registered with id '{id}'", payload: null, cancellationToken);
        }

        var connector = state.Registration;
        if (!connector.Active)
        {
            // 503 rather than 409: senders retry a 5xx later, and the document must not be lost while the connector is paused.
            http.Response.Headers.RetryAfter = ((int)WebhookApi.PausedRetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return await refusal.AnswerAsync(StatusCodes.Status503ServiceUnavailable, "connector-paused", "Connector paused",
                $"connector '{connector.Id}' is paused and accepts no documents now; keep the document and send it again later", payload: null, cancellationToken);
        }

        SignedXmlReceiver receiver;
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
            return await refusal.AnswerAsync(StatusCodes.Status500InternalServerError, "connector-misconfigured", "Connector misconfigured",
                $"connector '{connector.Id}' cannot receive documents: its configuration or mapping is unusable; the hub's operators must fix it (the hub's log lists the problems)",
                payload: null, cancellationToken);
        }

        var body = await ReadBodyAsync(http.Request, receiver.MaxBytes, cancellationToken);
        if (body.TooLarge)
        {
            return await refusal.AnswerAsync(StatusCodes.Status413PayloadTooLarge, SignedXmlCodes.TooLarge, "Document too large",
                $"the document is more than the limit of {receiver.MaxBytes} bytes (the connector's maxBytes); the hub stopped reading there; send smaller documents", body, cancellationToken);
        }

        var delivery = receiver.Receive(new PushMessage(new Dictionary<string, string>(), body.Bytes, receivedAt));
        if (delivery.Acceptance.Rejection is { } rejection)
        {
            var (status, title) = rejection.Kind == PushRejectionKind.Malformed
                ? (StatusCodes.Status400BadRequest, "Document malformed")
                : (StatusCodes.Status401Unauthorized, "Document signature not accepted");
            return await refusal.AnswerAsync(status, delivery.Code!, title, rejection.Reason, body, cancellationToken);
        }

        // Verified from here on: only the connector's registered signer can make the hub write.
        var records = delivery.Acceptance.Records;
        var stored = await services.Ingest.StoreAsync(connector, mapper, records, IngestLedger.Push with
        {
            Message = new ExchangeRecord
            {
                Kind = ExchangeRecord.MessageKind,
                ConnectorId = connector.Id,
                Direction = "inbound",
                Transport = Transport,
                ReceivedAt = receivedAt,
                ContentType = XmlContentType,
                Payload = body.Bytes,
                Outcome = "stored",
            },
        }, cancellationToken);

        var (receipt, receiptId) = SignedXmlReceipt.Create(new ReceiptContent(
            delivery.DocumentId!, delivery.Sha256!, receivedAt, records.Count, stored.Counts.ChangesStored, stored.Counts.Unchanged,
            stored.Counts.StepsStored, [.. stored.Quarantined.Select(q => (q.Index, q.Reason))]), services.Signing.Certificate);
        var dossiers = records.Select(r => mapper.Map(r, connector.SourceSystem).Change?.DossierCode).OfType<string>().ToList();
        await services.Log.AppendAsync(new ExchangeRecord
        {
            Kind = ExchangeRecord.MessageKind,
            ConnectorId = connector.Id,
            Direction = "outbound",
            Transport = Transport,
            ReceivedAt = services.Time.GetUtcNow(),
            ContentType = XmlContentType,
            Payload = receipt,
            Outcome = "done",
            Reason = $"receipt {receiptId} for document {delivery.DocumentId}",
            Dossiers = dossiers,
            MappingVersion = connector.Mapping.Version,
            Detail = JsonSerializer.Serialize(new { receiptId, documentId = delivery.DocumentId, documentSha256 = Convert.ToHexStringLower(delivery.Sha256!) }),
        }, cancellationToken);
        LogAccepted(logger, connector.Id, delivery.DocumentId!, records.Count, stored.Counts.ChangesStored, stored.Counts.StepsStored, stored.Quarantined.Count);
        return Results.Bytes(receipt, XmlContentType + "; charset=utf-8");
    }

    /// <summary>Reads the body up to <paramref name="maxBytes"/>; beyond that, stops and keeps what was read.</summary>
    private static async Task<Body> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return new Body(ReadOnlyMemory<byte>.Empty, TooLarge: true, Read: false);
        }

        // The loop below is the limit: it never asks for more than maxBytes + 1 bytes and stops there. The endpoint's
        // limit (the largest maxBytes of any connector) is lifted because the server counts whole chunks as they arrive
        // and would fail the read, losing the part read that the exchange log keeps.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }

        var buffer = new ArrayBufferWriter<byte>((int)(request.ContentLength ?? 16 * 1024) + 1);
        try
        {
            while (true)
            {
                var memory = buffer.GetMemory(1);
                var read = await request.Body.ReadAsync(memory[..Math.Min(memory.Length, maxBytes + 1 - buffer.WrittenCount)], cancellationToken);
                if (read == 0)
                {
                    return new Body(buffer.WrittenMemory, TooLarge: false, Read: true);
                }

                if (buffer.WrittenCount + read > maxBytes)
                {
                    buffer.Advance(maxBytes - buffer.WrittenCount);
                    return new Body(buffer.WrittenMemory, TooLarge: true, Read: true);
                }

                buffer.Advance(read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new Body(buffer.WrittenMemory, TooLarge: true, Read: true);
        }
    }

    /// <summary>A request body: the bytes read (at most the connector's maxBytes), and whether there were more.</summary>
    private sealed record Body(ReadOnlyMemory<byte> Bytes, bool TooLarge, bool Read);

    /// <summary>Answers a refusal and logs it, in the exchange log and the hub's log.</summary>
    private sealed class Refusal(HttpContext http, SignedXmlServices services, ILogger logger, string connectorId, DateTimeOffset receivedAt)
    {
        public async Task<IResult> AnswerAsync(int status, string code, string title, string reason, Body? payload, CancellationToken cancellationToken)
        {
            LogRefused(logger, connectorId, code, Remote(http), reason);
            var entry = await services.Log.AppendAsync(new ExchangeRecord
            {
                Kind = ExchangeRecord.MessageKind,
                ConnectorId = connectorId,
                Direction = "inbound",
                Transport = Transport,
                ReceivedAt = receivedAt,
                ContentType = http.Request.ContentType,
                Payload = payload is { Read: true } ? payload.Bytes : (ReadOnlyMemory<byte>?)null,
                PayloadWithheld = payload is { Read: true } ? null : "not read: " + code,
                Outcome = "rejected",
                Reason = reason,
                Detail = JsonSerializer.Serialize(new
                {
                    code,
                    status,
                    truncated = payload is { TooLarge: true, Read: true },
                    declaredLength = http.Request.ContentLength,
                }),
            }, cancellationToken);
            if (status == StatusCodes.Status401Unauthorized)
            {
                // RFC 9110, section 11.6.1: a 401 carries a challenge; this one names the signature the hub expects.
                http.Response.Headers.WWWAuthenticate = "XML-DSig realm=\"signed-xml\", certificate=\"registered\"";
            }

            return Results.Problem(
                title: title,
                detail: $"Connector '{connectorId}': {reason}.",
                statusCode: status,
                extensions: new Dictionary<string, object?> { ["connectorId"] = connectorId, ["code"] = code, ["exchangeEntry"] = entry });
        }
    }

    private static string Remote(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connector {ConnectorId}: signed-xml document refused ({Code}) from {RemoteAddress}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string connectorId, string code, string remoteAddress, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Connector {ConnectorId}: signed-xml document refused, the connector is misconfigured: {Problems}")]
    private static partial void LogMisconfigured(ILogger logger, string connectorId, string problems);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Connector {ConnectorId}: signed-xml document {DocumentId} accepted: {Received} items, {Stored} changes stored, {StepsStored} steps stored, {Quarantined} quarantined")]
    private static partial void LogAccepted(ILogger logger, string connectorId, string documentId, int received, int stored, int stepsStored, int quarantined);

    /// <summary>The services a document needs.</summary>
    internal sealed record SignedXmlServices(
        ConnectorCatalog Catalog,
        ConnectorKinds Kinds,
        SyncRunner Runner,
        RecordIngest Ingest,
        ConnectorHttpClients HttpClients,
        ExchangeLog Log,
        IHubSigningCertificate Signing,
        TimeProvider Time,
        ILoggerFactory LoggerFactory);
}
