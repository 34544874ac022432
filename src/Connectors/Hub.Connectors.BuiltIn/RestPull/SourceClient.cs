using System.Net;
using System.Text.Json;
using Refit;

namespace Hub.Connectors.BuiltIn.RestPull;

/// <summary>A reply of the source, read in full.</summary>
internal sealed record SourceReply(HttpStatusCode Status, string? Reason, byte[] Body, string? ContentType = null)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;

    /// <summary>Timeouts, throttling and server errors: a later attempt can succeed.</summary>
    public bool IsTransient => Status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)Status >= 500;

    public string StatusText => $"{(int)Status} {Reason ?? Status.ToString()}";

    /// <summary>Parses the body as JSON, or returns <c>null</c> when it is not JSON.</summary>
    public JsonDocument? TryParseJson()
    {
        try
        {
            return JsonDocument.Parse(Body);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// Sends the connector's calls through the generated Refit client, over the hub's <see cref="ConnectorContext.Http"/>,
/// and turns transport failures into <see cref="ConnectorException"/>s of the source's side.
/// </summary>
internal sealed class SourceClient : IDisposable
{
    /// <summary>
    /// Refit 16 builds requests only through generated code here (the reflection path is a separate package). Transport
    /// failures are surfaced as thrown by the client, not wrapped in Refit's <c>ApiRequestException</c>, whose request
    /// copy holds the credentials: <see cref="SendAsync"/> classifies them itself.
    /// </summary>
    private static readonly RefitSettings Settings = new() { TransportExceptionFactory = static (_, exception, _) => exception };

    private readonly HttpClient _refitHttp;
    private readonly IRestSourceApi _api;

    /// <param name="contextHttp">The hub's client for the source; every call goes through it.</param>
    /// <param name="baseUrl">The source's base URL, only to satisfy Refit: every call passes its absolute URL.</param>
    public SourceClient(HttpClient contextHttp, Uri baseUrl)
    {
        // No timeout of its own: the context's client and its pipeline decide how long a call may take.
        _refitHttp = new HttpClient(new ContextHttpForwarder(contextHttp), disposeHandler: true)
        {
            BaseAddress = baseUrl,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _api = CreateApi(_refitHttp);
    }

    /// <summary>Creates the source-generated implementation of <see cref="IRestSourceApi"/>; never a reflection-built one.</summary>
    internal static IRestSourceApi CreateApi(HttpClient http) => RestService.ForGenerated<IRestSourceApi>(http, Settings);

    public void Dispose() => _refitHttp.Dispose();

    /// <summary>The URL without query string, for messages: query parameters may carry tokens.</summary>
    public static string Where(Uri url) => url.GetLeftPart(UriPartial.Path);

    public Task<SourceReply> GetAsync(Uri url, IDictionary<string, string> query, IDictionary<string, string> headers, CancellationToken cancellationToken) =>
        SendAsync("GET", url, ct => _api.GetAsync(url.AbsoluteUri, query, headers, ct), cancellationToken);

    public Task<SourceReply> PostAsync(Uri url, HttpContent content, IDictionary<string, string> headers, CancellationToken cancellationToken) =>
        SendAsync("POST", url, ct => _api.PostAsync(url.AbsoluteUri, content, headers, ct), cancellationToken);

    private static async Task<SourceReply> SendAsync(
        string method,
        Uri url,
        Func<CancellationToken, Task<HttpResponseMessage>> send,
        CancellationToken cancellationToken)
    {
        try
        {
            using var response = await send(cancellationToken);

            // Read the whole body here, so a connection dropped mid-body counts as unreachable like any transport failure.
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return new SourceReply(response.StatusCode, response.ReasonPhrase, body, response.Content.Headers.ContentType?.ToString());
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex)
        {
            // Not the caller's token: HttpClient.Timeout or a timeout of the hub's pipeline.
            throw Unreachable(method, url, "timed out", ex);
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(method, url, ex.HttpRequestError == HttpRequestError.Unknown ? ex.Message : $"{ex.HttpRequestError}: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw Unreachable(method, url, ex.Message, ex);
        }
        catch (Exception ex) when (IsResilienceRejection(ex))
        {
            throw Unreachable(method, url, $"the hub's resilience pipeline refused the call ({ex.GetType().Name}: {ex.Message})", ex);
        }
    }

    private static ConnectorException Unreachable(string method, Uri url, string why, Exception inner) =>
        new(FailureSide.SourceUnreachable, retryable: true, $"{method} {Where(url)} failed: {why}.", inner);

    /// <summary>
    /// Polly's timeout, open circuit and rate-limiter rejections all derive from <c>Polly.ExecutionRejectedException</c>.
    /// The pipeline belongs to the hub, so the connector recognises them by name rather than by referencing Polly.
    /// </summary>
    private static bool IsResilienceRejection(Exception ex)
    {
        for (var type = ex.GetType(); type is not null; type = type.BaseType)
        {
            if (type.FullName == "Polly.ExecutionRejectedException")
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Failures that carry what the source answered, for the hub's exchange log.</summary>
internal static class ConnectorExceptionReplies
{
    /// <summary>The same failure, with the reply's body and media type.</summary>
    public static ConnectorException WithReply(this ConnectorException e, SourceReply reply) =>
        new(e.Side, e.Retryable, e.Message, e.InnerException) { ReceivedContent = reply.Body, ReceivedContentType = reply.ContentType };
}
