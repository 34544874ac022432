using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Hub.Connectors.BuiltIn.RestPull;

/// <summary>
/// Reads a paged JSON feed, one page per call, with a cursor that resumes a killed run at the next page and starts the
/// next run at the greatest update time seen.
/// </summary>
/// <remarks>
/// <para>
/// A run asks for <c>cursor.param &gt;= from</c> and pages through that one query. Each page's cursor holds the same
/// <c>from</c>, the position of the next page and <c>maxSeen</c>, the greatest cursor-field value read so far in the run
/// (starting at the stored lower bound, so it never moves back). After the last page the cursor collapses to
/// <c>{"from": maxSeen}</c>: the next run re-reads the items at exactly that time, which the store ignores, and so
/// cannot miss items written in the same second as the last one read. The lookback is subtracted only when a run
/// starts from a collapsed cursor.
/// </para>
/// <para>
/// Not thread-safe: the hub asks for one page at a time.
/// </para>
/// </remarks>
internal sealed class RestPullSource : IBackfillSource
{
    /// <summary>Statuses with which a source refuses a page token it no longer knows (expired, or from before a restart).</summary>
    private static readonly HashSet<HttpStatusCode> TokenRejections =
        [HttpStatusCode.BadRequest, HttpStatusCode.NotFound, HttpStatusCode.Gone, HttpStatusCode.UnprocessableEntity];

    private readonly RestPullSettings _settings;
    private readonly ILogger _logger;
    private readonly SourceClient _client;
    private readonly SourceAuthenticator _auth;
    private readonly TimeProvider _time;

    /// <summary>The requests sent since the last page was returned, for the hub's exchange log.</summary>
    private readonly List<SentRequest> _sent = [];
    private bool _restartedAfterTokenRejection;

    public RestPullSource(ConnectorContext context, RestPullSettings settings)
    {
        _settings = settings;
        _logger = context.Logger;
        _client = new SourceClient(context.Http, settings.BaseUrl);
        _time = context.Time;
        _auth = new SourceAuthenticator(settings.Auth, _client, settings.Headers, context.Time, context.Logger, _sent.Add);
    }

    private string DataWhere => SourceClient.Where(_settings.DataUrl);

