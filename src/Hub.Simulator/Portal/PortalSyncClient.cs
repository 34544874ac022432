using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Simulator.Generation;

namespace Hub.Simulator.Portal;

/// <summary>
/// A one-stop system's sync client for the national portal protocol, pointed at the hub: it logs in, then replays a
/// province's revisions in feed order the way real clients do. Each revision is a <c>DongBoHoSoMC</c> row sent as an
/// insert (<c>isUpdating</c> "False"); a post answered "đã tồn tại" (already exists) is sent again as an update ("True").
/// The steps each revision added follow in <c>CapNhatTienDoHoSoMC</c> posts of <see cref="PortalSyncOptions.StepsPerPost"/>.
/// Faults (duplicate posts, out-of-order delivery, stale snapshots, corrupted rows) come from
/// <see cref="PortalSyncOptions"/>; none of them changes what the hub must end up holding, <see cref="PortalTruth.Of"/>.
/// </summary>
/// <remarks>
/// Posts for one agency (<c>madonvi</c>) hold only that agency's dossiers: rows are queued per agency and a queue is
/// posted when it holds <see cref="PortalSyncOptions.RowsPerPost"/> rows. A reply with <c>error_code</c> "-1" (session
/// ended) makes the client log in again and resend once; any other failure throws <see cref="PortalSyncException"/>.
/// </remarks>
public sealed class PortalSyncClient : IDisposable
{
    private const string AlreadyExistsWords = "đã tồn tại";
    private const string AuthenticationFailed = "-1";
    private const string AlreadyExistsCode = "-3";
    private const string QuarantinedCode = "-6";
    private const string DossierService = "DongBoHoSoMC";
    private const string StepService = "CapNhatTienDoHoSoMC";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly SimulatedProvince _province;
    private readonly HttpClient _http;
    private readonly string _username;
    private readonly string _password;
    private readonly Random _random;
    private string? _session;

    /// <param name="province">The province whose revisions are replayed.</param>
    /// <param name="hubBaseAddress">The hub, for example <c>http://127.0.0.1:5080/</c>; the protocol is under <c>portal/</c>.</param>
    /// <param name="username">The user name of the hub's national-portal connector.</param>
    /// <param name="password">Its password.</param>
    /// <param name="options">How to replay; defaults when null.</param>
    public PortalSyncClient(SimulatedProvince province, Uri hubBaseAddress, string username, string password, PortalSyncOptions? options = null)
        : this(province, hubBaseAddress, username, password, options, handler: null)
    {
    }

