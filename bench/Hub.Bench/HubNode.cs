using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Simulator.Broker;

namespace Hub.Bench;

/// <summary>
/// One real hub process (Hub.Worker.dll next to the benchmark's own build output, where the project reference puts
/// it) on a free loopback port, its settings given as environment variables, as a service manager would start it.
/// </summary>
internal sealed class HubNode : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Queue<string> _tail = new();

    private HubNode(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        Client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromMinutes(2),
        };
    }

    public Uri BaseAddress { get; }

    /// <summary>A client without credentials (pushes are signed, not authenticated by key).</summary>
    public HttpClient Client { get; }

    public int ProcessId => _process.Id;

    /// <summary>The last lines the hub wrote, for errors.</summary>
    public string Tail
    {
        get
        {
            lock (_tail)
            {
                return string.Join('\n', _tail);
            }
        }
    }

    public static HubNode Start(string workingDirectory, IReadOnlyDictionary<string, string> settings)
    {
        var worker = Path.Combine(AppContext.BaseDirectory, "Hub.Worker.dll");
        if (!File.Exists(worker))
        {
            throw new InvalidOperationException($"{worker} is missing: the benchmark's project reference to Hub.Worker puts it there when the benchmark is built.");
        }

        var port = LocalRabbitMq.FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(worker);
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start };
        var node = new HubNode(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => node.Append(e.Data);
        process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>Polls /health/ready until it answers 200; fails with the hub's last lines if it does not in time.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The hub exited with code {_process.ExitCode} before it was ready:\n{Tail}");
            }

            try
            {
                using var response = await Client.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"The hub was not ready within {timeout}:\n{Tail}");
    }

    /// <summary>A client carrying a new key of a new principal with these roles, created by the bootstrap admin.</summary>
    public async Task<HttpClient> PrincipalAsync(string bootstrapKey, string id, params string[] roles)
    {
        using var admin = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", bootstrapKey);
        await ExpectAsync(await admin.PostAsJsonAsync("/api/principals", new { id, displayName = id, roles = roles.Select(r => new { role = r }) }), HttpStatusCode.Created);
        var key = await ExpectAsync(
            await admin.PostAsJsonAsync($"/api/principals/{id}/keys", new { description = "benchmark", expiresAt = DateTimeOffset.UtcNow.AddDays(1) }), HttpStatusCode.Created);
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key.GetProperty("key").GetString());
        return client;
    }

    /// <summary>The reply's JSON when it has the expected status; otherwise an error with the reply and the hub's last lines.</summary>
    public async Task<JsonElement> ExpectAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != expected)
            {
                throw new InvalidOperationException(
                    $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode} {text}\n{Tail}");
            }

            return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        }
    }

    /// <summary>SIGTERM, as a service manager stops it; killed if it has not ended within the timeout.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        Client.Dispose();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_tail)
        {
            _tail.Enqueue(line);
            if (_tail.Count > 200)
            {
                _tail.Dequeue();
            }
        }
    }
}
