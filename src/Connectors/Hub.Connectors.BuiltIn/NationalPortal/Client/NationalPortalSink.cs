using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Hub.Contracts;
using Microsoft.Extensions.Logging;

namespace Hub.Connectors.BuiltIn.NationalPortal.Client;

/// <summary>
/// Delivers a subscription's events to the national portal with its sync protocol: a login for a session, then
/// <c>DongBoHoSoMC</c> posts of the dossiers' latest changes (insert; rows answered <c>đã tồn tại</c> again as update) and
/// <c>CapNhatTienDoHoSoMC</c> posts of their steps, each dossier's in step-time order and only after its dossier row
/// was taken. Every request is reported as a <see cref="DeliveryExchange"/>, the login's without its bytes.
/// </summary>
/// <remarks>
/// A failure that says the portal cannot take anything now (no reply, HTTP 5xx, a reply that is not JSON, a login
/// refused) stops the batch: the events not sent yet fail as retryable with that reason, instead of each waiting for
/// its own timeout. A row the portal refuses (malformed, invalid) fails that row's event only, not retryable.
/// </remarks>
public sealed class NationalPortalSink(NationalPortalClientSettings settings, SubscriberContext context) : ISubscriberSink
{
    /// <summary>The exchange log's operation name of a login.</summary>
    public const string LoginOperation = "login";

    /// <summary>Why a login's request bytes are not kept.</summary>
    public const string LoginWithheld = "credentials";

    private const string JsonMediaType = "application/json; charset=utf-8";
    private const string DstCodeHeader = "dstcode";
    private const int MaxShownMessage = 300;

    // Vietnamese text goes out unescaped, as the portal's own clients send it.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.Create(UnicodeRanges.All) };

    private readonly NationalPortalClientSettings _settings = settings;
    private readonly SubscriberContext _context = context;
    private string? _session;

    /// <inheritdoc />
    public async Task<DeliveryReport> DeliverAsync(IReadOnlyList<OutboundEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var run = new Run(this);
        var changes = new List<Row>();
        var steps = new List<(Row Row, DateTimeOffset Time)>();
        foreach (var item in events)
        {
            switch (item.Message)
            {
                case DossierStatusChanged c:
                    changes.Add(new Row(item, c.Change.DossierCode, OutboundRows.Dossier(c.Change)));
                    break;
                case DossierStepAdded s:
                    steps.Add((new Row(item, s.DossierCode, OutboundRows.Step(s.DossierCode, s.Step)), s.Step.StepTime));
                    break;
                default:
                    run.Fail(item, $"not a dossier event ({item.Message?.GetType().Name ?? "null"}): the portal takes DossierStatusChanged and DossierStepAdded", retryable: false);
                    break;
            }
        }

        // The portal keeps only a dossier's latest state: of several changes of one dossier in the batch, only the
        // latest goes out, and the others share its outcome.
        var latest = new Dictionary<string, (Row Row, DossierChange Change, int Position)>(StringComparer.Ordinal);
        for (var i = 0; i < changes.Count; i++)
        {
            var row = changes[i];
            var change = ((DossierStatusChanged)row.Event.Message).Change;
            if (!latest.TryGetValue(row.DossierCode, out var held) || !IsEarlier(change, held.Change))
            {
                latest[row.DossierCode] = (row, change, i);
            }
        }

        var sent = latest.Values.OrderBy(v => v.Position).Select(v => v.Row).ToList();
        foreach (var chunk in sent.Chunk(_settings.ChunkSize))
        {
            await run.SendDossiersAsync(chunk, cancellationToken);
        }

        var failedDossiers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var row in sent)
        {
            if (!run.Outcomes[row.Event.EventId].Delivered)
            {
                failedDossiers[row.DossierCode] = run.Outcomes[row.Event.EventId].Failure ?? "";
            }
        }

        foreach (var row in changes.Where(r => !run.Outcomes.ContainsKey(r.Event.EventId)))
        {
            var winner = run.Outcomes[latest[row.DossierCode].Row.Event.EventId];
            run.Outcomes[row.Event.EventId] = winner.Delivered
                ? DeliveryOutcome.Ok
                : DeliveryOutcome.Failed($"superseded in the batch by a later change of dossier {row.DossierCode}, which failed: {winner.Failure}", winner.Retryable);
        }

