using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Hub.Cli;

/// <summary>Exit codes of every command.</summary>
public static class ExitCodes
{
    /// <summary>Done, or valid.</summary>
    public const int Ok = 0;

    /// <summary>The hub refused the request (what was sent is wrong), or a check found a problem.</summary>
    public const int Refused = 1;

    /// <summary>Bad usage: a missing argument, an unreadable file.</summary>
    public const int Usage = 2;

    /// <summary>The hub could not be reached, or failed on its side.</summary>
    public const int Unavailable = 3;

    /// <summary>No usable API key, or the key's roles do not allow the command.</summary>
    public const int NotAllowed = 4;
}

/// <summary>The hub's HTTP API as the commands call it: base address and API key, problem details turned into messages.</summary>
public sealed class HubClient(Uri baseAddress, string? key, TextWriter output, TextWriter error) : IDisposable
{
    private readonly HttpClient _http = Create(baseAddress, key);

    public TextWriter Output => output;

    public TextWriter Error => error;

    private static HttpClient Create(Uri baseAddress, string? key)
    {
        var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(100) };
        if (!string.IsNullOrWhiteSpace(key))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Trim());
        }

        return http;
    }

    /// <summary>
    /// Sends a request; on success gives the response to <c>onSuccess</c>, on 422 to <c>invalid</c> when given (a
    /// validation's field-level problems), else says why and returns the exit code.
    /// </summary>
    public async Task<int> SendAsync(
        HttpMethod method, string path, HttpContent? content, Func<HttpResponseMessage, Task<int>> onSuccess, CancellationToken cancellationToken,
        Func<HttpResponseMessage, Task<int>>? invalid = null, Func<HttpResponseMessage, Task<int>>? notFound = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"error: the hub at {_http.BaseAddress} cannot be reached: {e.Message} (set it with --hub or HUB_URL)");
            return ExitCodes.Unavailable;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync($"error: the hub at {_http.BaseAddress} did not answer {method} {path} within {_http.Timeout.TotalSeconds:0} s");
            return ExitCodes.Unavailable;
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return await onSuccess(response);
            }

            if (invalid is not null && response.StatusCode == HttpStatusCode.UnprocessableEntity)
            {
                return await invalid(response);
            }

            if (notFound is not null && response.StatusCode == HttpStatusCode.NotFound)
            {
                return await notFound(response);
            }

            await error.WriteLineAsync($"error: {method} {path}: {(int)response.StatusCode} {await DescribeAsync(response, cancellationToken)}");
            return response.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ExitCodes.NotAllowed,
                >= HttpStatusCode.InternalServerError => ExitCodes.Unavailable,
                _ => ExitCodes.Refused,
            };
        }
    }

    /// <summary>
    /// Whether <paramref name="path"/> exists (200) or not (404), with <see cref="ExitCodes.Ok"/>; otherwise, after saying
    /// why, the exit code of the failure.
    /// </summary>
    public async Task<(bool Exists, int Code)> ExistsAsync(string path, CancellationToken cancellationToken)
    {
        var exists = false;
        var code = await SendAsync(HttpMethod.Get, path, null, _ =>
        {
            exists = true;
            return Task.FromResult(ExitCodes.Ok);
        }, cancellationToken, notFound: _ =>
        {
            exists = false;
            return Task.FromResult(ExitCodes.Ok);
        });
        return (exists, code);
    }

    /// <summary>A problem-details body as "title: detail", else the body's start.</summary>
    public static async Task<string> DescribeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var problem = JsonDocument.Parse(text);
            var root = problem.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("title", out var title))
            {
                return root.TryGetProperty("detail", out var detail) ? $"{title.GetString()}: {detail.GetString()}" : title.GetString() ?? text;
            }
        }
        catch (JsonException)
        {
            // Not JSON: shown as it is.
        }

        return text.Length > 500 ? text[..500] + "…" : text;
    }

    /// <summary>Writes a JSON answer indented.</summary>
    public async Task<int> PrintJsonAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        await output.WriteLineAsync(JsonSerializer.Serialize(document.RootElement, Indented));
        return ExitCodes.Ok;
    }

    internal static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public void Dispose() => _http.Dispose();
}
