namespace Hub.Connectors.BuiltIn.RestPull;

/// <summary>
/// The handler of the connector's own Refit-facing <see cref="HttpClient"/>: it sends every request on through the
/// hub's <see cref="ConnectorContext.Http"/>, so each call still passes the connector's resilience pipeline.
/// </summary>
/// <remarks>
/// Why not give Refit the context's client directly: Refit 16's generated code refuses to send through a client
/// without <see cref="HttpClient.BaseAddress"/> (<c>RequestExecutionHelpers.ThrowIfBaseAddressMissing</c> runs before
/// every call, even one whose <c>[Url]</c> is absolute), and the context's client has none and is not ours to change: it
/// is shared, and a base address cannot be changed once a request went out. Its handler chain is not reachable either.
/// So the connector wraps it: a client of its own with the source's base URL, whose only handler is this forwarder.
/// A request that went through one <see cref="HttpClient"/> is marked as sent and cannot go through another, so the
/// forwarder sends a copy (same method, URI, headers, content, options and version).
/// </remarks>
internal sealed class ContextHttpForwarder(HttpClient contextHttp) : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // The copy shares the content, which the original request owns and disposes.
        var copy = new HttpRequestMessage(request.Method, request.RequestUri)
        {
            Content = request.Content,
            Version = request.Version,
            VersionPolicy = request.VersionPolicy,
        };
        foreach (var header in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        IDictionary<string, object?> options = copy.Options;
        foreach (var option in request.Options)
        {
            options[option.Key] = option.Value;
        }

        return contextHttp.SendAsync(copy, cancellationToken);
    }

    // The context's client belongs to the hub: disposing the forwarder leaves it alone.
}