        // Steps: each dossier's in step-time order (a stable sort keeps the batch's order of equal times), dossiers in the
        // order they first appear.
        var ordered = steps.GroupBy(s => s.Row.DossierCode, StringComparer.Ordinal).SelectMany(g => g.OrderBy(s => s.Time)).Select(s => s.Row);
        var pending = new Queue<Row>();
        foreach (var row in ordered)
        {
            if (failedDossiers.TryGetValue(row.DossierCode, out var dossierFailure))
            {
                run.Fail(row.Event, $"{PortalProtocol.StepService} of dossier {row.DossierCode} not sent: the dossier's {PortalProtocol.DossierService} failed in this batch ({dossierFailure})", retryable: true);
            }
            else
            {
                pending.Enqueue(row);
            }
        }

        await run.SendStepsAsync(pending, cancellationToken);
        return new DeliveryReport(run.Outcomes, run.Exchanges);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static bool IsEarlier(DossierChange change, DossierChange than) =>
        change.EventTime < than.EventTime || (change.EventTime == than.EventTime && (change.SourceVersion ?? long.MinValue) < (than.SourceVersion ?? long.MinValue));

    private static string Shown(string message) => message.Length <= MaxShownMessage ? message : message[..MaxShownMessage] + "…";

    private static bool IsServerSide(int status) => status is >= 500 or 408 or 429;

    /// <summary>One row to send, with the event it carries.</summary>
    private sealed record Row(OutboundEvent Event, string DossierCode, IReadOnlyList<KeyValuePair<string, string>> Fields);

    private enum RowState
    {
        Accepted,
        AlreadyExists,

        /// <summary>A whole-post "already exists" that did not name this row: whether it was applied is not known.</summary>
        Unsure,
        Failed,
    }

    private readonly record struct Verdict(RowState State, string? Reason = null, bool Retryable = false);

    /// <summary>What came back from one HTTP request.</summary>
    private sealed record Answer(int? Status, byte[] Reply, string? TransportError);

    /// <summary>The state of one <see cref="DeliverAsync"/>: outcomes, exchanges, and the failure that stopped it, if any.</summary>
    private sealed class Run(NationalPortalSink sink)
    {
        private readonly NationalPortalClientSettings _settings = sink._settings;
        private string? _stopped;

        public Dictionary<Guid, DeliveryOutcome> Outcomes { get; } = [];

        public List<DeliveryExchange> Exchanges { get; } = [];

        public void Fail(OutboundEvent item, string reason, bool retryable) => Outcomes[item.EventId] = DeliveryOutcome.Failed(reason, retryable);

        /// <summary>Inserts; rows answered "already exists" go again as an update.</summary>
        public async Task SendDossiersAsync(IReadOnlyList<Row> rows, CancellationToken cancellationToken)
        {
            var toUpdate = new List<Row>();
            var toInsert = rows;
            // A second insert round only for rows a whole-post "đã tồn tại" did not name: were they applied or not?
            for (var round = 0; round < 2 && toInsert.Count > 0; round++)
            {
                var verdicts = await PostAsync(PortalProtocol.DossierService, isUpdating: false, toInsert, cancellationToken);
                var again = new List<Row>();
                for (var i = 0; i < toInsert.Count; i++)
                {
                    switch (verdicts[i].State)
                    {
                        case RowState.Accepted:
                            Outcomes[toInsert[i].Event.EventId] = DeliveryOutcome.Ok;
                            break;
                        case RowState.AlreadyExists:
                            toUpdate.Add(toInsert[i]);
                            break;
                        case RowState.Unsure when round == 0:
                            again.Add(toInsert[i]);
                            break;
                        case RowState.Unsure:
                            toUpdate.Add(toInsert[i]);
                            break;
                        default:
                            Fail(toInsert[i].Event, verdicts[i].Reason!, verdicts[i].Retryable);
                            break;
                    }
                }

                toInsert = again;
            }

            if (toUpdate.Count == 0)
            {
                return;
            }

            var updated = await PostAsync(PortalProtocol.DossierService, isUpdating: true, toUpdate, cancellationToken);
            for (var i = 0; i < toUpdate.Count; i++)
            {
                Outcomes[toUpdate[i].Event.EventId] = updated[i].State switch
                {
                    RowState.Accepted => DeliveryOutcome.Ok,
                    RowState.Failed => DeliveryOutcome.Failed(updated[i].Reason!, updated[i].Retryable),
                    _ => DeliveryOutcome.Failed($"{PortalProtocol.DossierService} update of dossier {toUpdate[i].DossierCode}: the portal answered the update 'đã tồn tại'", retryable: false),
                };
            }
        }