    /// <param name="province">The province whose revisions are replayed.</param>
    /// <param name="hubBaseAddress">The hub, for example <c>http://127.0.0.1:5080/</c>; the protocol is under <c>portal/</c>.</param>
    /// <param name="username">The user name of the hub's national-portal connector.</param>
    /// <param name="password">Its password.</param>
    /// <param name="options">How to replay; defaults when null.</param>
    /// <param name="handler">
    /// What sends the requests (for example a load balancer in front of several hubs); the client disposes it. A
    /// default handler when null.
    /// </param>
    public PortalSyncClient(SimulatedProvince province, Uri hubBaseAddress, string username, string password, PortalSyncOptions? options, HttpMessageHandler? handler)
    {
        ArgumentNullException.ThrowIfNull(province);
        ArgumentNullException.ThrowIfNull(hubBaseAddress);
        Options = options ?? new PortalSyncOptions();
        if (Options.RowsPerPost < 1 || Options.StepsPerPost < 1)
        {
            throw new ArgumentException("RowsPerPost and StepsPerPost must be at least 1.", nameof(options));
        }

        _province = province;
        _username = username;
        _password = password;
        _random = new Random(Options.Seed);
        var baseText = hubBaseAddress.AbsoluteUri;
        _http = new HttpClient(handler ?? new HttpClientHandler()) { BaseAddress = new Uri(baseText.EndsWith('/') ? baseText : baseText + "/"), Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>How the province is replayed.</summary>
    public PortalSyncOptions Options { get; }

    /// <summary>What was sent and answered.</summary>
    public PortalSyncStats Stats { get; } = new();

    /// <summary>Logs in and sends every revision and step of the province.</summary>
    /// <exception cref="PortalSyncException">The hub refused a login or a post.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await LoginAsync(cancellationToken);
        var queues = new Dictionary<string, AgencyQueue>(StringComparer.Ordinal);
        var order = new List<string>();
        var latestSent = new Dictionary<SimDossier, int>();
        foreach (var (revision, stale) in Sequence())
        {
            if (latestSent.TryGetValue(revision.Dossier, out var latest) && latest > revision.Number)
            {
                Stats.RevisionsSentLate++;
            }

            latestSent[revision.Dossier] = Math.Max(latest, revision.Number);
            var agency = revision.Dossier.Agency.Code;
            if (!queues.TryGetValue(agency, out var queue))
            {
                queues[agency] = queue = new AgencyQueue();
                order.Add(agency);
            }

            var row = PortalRows.Dossier(revision, _province.Options.AgencyPrefix, Options.SendUpdateTime);
            queue.Rows.Add(row);
            if (stale)
            {
                Stats.StaleSnapshots++;
            }
            else
            {
                Stats.RevisionsSent++;
                foreach (var task in revision.Tasks)
                {
                    queue.Steps.Add(PortalRows.Step(revision.Dossier, task));
                    Stats.StepsSent++;
                }

                if (Options.MalformedRate > 0 && _random.NextDouble() < Options.MalformedRate)
                {
                    InjectMalformed(queue, row, (PortalMalformedKind)_random.Next(Enum.GetValues<PortalMalformedKind>().Length));
                }
            }

            if (queue.Rows.Count >= Options.RowsPerPost)
            {
                await FlushAsync(agency, queue, cancellationToken);
            }
        }

        foreach (var agency in order)
        {
            await FlushAsync(agency, queues[agency], cancellationToken);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    /// <summary>Adds a corrupted copy of the revision's row (or of its last step) after it.</summary>
    private void InjectMalformed(AgencyQueue queue, JsonObject row, PortalMalformedKind kind)
    {
        if (kind == PortalMalformedKind.UnparseableStepTime && queue.Steps.Count > 0)
        {
            queue.Steps.Add(PortalRows.Malformed(queue.Steps[^1], kind));
        }
        else if (kind is PortalMalformedKind.UnknownStatus or PortalMalformedKind.MissingCode
                 || (kind == PortalMalformedKind.UnparseableUpdateTime && Options.SendUpdateTime))
        {
            queue.Rows.Add(PortalRows.Malformed(row, kind));
        }
        else
        {
            return;
        }

        Stats.CountMalformed(kind);
    }

    /// <summary>The revisions in the order they are sent: feed order, shuffled within windows, with stale snapshots resent.</summary>
    private IEnumerable<(SimRevision Revision, bool Stale)> Sequence()
    {
        var revisions = _province.Revisions.ToArray();
        var window = Math.Max(1, Options.ReorderWindow);
        for (var start = 0; start < revisions.Length && window > 1; start += window)
        {
            _random.Shuffle(revisions.AsSpan(start, Math.Min(window, revisions.Length - start)));
        }

        foreach (var revision in revisions)
        {
            yield return (revision, false);
            if (revision.Number > 1 && Options.StaleResendRate > 0 && _random.NextDouble() < Options.StaleResendRate)
            {
                yield return (revision.Dossier.Revisions[revision.Number - 2], true);
            }
        }
    }

    private async Task FlushAsync(string agency, AgencyQueue queue, CancellationToken cancellationToken)
    {
        if (queue.Rows.Count > 0)
        {
            var body = queue.Rows.ToArray();
            await SendDossiersAsync(agency, body, cancellationToken);
            if (Options.DuplicateRate > 0 && _random.NextDouble() < Options.DuplicateRate)
            {
                Stats.DuplicatePosts++;
                await SendDossiersAsync(agency, body, cancellationToken);
            }
        }

        for (var i = 0; i < queue.Steps.Count; i += Options.StepsPerPost)
        {
            var chunk = queue.Steps.Skip(i).Take(Options.StepsPerPost).ToArray();
            await SendStepsAsync(agency, chunk, cancellationToken);
            if (Options.DuplicateRate > 0 && _random.NextDouble() < Options.DuplicateRate)
            {
                Stats.DuplicatePosts++;
                await SendStepsAsync(agency, chunk, cancellationToken);
            }
        }

        queue.Rows.Clear();
        queue.Steps.Clear();
    }

    /// <summary>Insert; on "đã tồn tại", the same post again as an update.</summary>
    private async Task SendDossiersAsync(string agency, JsonObject[] rows, CancellationToken cancellationToken)
    {
        Stats.InsertPosts++;
        var reply = await PostAsync(DossierService, agency, isUpdating: false, rows, cancellationToken);
        if (reply.Succeeded)
        {
            return;
        }

        if (!reply.Message.Contains(AlreadyExistsWords, StringComparison.Ordinal))
        {
            throw new PortalSyncException($"{DossierService} insert for {agency} refused: error_code {reply.Code}: {reply.Message}");
        }

        Stats.SwitchedToUpdate++;
        Stats.RowsAlreadyExisting += reply.RowCodes.Count(c => c == AlreadyExistsCode);
        var update = await PostAsync(DossierService, agency, isUpdating: true, rows, cancellationToken);
        if (!update.Succeeded)
        {
            throw new PortalSyncException($"{DossierService} update for {agency} refused: error_code {update.Code}: {update.Message}");
        }
    }

    private async Task SendStepsAsync(string agency, JsonObject[] rows, CancellationToken cancellationToken)
    {
        Stats.StepPosts++;
        var reply = await PostAsync(StepService, agency, isUpdating: null, rows, cancellationToken);
        if (!reply.Succeeded)
        {
            throw new PortalSyncException($"{StepService} for {agency} refused: error_code {reply.Code}: {reply.Message}");
        }
    }

    private async Task<Reply> PostAsync(string service, string agency, bool? isUpdating, JsonObject[] rows, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            Stats.Posts++;
            using var request = new HttpRequestMessage(HttpMethod.Post, Options.ServiceInPath ? $"portal/{service}" : "portal/sync")
            {
                Content = new ByteArrayContent(Envelope(service, agency, isUpdating, rows)),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            request.Headers.Add("dstcode", Options.DstCode);
            using var response = await _http.SendAsync(request, cancellationToken);
            var reply = await ReadReplyAsync(response, service, cancellationToken);
            if (reply.Code == AuthenticationFailed && attempt == 1)
            {
                await LoginAsync(cancellationToken);
                continue;
            }

            Stats.RowsReportedQuarantined += reply.RowCodes.Count(c => c == QuarantinedCode);
            return reply;
        }
    }

    private async Task LoginAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsync(
            "portal/login",
            JsonContent(new JsonObject { ["username"] = _username, ["password"] = _password }),
            cancellationToken);
        var reply = await ReadReplyAsync(response, "login", cancellationToken);
        if (!reply.Succeeded || reply.Session is not { Length: > 0 } session)
        {
            throw new PortalSyncException($"Login refused (HTTP {(int)response.StatusCode}): error_code {reply.Code}: {reply.Message}");
        }

        _session = session;
        Stats.Logins++;
    }

    private byte[] Envelope(string service, string agency, bool? isUpdating, JsonObject[] rows)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("session", _session);
            writer.WriteString("madonvi", agency);
            writer.WriteString("service", service);
            if (isUpdating is { } updating)
            {
                writer.WriteString("isUpdating", updating ? "True" : "False");
            }

            writer.WritePropertyName("data");
            writer.WriteStartArray();
            foreach (var row in rows)
            {
                row.WriteTo(writer);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static ByteArrayContent JsonContent(JsonObject body)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    /// <summary>Reads a reply as real clients do: <c>error_code</c> 0, "0" or "00" is success.</summary>
    private static async Task<Reply> ReadReplyAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        JsonElement root;
        try
        {
            root = JsonSerializer.Deserialize<JsonElement>(text);
        }
        catch (JsonException)
        {
            throw new PortalSyncException($"{what}: HTTP {(int)response.StatusCode} with a body that is not JSON ({text.Length} characters)");
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("error_code", out var codeElement))
        {
            throw new PortalSyncException($"{what}: HTTP {(int)response.StatusCode} without error_code");
        }

        var code = codeElement.ValueKind == JsonValueKind.Number ? codeElement.GetRawText() : codeElement.GetString() ?? "";
        var message = root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
        var session = root.TryGetProperty("session", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        var rowCodes = root.TryGetProperty("result", out var result) && result.ValueKind == JsonValueKind.Array
            ? result.EnumerateArray()
                .Select(r => r.ValueKind == JsonValueKind.Object && r.TryGetProperty("error_code", out var c) ? c.ToString() : "")
                .ToList()
            : [];
        return new Reply(code is "0" or "00", code, message, session, rowCodes);
    }

    private sealed record Reply(bool Succeeded, string Code, string Message, string? Session, IReadOnlyList<string> RowCodes);

    private sealed class AgencyQueue
    {
        public List<JsonObject> Rows { get; } = [];

        public List<JsonObject> Steps { get; } = [];
    }
}

/// <summary>The hub refused a login or a post of the portal-style client.</summary>
public sealed class PortalSyncException : Exception
{
    public PortalSyncException()
    {
    }

    public PortalSyncException(string message)
        : base(message)
    {
    }

    public PortalSyncException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