    public async Task<CheckResult> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _auth.AuthenticateAsync(cancellationToken);
        }
        catch (ConnectorException ex)
        {
            return CheckResult.Failure(ex.Side == FailureSide.SourceUnreachable ? CheckStage.Reach : CheckStage.Authenticate, ex.Message);
        }

        try
        {
            var first = Start(null);
            var page = await FetchAsync(first.From, first.Position, cancellationToken)
                ?? throw new InvalidOperationException("The first page has no page token to reject.");
            return CheckResult.Success(
                page.Records.Count,
                $"Read {page.Records.Count} record(s) from {DataWhere}{(page.Next is null ? "" : "; more pages follow")}.");
        }
        catch (ConnectorException ex)
        {
            var stage = ex.Side switch
            {
                FailureSide.SourceUnreachable => CheckStage.Reach,
                FailureSide.SourceAuth => CheckStage.Authenticate,
                _ => CheckStage.Read,
            };
            return CheckResult.Failure(stage, ex.Message);
        }
    }

    public async Task<PullPage> PullAsync(string? cursor, CancellationToken cancellationToken)
    {
        // Requests of an earlier call that failed went with its failure; this page's start afresh.
        _sent.Clear();
        var run = Start(RestPullCursor.Deserialize(cursor));
        var page = await FetchAsync(run.From, run.Position, cancellationToken);
        if (page is null)
        {
            // The source no longer knows the page token of a resumed run: read the run's query again from its first page.
            // Items already stored come again (the store ignores them); none is skipped. Once per run: a fresh token refused
            // as well is the source's fault.
            if (_restartedAfterTokenRejection)
            {
                throw new ConnectorException(
                    FailureSide.SourceData,
                    retryable: false,
                    $"GET {DataWhere} refused the page token it had just given, after the run had already restarted once.");
            }

            _restartedAfterTokenRejection = true;
            _logger.LogWarning("{Url} refused the stored page token; reading the run's query again from its first page", DataWhere);
            run = run with { Position = FirstPosition() };
            page = await FetchAsync(run.From, run.Position, cancellationToken)
                ?? throw new InvalidOperationException("The first page has no page token to reject.");
        }

        var maxSeen = Max(run.MaxSeen, page.MaxSeen);
        var requests = _sent.ToList();
        _sent.Clear();
        var pulled = page.Next is null
            ? new PullPage(page.Records, new RestPullCursor(_settings.Cursor is null ? null : maxSeen).Serialize(), HasMore: false)
            : new PullPage(page.Records, new RestPullCursor(run.From, maxSeen, page.Next.Page, page.Next.Offset, page.Next.Token).Serialize(), HasMore: true);
        return pulled with
        {
            Content = page.Reply.Body,
            ContentType = page.Reply.ContentType,
            ReceivedAt = page.ReceivedAt,
            Requests = requests,
        };
    }

    /// <summary>
    /// The cursor of a run that reads from <paramref name="from"/> exactly (no lookback). The feed is ordered by the cursor
    /// field, as incremental runs already assume (see the README).
    /// </summary>
    /// <exception cref="ConnectorException">The configuration has no <c>cursor</c>: the feed cannot be read from a time.</exception>
    public string CursorAt(DateTimeOffset from) => _settings.Cursor is null
        ? throw new ConnectorException(
            FailureSide.Configuration,
            retryable: false,
            "The connector's configuration has no 'cursor': its source cannot be read from a given time, so it cannot be back-filled.")
        : new RestPullCursor(from, Exact: true).Serialize();

    /// <summary>The record's cursor-field value; <c>null</c> without a cursor setting or a readable value.</summary>
    public DateTimeOffset? ChangedAt(RawRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return _settings.Cursor is { } cursor
            && cursor.Field.TryResolve(record.Payload, out var value)
            && value.ValueKind == JsonValueKind.String
            && SourceTime.TryParse(value.GetString()!, cursor.FieldFormat, cursor.TimeZone, out var parsed)
                ? parsed
                : null;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Where to read: the stored run's next page, or the first page of a new run.</summary>
    private Run Start(RestPullCursor? stored)
    {
        var cursor = _settings.Cursor;
        if (stored is { IsMidRun: true })
        {
            var position = new Position(stored.Page, stored.Offset, stored.Token);
            var fitsPaging = _settings.Paging switch
            {
                PageNumberPaging => stored.Page is not null,
                OffsetLimitPaging => stored.Offset is not null,
                _ => stored.Token is not null,
            };

            // A cursor from before the paging settings changed cannot say where the next page is: restart the run's query.
            return new Run(cursor is null ? null : stored.From, cursor is null ? null : stored.MaxSeen, fitsPaging ? position : FirstPosition());
        }

        if (cursor is null)
        {
            return new Run(null, null, FirstPosition());
        }

        // The lookback re-reads late writes behind a bound this connector reached; the initial value is read as given.
        if (stored?.From is { } reached)
        {
            return new Run(stored.Exact == true ? reached : reached - cursor.Lookback, reached, FirstPosition());
        }

        return new Run(cursor.Initial, cursor.Initial, FirstPosition());
    }

    private Position FirstPosition() => _settings.Paging switch
    {
        PageNumberPaging p => new Position(p.FirstPage, null, null),
        OffsetLimitPaging => new Position(null, 0, null),
        _ => new Position(null, null, null),
    };

    /// <summary>Reads one page; <c>null</c> when the source refused the page token.</summary>
    private async Task<Page?> FetchAsync(DateTimeOffset? from, Position position, CancellationToken cancellationToken)
    {
        var query = new Dictionary<string, string>(_settings.Query, StringComparer.Ordinal);
        if (_settings.Cursor is { } cursor && from is { } lowerBound)
        {
            query[cursor.Param] = SourceTime.Format(lowerBound, cursor.Format, cursor.TimeZone);
        }

        var size = _settings.PageSize.ToString(CultureInfo.InvariantCulture);
        switch (_settings.Paging)
        {
            case PageNumberPaging p:
                query[p.PageParam] = position.Page!.Value.ToString(CultureInfo.InvariantCulture);
                query[p.SizeParam] = size;
                break;
            case OffsetLimitPaging o:
                query[o.OffsetParam] = position.Offset!.Value.ToString(CultureInfo.InvariantCulture);
                query[o.LimitParam] = size;
                break;
            case NextTokenPaging t:
                if (position.Token is not null)
                {
                    query[t.TokenParam] = position.Token;
                }

                query[t.SizeParam] = size;
                break;
        }

        var reply = await GetWithCredentialsAsync(query, cancellationToken);
        if (position.Token is not null && TokenRejections.Contains(reply.Status))
        {
            return null;
        }

        ThrowUnlessSuccess(reply);
        return ReadPage(reply, position);
    }

    /// <summary>Sends the data call; on a 401 with a token or session, drops it and tries once more with a new one.</summary>
    private async Task<SourceReply> GetWithCredentialsAsync(Dictionary<string, string> query, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var headers = new Dictionary<string, string>(_settings.Headers, StringComparer.OrdinalIgnoreCase);
            headers.TryAdd("Accept", "application/json");
            var withCredentials = new Dictionary<string, string>(query, StringComparer.Ordinal);
            await _auth.ApplyAsync(headers, withCredentials, cancellationToken);

            // Logged without the parameter that carries the session token, if the source wants it in the query.
            _sent.Add(new SentRequest(_time.GetUtcNow(), "GET", Target(_settings.DataUrl, query)));
            var reply = await _client.GetAsync(_settings.DataUrl, withCredentials, headers, cancellationToken);
            if (reply.Status == HttpStatusCode.Unauthorized && attempt == 1 && _auth.CanRenew)
            {
                _logger.LogInformation("{Url} answered 401: renewing the credentials and trying once more", DataWhere);
                _auth.Invalidate();
                continue;
            }

            return reply;
        }
    }

    private void ThrowUnlessSuccess(SourceReply reply)
    {
        if (reply.IsSuccess)
        {
            return;
        }

        if (reply.IsTransient)
        {
            throw new ConnectorException(FailureSide.SourceUnreachable, retryable: true, $"GET {DataWhere} answered {reply.StatusText}.")
            {
                ReceivedContent = reply.Body,
                ReceivedContentType = reply.ContentType,
            };
        }

        throw (reply.Status switch
        {
            HttpStatusCode.Unauthorized => new ConnectorException(
                FailureSide.SourceAuth,
                retryable: false,
                $"GET {DataWhere} answered {reply.StatusText}{(_auth.CanRenew ? " even with renewed credentials" : "")}: the source does not accept the configured credentials."),
            HttpStatusCode.Forbidden => new ConnectorException(
                FailureSide.SourceAuth,
                retryable: false,
                $"GET {DataWhere} answered {reply.StatusText}: the credentials are valid but not allowed to read this path."),
            _ => new ConnectorException(
                FailureSide.Configuration,
                retryable: false,
                $"GET {DataWhere} answered {reply.StatusText}: check the connector's baseUrl, path, query, paging and cursor settings."),
        }).WithReply(reply);
    }

    private Page ReadPage(SourceReply reply, Position position)
    {
        var receivedAt = _time.GetUtcNow();
        using var json = reply.TryParseJson() ?? throw DataFailure($"GET {DataWhere} answered {reply.StatusText} with a body that is not JSON.").WithReply(reply);
        var root = json.RootElement;
        if (!_settings.ItemsPath.TryResolve(root, out var items))
        {
            throw DataFailure($"The reply of GET {DataWhere} has no '{_settings.ItemsPath}' (itemsPath).").WithReply(reply);
        }

        if (items.ValueKind != JsonValueKind.Array)
        {
            throw DataFailure($"'{_settings.ItemsPath}' (itemsPath) in the reply of GET {DataWhere} is {items.ValueKind.ToString().ToLowerInvariant()}, not an array.")
                .WithReply(reply);
        }

        var records = new List<RawRecord>(items.GetArrayLength());
        DateTimeOffset? maxSeen = null;
        var withoutCursorField = 0;
        foreach (var item in items.EnumerateArray())
        {
            if (_settings.Cursor is { } cursor)
            {
                switch (ReadCursorField(cursor, item, records.Count))
                {
                    case { } seen:
                        maxSeen = Max(maxSeen, seen);
                        break;
                    default:
                        withoutCursorField++;
                        break;
                }
            }

            records.Add(new RawRecord(RawRecordKind.Dossier, item.Clone()));
        }

        if (withoutCursorField > 0)
        {
            _logger.LogWarning(
                "{Count} of {Total} items from {Url} have no cursor field '{Field}'; they do not move the cursor",
                withoutCursorField,
                records.Count,
                DataWhere,
                _settings.Cursor!.Field);
        }

        _logger.LogDebug("Read {Count} items from {Url} at {Position}", records.Count, DataWhere, position);
        Position? next;
        try
        {
            next = NextPosition(root, position, records.Count);
        }
        catch (ConnectorException e)
        {
            throw e.WithReply(reply);
        }

        return new Page(records, maxSeen, next, reply, receivedAt);
    }

    /// <summary>The item's cursor-field value; <c>null</c> when the item has none (absent or JSON null).</summary>
    private DateTimeOffset? ReadCursorField(CursorSettings cursor, JsonElement item, int index)
    {
        if (!cursor.Field.TryResolve(item, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        // The value is not quoted in the message: a misconfigured field could point at personal data.
        // An unreadable value does not fail the page: one bad record must not stop a province's sync. The record
        // goes on to the mapping stage, which quarantines it with its reason; it does not move the cursor.
        if (value.ValueKind != JsonValueKind.String
            || !SourceTime.TryParse(value.GetString()!, cursor.FieldFormat, cursor.TimeZone, out var parsed))
        {
            _logger.LogWarning(
                "Item {Index} in the reply of GET {Url} has a cursor field '{Field}' that is not a date-time in {Format}; it does not move the cursor",
                index,
                DataWhere,
                cursor.Field.ToString(),
                cursor.FieldFormat ?? "ISO 8601");
            return null;
        }

        return parsed;
    }

    /// <summary>The position of the page after this one, or <c>null</c> when this page is the last.</summary>
    private Position? NextPosition(JsonElement root, Position position, int count)
    {
        switch (_settings.Paging)
        {
            case PageNumberPaging p:
            {
                // With lastPath, trust the source: a source that caps the page size below the one asked for answers
                // short pages that are not the last. An empty page ends the run whatever it says.
                bool last = count == 0
                    || (p.LastPath is not null && p.LastPath.TryResolve(root, out var flag) && flag.ValueKind is JsonValueKind.True or JsonValueKind.False
                        ? flag.ValueKind == JsonValueKind.True
                        : count < _settings.PageSize);
                return last ? null : position with { Page = position.Page!.Value + 1 };
            }

            case OffsetLimitPaging:
                // Advance by what came, not by what was asked: nothing is skipped if the source caps the limit.
                return count == 0 || count < _settings.PageSize ? null : position with { Offset = position.Offset!.Value + count };

            case NextTokenPaging t:
            {
                if (!t.NextTokenPath.TryResolve(root, out var token))
                {
                    return null;
                }

                var next = token.ValueKind switch
                {
                    JsonValueKind.String => token.GetString(),
                    JsonValueKind.Number => token.GetRawText(),
                    _ => null,
                };
                if (string.IsNullOrEmpty(next))
                {
                    return null;
                }

                if (next == position.Token)
                {
                    throw DataFailure($"GET {DataWhere} answered the page token it was given as the next one: the feed would never end.");
                }

                return position with { Token = next };
            }

            default:
                throw new InvalidOperationException($"Unknown paging {_settings.Paging}.");
        }
    }

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : (a.Value >= b.Value ? a : b);

    private static ConnectorException DataFailure(string message) => new(FailureSide.SourceData, retryable: false, message);

    /// <summary>Where a page starts: a page number, an offset or a page token (<c>null</c> token: the first page).</summary>
    private sealed record Position(int? Page, long? Offset, string? Token)
    {
        // Tokens are opaque and may be long or sensitive: logs show only that there is one.
        public override string ToString() =>
            Page is not null ? $"page {Page}" : Offset is not null ? $"offset {Offset}" : Token is null ? "the first page" : "a page token";
    }

    /// <summary>The query of a run: its lower bound, the greatest time seen so far and the page to read.</summary>
    private sealed record Run(DateTimeOffset? From, DateTimeOffset? MaxSeen, Position Position);

    private sealed record Page(IReadOnlyList<RawRecord> Records, DateTimeOffset? MaxSeen, Position? Next, SourceReply Reply, DateTimeOffset ReceivedAt);

    /// <summary>A request as the exchange log shows it: the URL and the query the connector built, credentials not added yet.</summary>
    internal static string Target(Uri url, IReadOnlyDictionary<string, string> query) =>
        query.Count == 0
            ? url.AbsoluteUri
            : url.AbsoluteUri + (string.IsNullOrEmpty(url.Query) ? "?" : "&") + string.Join("&", query.OrderBy(q => q.Key, StringComparer.Ordinal)
                .Select(q => Uri.EscapeDataString(q.Key) + "=" + Uri.EscapeDataString(q.Value)));
}