        /// <summary>Sends steps in chunks; a dossier with a failed step sends no later step in this batch (the portal appends in arrival order).</summary>
        public async Task SendStepsAsync(Queue<Row> pending, CancellationToken cancellationToken)
        {
            var blocked = new HashSet<string>(StringComparer.Ordinal);
            while (pending.Count > 0)
            {
                var chunk = new List<Row>(_settings.ChunkSize);
                while (chunk.Count < _settings.ChunkSize && pending.TryDequeue(out var row))
                {
                    if (blocked.Contains(row.DossierCode))
                    {
                        Fail(row.Event, $"{PortalProtocol.StepService} of dossier {row.DossierCode} not sent: an earlier step of the dossier failed in this batch", retryable: true);
                    }
                    else
                    {
                        chunk.Add(row);
                    }
                }

                if (chunk.Count == 0)
                {
                    break;
                }

                var verdicts = await PostAsync(PortalProtocol.StepService, isUpdating: null, chunk, cancellationToken);
                for (var i = 0; i < chunk.Count; i++)
                {
                    if (verdicts[i].State == RowState.Failed)
                    {
                        Fail(chunk[i].Event, verdicts[i].Reason!, verdicts[i].Retryable);
                        blocked.Add(chunk[i].DossierCode);
                    }
                    else
                    {
                        // A step the portal says it already has is delivered.
                        Outcomes[chunk[i].Event.EventId] = DeliveryOutcome.Ok;
                    }
                }
            }
        }

        /// <summary>One sync post (logging in first when needed, and once more when the portal refuses the session).</summary>
        private async Task<Verdict[]> PostAsync(string service, bool? isUpdating, IReadOnlyList<Row> rows, CancellationToken cancellationToken)
        {
            var label = isUpdating switch { true => $"{service} update", false => $"{service} insert", null => service };
            for (var attempt = 1; ; attempt++)
            {
                if (_stopped is null && sink._session is null)
                {
                    await LoginAsync(cancellationToken);
                }

                if (_stopped is { } stopped)
                {
                    return [.. rows.Select(r => new Verdict(RowState.Failed, $"{label} of dossier {r.DossierCode} not sent: {stopped}", Retryable: true))];
                }

                var url = _settings.SyncUrl(service);
                var body = Envelope(service, isUpdating, rows);
                var answer = await SendAsync(url, body, withDstCode: true, cancellationToken);
                var reply = answer.Status is null ? null : PortalReply.Read(answer.Reply);
                var detail = Detail(answer, reply);
                var eventIds = rows.Select(r => r.Event.EventId).ToList();
                var dossiers = rows.Select(r => r.DossierCode).Distinct(StringComparer.Ordinal).ToList();

                if (answer.Status == 401 || reply?.IsAuthenticationFailure == true)
                {
                    var why = $"{label} to {url}: the portal refused the session ({detail})";
                    Exchanges.Add(new DeliveryExchange(service, eventIds, dossiers, JsonMediaType, body, null, answer.Status, answer.Reply, false, why));
                    sink._session = null;
                    if (attempt == 1)
                    {
                        continue;
                    }

                    Stop(why + ", again after a new login");
                    return [.. rows.Select(r => new Verdict(RowState.Failed, $"{label} of dossier {r.DossierCode}: the portal refused a new session ({detail})", Retryable: true))];
                }

                var verdicts = Classify(label, rows, answer, reply, detail, url);
                var accepted = verdicts.All(v => v.State == RowState.Accepted);
                var reason = accepted ? null : Summary(verdicts, label, detail);
                Exchanges.Add(new DeliveryExchange(service, eventIds, dossiers, JsonMediaType, body, null, answer.Status, answer.Reply, accepted, reason));
                return verdicts;
            }
        }

