using Refit;

namespace Hub.Connectors.BuiltIn.RestPull;

/// <summary>
/// The calls a rest-pull connector makes, as a Refit interface implemented by Refit's source generator.
/// </summary>
/// <remarks>
/// Every method takes the complete, absolute URL through <c>[Url]</c> (the base URL joined with the path, or the token
/// or login URL, which may be on another host), so the URL never depends on a client's <see cref="HttpClient.BaseAddress"/>.
/// The client Refit sends through is the connector's own wrapper around the hub's <see cref="ConnectorContext.Http"/>:
/// see <see cref="ContextHttpForwarder"/> for why. Replies come back as <see cref="HttpResponseMessage"/>, which Refit
/// returns whatever the status, so the connector classifies every status itself.
/// </remarks>
internal interface IRestSourceApi
{
    /// <summary>Reads one page of the feed.</summary>
    [Get("")]
    Task<HttpResponseMessage> GetAsync(
        [Url] string url,
        [Query] IDictionary<string, string> query,
        [HeaderCollection] IDictionary<string, string> headers,
        CancellationToken cancellationToken);

    /// <summary>Posts a prepared body: the OAuth2 token form or the session login JSON.</summary>
    [Post("")]
    Task<HttpResponseMessage> PostAsync(
        [Url] string url,
        [Body] HttpContent content,
        [HeaderCollection] IDictionary<string, string> headers,
        CancellationToken cancellationToken);
}
