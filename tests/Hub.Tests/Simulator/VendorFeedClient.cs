using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Hub.Contracts;
using Hub.Core.Model;
using Hub.Simulator;

namespace Hub.Tests.Simulator;

/// <summary>A small client of the simulated vendor API, as a connector would use it: one token, reused until refused.</summary>
internal sealed class VendorFeedClient(HttpClient http, SimulatorHost host, string sourceSystem) : IDisposable
{
    private readonly Uri _base = host.BaseAddress(sourceSystem);
    private readonly ProvinceOptions _options = host[sourceSystem].Options;
    private string? _token;

    public static readonly TimeSpan Vietnam = TimeSpan.FromHours(7);

    public static VendorFeedClient For(SimulatorHost host, string sourceSystem) =>
        new(new HttpClient { Timeout = TimeSpan.FromSeconds(10) }, host, sourceSystem);

    public HttpClient Http => http;

    public Uri Url(string relative) => new(_base, relative);

    public async Task<HttpResponseMessage> RequestTokenAsync(string? clientId = null, string? clientSecret = null, bool basic = false)
    {
        var fields = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(_options.TokenPath.TrimStart('/')));
        if (basic)
        {
            var pair = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{clientId ?? _options.ClientId}:{clientSecret ?? _options.ClientSecret}"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", pair);
        }
        else
        {
            fields["client_id"] = clientId ?? _options.ClientId;
            fields["client_secret"] = clientSecret ?? _options.ClientSecret;
        }

        request.Content = new FormUrlEncodedContent(fields);
        return await http.SendAsync(request);
    }

    public async Task<string> TokenAsync()
    {
        if (_token is null)
        {
            using var response = await RequestTokenAsync();
            response.EnsureSuccessStatusCode();
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            _token = body.RootElement.GetProperty("access_token").GetString();
        }

        return _token!;
    }

    /// <summary>One feed request with the cached token; a 401 drops the token and tries once more with a new one.</summary>
    public async Task<HttpResponseMessage> GetAsync(string query, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Url("api/v1/dossiers/revisions" + query));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync());
            var response = await http.SendAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Unauthorized || attempt > 0)
            {
                return response;
            }

            response.Dispose();
            _token = null;
        }
    }

    /// <summary>A page: its items and paging fields.</summary>
    public sealed record Page(IReadOnlyList<JsonElement> Items, long TotalElements, bool Last, string? NextPageToken, int PageSize);

    public async Task<Page> GetPageAsync(string query, bool retry = false)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await GetAsync(query);
            if (retry && (int)response.StatusCode is 429 or >= 500 && attempt < 50)
            {
                continue;
            }

            Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} for {query}: {await response.Content.ReadAsStringAsync()}");
            var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            return new Page(
                [.. root.GetProperty("content").EnumerateArray()],
                root.GetProperty("totalElements").GetInt64(),
                root.GetProperty("last").GetBoolean(),
                root.GetProperty("nextPageToken").GetString(),
                root.GetProperty("pageable").GetProperty("pageSize").GetInt32());
        }
    }

    /// <summary>Every page of the feed in the province's paging mode, as served (items of each page in one list).</summary>
    public async Task<List<Page>> ReadPagesAsync(int size, DateTimeOffset? updatedFrom = null, bool retry = false, Func<int, Task>? betweenPages = null)
    {
        var from = updatedFrom is { } f ? "&updatedFrom=" + Uri.EscapeDataString(FormatCursor(f)) : "";
        var pages = new List<Page>();
        long position = 0;
        string? token = null;
        while (true)
        {
            var query = _options.PagingMode switch
            {
                PagingMode.PageSize => $"?page={pages.Count}&size={size}{from}",
                PagingMode.OffsetLimit => $"?offset={position}&limit={size}{from}",
                _ => $"?size={size}{from}" + (token is null ? "" : "&pageToken=" + Uri.EscapeDataString(token)),
            };
            var page = await GetPageAsync(query, retry);
            pages.Add(page);
            position += page.Items.Count;
            token = page.NextPageToken;
            var done = _options.PagingMode == PagingMode.NextToken ? token is null : page.Last;
            if (done)
            {
                return pages;
            }

            if (betweenPages is not null)
            {
                await betweenPages(pages.Count);
            }
        }
    }

    public async Task<List<JsonElement>> ReadAllAsync(int size, DateTimeOffset? updatedFrom = null, bool retry = false) =>
        [.. (await ReadPagesAsync(size, updatedFrom, retry)).SelectMany(p => p.Items)];

    public static string FormatCursor(DateTimeOffset t) => t.ToOffset(Vietnam).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public void Dispose() => http.Dispose();
}