        /// <summary>What became of each row of a post that got past authentication.</summary>
        private Verdict[] Classify(string label, IReadOnlyList<Row> rows, Answer answer, PortalReply? reply, string detail, Uri url)
        {
            var verdicts = new Verdict[rows.Count];
            if (answer.Status is not { } status || IsServerSide(status) || reply is null)
            {
                // The portal cannot take anything now: this post's rows and the rest of the batch wait for a retry.
                Stop($"{label} to {url} failed: {detail}");
                for (var i = 0; i < rows.Count; i++)
                {
                    verdicts[i] = new Verdict(RowState.Failed, $"{label} of dossier {rows[i].DossierCode} to {url} failed: {detail}", Retryable: true);
                }

                return verdicts;
            }

            var given = new bool[rows.Count];
            foreach (var entry in reply.Rows)
            {
                var indices = entry.Index is { } index && index >= 0 && index < rows.Count
                    ? [index]
                    : Enumerable.Range(0, rows.Count).Where(i => entry.DossierCode is not null && rows[i].DossierCode == entry.DossierCode).ToList();
                foreach (var i in indices)
                {
                    given[i] = true;
                    verdicts[i] = entry.IsSuccess ? new Verdict(RowState.Accepted)
                        : entry.SaysAlreadyExists ? new Verdict(RowState.AlreadyExists)
                        : new Verdict(
                            RowState.Failed,
                            $"{label} of dossier {rows[i].DossierCode} refused: HTTP {status}, error_code {entry.Code ?? "(none)"}: {Shown(entry.Message)}",
                            Retryable: entry.Code == PortalProtocol.Codes.HubFailure);
                }
            }

            var postRetryable = reply.Code == PortalProtocol.Codes.HubFailure;
            for (var i = 0; i < rows.Count; i++)
            {
                if (given[i])
                {
                    continue;
                }

                verdicts[i] = reply.IsSuccess ? new Verdict(RowState.Accepted)
                    // A reply that lists rows lists every row it did not take: the others were applied (the hub's own
                    // adapter answers so, and so does a portal that reports per row).
                    : reply.Rows.Count > 0 && !postRetryable ? new Verdict(RowState.Accepted)
                    : reply.SaysAlreadyExists && (Names(reply.Message, rows[i].DossierCode) || !rows.Any(r => Names(reply.Message, r.DossierCode)))
                        ? new Verdict(RowState.AlreadyExists)
                    : reply.SaysAlreadyExists ? new Verdict(RowState.Unsure)
                    : new Verdict(RowState.Failed, $"{label} of dossier {rows[i].DossierCode} refused: {detail}", postRetryable);
            }

            if (postRetryable)
            {
                Stop($"{label} to {url} failed: {detail}");
            }

            return verdicts;
        }

        private static bool Names(string message, string dossierCode) => message.Contains(dossierCode, StringComparison.Ordinal);

        private static string Summary(Verdict[] verdicts, string label, string detail)
        {
            var failed = verdicts.Count(v => v.State == RowState.Failed);
            var exists = verdicts.Count(v => v.State is RowState.AlreadyExists or RowState.Unsure);
            var parts = new List<string>();
            if (failed > 0)
            {
                parts.Add($"{failed} of {verdicts.Length} row(s) refused");
            }

            if (exists > 0)
            {
                parts.Add($"{exists} of {verdicts.Length} row(s) already exist or may exist (sent again)");
            }

            return $"{label}: {string.Join("; ", parts)} ({detail})";
        }

