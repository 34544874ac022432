using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;

namespace Hub.Tests.Infrastructure;

/// <summary>The real hub (Hub.Worker.dll from the build) as a separate process on a loopback port.</summary>
public sealed class HubProcess : IAsyncDisposable
{
    /// <summary>The bootstrap admin key every test hub gets unless the test sets its own.</summary>
    public const string TestBootstrapKey = "hub-tests-bootstrap-admin-key-0123456789abcdef";

    private const string BootstrapSetting = "Hub__Identity__BootstrapAdminKey";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly CountdownEvent _streamsClosed = new(2);
    private string _bootstrapKey = TestBootstrapKey;

    private HubProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Whether the process has ended; once it has, its output is read to the end first (a few seconds at most), so that
    /// <see cref="Output"/> holds what it wrote before exiting.
    /// </summary>
    public bool HasExited
    {
        get
        {
            if (!_process.HasExited)
            {
                return false;
            }

            _streamsClosed.Wait(TimeSpan.FromSeconds(5));
            return true;
        }
    }

    public int ExitCode => _process.ExitCode;

    /// <param name="workingDirectory">The hub's current folder.</param>
    /// <param name="environment">Settings, as environment variables.</param>
    /// <param name="asUser">Run the hub as this user (through runuser; the tests must be root), or as the test's own user when null.</param>
    public static HubProcess Start(string workingDirectory, IDictionary<string, string> environment, string? asUser = null)
    {
        var port = FreePort();
        var start = new ProcessStartInfo(asUser is null ? "dotnet" : "runuser")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asUser is not null)
        {
            foreach (var argument in new[] { "-u", asUser, "--", "dotnet" })
            {
                start.ArgumentList.Add(argument);
            }

            start.Environment["HOME"] = workingDirectory;
            start.Environment["DOTNET_CLI_HOME"] = workingDirectory;
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Hub.Worker.dll"));
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment[BootstrapSetting] = TestBootstrapKey;
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        // Hubs of one test database share a scheduler schema of their own: with the default one, shared by every test's
        // hubs, a hub could take another test's queued job and run it against its own database.
        if (!environment.ContainsKey("Hub__Scheduler__SchemaName") && environment.TryGetValue("ConnectionStrings__Hub", out var connection)
            && new Npgsql.NpgsqlConnectionStringBuilder(connection).SearchPath is { Length: > 0 } testSchema)
        {
            start.Environment["Hub__Scheduler__SchemaName"] = ("hf_" + testSchema)[..Math.Min(63, testSchema.Length + 3)];
        }

        var process = new Process { StartInfo = start };
        var hub = new HubProcess(process, new Uri($"http://127.0.0.1:{port}")) { _bootstrapKey = start.Environment[BootstrapSetting]! };
        process.OutputDataReceived += (_, e) => hub.Append(e.Data);
        process.ErrorDataReceived += (_, e) => hub.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return hub;
    }

    /// <summary>Polls /health/ready until it answers 200; fails with the hub's output if it does not in time.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The hub exited with code {_process.ExitCode} before it was ready:\n{Output}");
            }

            try
            {
                using var response = await Client.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    await AuthenticateClientAsync();
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"The hub was not ready within {timeout}:\n{Output}");
    }

    /// <summary>
    /// Gives <see cref="Client"/> the key of a principal of its own with the central roles (operator, auditor, admin),
    /// created through the API by the bootstrap admin, so that tests call the API as a real caller does.
    /// </summary>
    private async Task AuthenticateClientAsync()
    {
        if (Client.DefaultRequestHeaders.Authorization is not null)
        {
            return;
        }

        using var admin = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _bootstrapKey);
        var id = "tests-" + Guid.NewGuid().ToString("N")[..8];
        using var created = await admin.PostAsJsonAsync("/api/principals", new
        {
            id,
            displayName = "Test caller",
            roles = new[] { new { role = "operator" }, new { role = "auditor" }, new { role = "admin" } },
        });
        using var key = await admin.PostAsJsonAsync($"/api/principals/{id}/keys", new { description = "tests", expiresAt = DateTimeOffset.UtcNow.AddDays(2) });
        if (created.StatusCode != HttpStatusCode.Created || key.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException(
                $"The test caller could not be created with the bootstrap admin key: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}; {(int)key.StatusCode} {await key.Content.ReadAsStringAsync()}\n{Output}");
        }

        var secret = (await key.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("key").GetString();
        Client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        PrincipalId = id;
    }

    /// <summary>The principal <see cref="Client"/> calls as, once the hub is ready.</summary>
    public string? PrincipalId { get; private set; }

    /// <summary>
    /// A new principal with these grants (<c>new { role, agency? }</c>), created by the bootstrap admin, and a client
    /// carrying a key of it; with its id. Only for hubs started with <see cref="TestBootstrapKey"/>.
    /// </summary>
    public async Task<(HttpClient Client, string Id)> PrincipalClientAsync(string idPrefix, params object[] grants)
    {
        var id = idPrefix + "-" + Guid.NewGuid().ToString("N")[..8];
        using var admin = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestBootstrapKey);
        using var created = await admin.PostAsJsonAsync("/api/principals", new { id, displayName = id, roles = grants });
        if (created.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"Creating principal {id}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }

        using var key = await admin.PostAsJsonAsync($"/api/principals/{id}/keys", new { description = "test", expiresAt = DateTimeOffset.UtcNow.AddDays(1) });
        if (key.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"Creating a key of {id}: {(int)key.StatusCode} {await key.Content.ReadAsStringAsync()}");
        }

        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Bearer", (await key.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("key").GetString());
        return (client, id);
    }

    /// <summary>Sends SIGTERM, as a service manager does, and waits for the process to end.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return;
        }

        // Under runuser, the hub is runuser's child: signal the hub itself, as a service manager would.
        var pid = _process.StartInfo.FileName == "runuser"
            ? File.ReadAllText($"/proc/{_process.Id}/task/{_process.Id}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]
            : _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using (var kill = Process.Start("kill", ["-TERM", pid]))
        {
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    /// <summary>SIGKILL: the process ends at once, with no chance to stop its PostgreSQL.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                await TerminateAsync(TimeSpan.FromSeconds(30));
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
            // The end of one of the two streams.
            _streamsClosed.Signal();
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