/// <summary>Maps vendor feed items to the canonical model, the way a connector for this vendor would; throws on a malformed item.</summary>
internal static class VendorItems
{
    public static (DossierChange Change, List<DossierStep> Steps) Parse(JsonElement item, string sourceSystem)
    {
        var id = item.GetProperty("id").GetString()!;
        var statusId = item.GetProperty("dossierStatus").GetProperty("id").GetInt32();
        var status = VendorStatuses.ToNational(statusId) ?? throw new UnknownStatusException(statusId);
        var code = item.TryGetProperty("code", out var c) ? c.GetString() : null;
        if (string.IsNullOrEmpty(code))
        {
            throw new MissingCodeException();
        }

        var procedureCode = item.GetProperty("procedure").GetProperty("code").GetString()!;
        var change = new DossierChange
        {
            SourceSystem = sourceSystem,
            NativeId = id,
            DossierCode = code,
            EventTime = SourceDates.Parse("updatedDate", item.GetProperty("updatedDate").GetString())!.Value,
            SourceVersion = item.GetProperty("revision").GetInt64(),
            ProcedureCode = procedureCode,
            ProcedureBaseCode = string.Join('.', procedureCode.Split('.').Take(2)),
            ProcedureName = item.GetProperty("procedure").GetProperty("translate")[0].GetProperty("name").GetString(),
            SectorCode = item.GetProperty("sector").GetProperty("code").GetString(),
            AgencyCode = item.GetProperty("agency").GetProperty("code").GetString(),
            HandlingUnit = item.GetProperty("agency").GetProperty("name").GetString(),
            ApplicantType = (ApplicantType)item.GetProperty("applicant").GetProperty("data").GetProperty("type").GetInt32(),
            Channel = VendorApplyMethods.ToChannel(item.GetProperty("applyMethod").GetProperty("id").GetInt32()),
            PaidOnline = item.GetProperty("paidOnline").GetBoolean(),
            SubmittedAt = Date(item, "appliedDate"),
            ReceivedAt = Date(item, "acceptedDate"),
            DueAt = Date(item, "appointmentDate"),
            ProcessingFinishedAt = Date(item, "completedDate"),
            ResultReturnedAt = Date(item, "returnedDate"),
            RefusedAt = Date(item, "refusedDate"),
            Status = status,
            SourceStatus = statusId.ToString(CultureInfo.InvariantCulture),
        };
        var steps = item.GetProperty("tasks").EnumerateArray().Select(t => new DossierStep
        {
            SourceSystem = sourceSystem,
            NativeId = id,
            StepTime = SourceDates.Parse("endDate", t.GetProperty("endDate").GetString())!.Value,
            Officer = t.GetProperty("assignee").GetString(),
            OfficerTitle = t.GetProperty("title").GetString(),
            Department = t.GetProperty("department").GetString(),
            Action = t.GetProperty("content").GetString(),
            StatusAfter = VendorStatuses.ToNational(t.GetProperty("statusAfter").GetProperty("id").GetInt32()),
            StartedAt = SourceDates.Parse("startDate", t.GetProperty("startDate").GetString()),
            Deadline = SourceDates.Parse("deadline", t.GetProperty("deadline").GetString()),
        }).ToList();
        return (change, steps);
    }

    /// <summary>What is wrong with an item, or null when it parses.</summary>
    public static MalformedKind? Fault(JsonElement item, string sourceSystem)
    {
        try
        {
            Parse(item, sourceSystem);
            return null;
        }
        catch (UnknownStatusException)
        {
            return MalformedKind.UnknownStatus;
        }
        catch (MissingCodeException)
        {
            return MalformedKind.MissingCode;
        }
        catch (SourceDateException)
        {
            return MalformedKind.UnparseableDate;
        }
    }

    public static (string Id, long Revision) Key(JsonElement item) =>
        (item.GetProperty("id").GetString()!, item.GetProperty("revision").GetInt64());

    private static DateTimeOffset? Date(JsonElement item, string name) => SourceDates.Parse(name, item.GetProperty(name).GetString());

    private sealed class UnknownStatusException(int id) : FormatException($"unknown vendor status {id}");

    private sealed class MissingCodeException() : FormatException("no code");
}

/// <summary>A clock the test moves by hand; timers stay real.</summary>
public sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    private long _ticks = now.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