        private async Task LoginAsync(CancellationToken cancellationToken)
        {
            var url = _settings.LoginUrl;
            var body = Json(writer =>
            {
                writer.WriteString("username", _settings.Username);
                writer.WriteString("password", _settings.Password);
            });
            var answer = await SendAsync(url, body, withDstCode: false, cancellationToken);
            var reply = answer.Status is null ? null : PortalReply.Read(answer.Reply);
            var session = answer.Status is >= 200 and < 300 && reply is { IsSuccess: true, Session: { Length: > 0 } s } ? s : null;
            string? reason = null;
            if (session is null)
            {
                var detail = Detail(answer, reply);
                reason = reply is { IsSuccess: true } && answer.Status is >= 200 and < 300
                    ? $"login to {url} as '{_settings.Username}' failed: the reply has no session ({detail})"
                    : $"login to {url} as '{_settings.Username}' failed: {detail}";
                Stop(reason);
            }

            // The request holds the password: only the fact that it was sent is kept.
            Exchanges.Add(new DeliveryExchange(LoginOperation, [], [], JsonMediaType, ReadOnlyMemory<byte>.Empty, LoginWithheld, answer.Status, answer.Reply, session is not null, reason));
            sink._session = session;
        }

        private void Stop(string reason)
        {
            if (_stopped is not null)
            {
                return;
            }

            _stopped = reason;
            sink._context.Logger.LogWarning("national-portal-client {Subscription}: delivery stopped for this batch: {Reason}", sink._context.SubscriptionId, reason);
        }

        private async Task<Answer> SendAsync(Uri url, byte[] body, bool withDstCode, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            if (withDstCode)
            {
                request.Headers.TryAddWithoutValidation(DstCodeHeader, _settings.DstCode);
            }

            try
            {
                using var response = await sink._context.Http.SendAsync(request, cancellationToken);
                // The whole body is read here, so a connection dropped mid-body counts as no reply.
                var reply = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                return new Answer((int)response.StatusCode, reply, null);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException)
            {
                return new Answer(null, [], "no reply: timed out");
            }
            catch (HttpRequestException e)
            {
                return new Answer(null, [], $"no reply: {(e.HttpRequestError == HttpRequestError.Unknown ? e.Message : $"{e.HttpRequestError}: {e.Message}")}");
            }
            catch (IOException e)
            {
                return new Answer(null, [], $"no reply: {e.Message}");
            }
            catch (Exception e) when (IsResilienceRejection(e))
            {
                return new Answer(null, [], $"not sent: the hub's resilience pipeline refused the call ({e.GetType().Name}: {e.Message})");
            }
        }

        /// <summary>The envelope <c>{session, madonvi, service, isUpdating?, data}</c>, every value a string.</summary>
        private byte[] Envelope(string service, bool? isUpdating, IReadOnlyList<Row> rows) => Json(writer =>
        {
            writer.WriteString("session", sink._session);
            writer.WriteString("madonvi", _settings.AgencyCode);
            writer.WriteString("service", service);
            if (isUpdating is { } updating)
            {
                writer.WriteString("isUpdating", updating ? "True" : "False");
            }

            writer.WriteStartArray("data");
            foreach (var row in rows)
            {
                writer.WriteStartObject();
                foreach (var (name, value) in row.Fields)
                {
                    writer.WriteString(name, value);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        });

        private static byte[] Json(Action<Utf8JsonWriter> write)
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            {
                writer.WriteStartObject();
                write(writer);
                writer.WriteEndObject();
            }

            return buffer.ToArray();
        }

        /// <summary>What came back, for reasons: the HTTP status, <c>error_code</c> and message; never the request.</summary>
        private static string Detail(Answer answer, PortalReply? reply)
        {
            if (answer.Status is not { } status)
            {
                return answer.TransportError ?? "no reply";
            }

            if (reply is null)
            {
                return $"HTTP {status} with a reply that is not a JSON object ({answer.Reply.Length} bytes)";
            }

            return string.Create(CultureInfo.InvariantCulture, $"HTTP {status}, error_code {reply.Code ?? "(none)"}: {Shown(reply.Message)}");
        }

        /// <summary>Polly's rejections (timeout, open circuit, rate limit) derive from <c>Polly.ExecutionRejectedException</c>; recognised by name, as the pipeline is the hub's.</summary>
        private static bool IsResilienceRejection(Exception e)
        {
            for (var type = e.GetType(); type is not null; type = type.BaseType)
            {
                if (type.FullName == "Polly.ExecutionRejectedException")
                {
                    return true;
                }
            }

            return false;
        }
    }
}
