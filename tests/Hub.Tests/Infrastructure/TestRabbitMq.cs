using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hub.Tests.Infrastructure;

/// <summary>A virtual host of the test node, with a user of its own (random password) allowed everything in it.</summary>
public sealed record TestBroker(string Host, int Port, string VirtualHost, string Username, string Password)
{
    /// <summary>The settings of a hub process on this database that publishes its outbox to this virtual host.</summary>
    public Dictionary<string, string> HubSettings(Npgsql.NpgsqlDataSource db) => new()
    {
        ["ConnectionStrings__Hub"] = db.ConnectionString,
        ["Hub__Bus__DispatchInterval"] = "00:00:00.200",
        ["Hub__Bus__Transport"] = "RabbitMq",
        ["Hub__Bus__RabbitMq__Host"] = Host,
        ["Hub__Bus__RabbitMq__Port"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Hub__Bus__RabbitMq__VirtualHost"] = VirtualHost,
        ["Hub__Bus__RabbitMq__Username"] = Username,
        ["Hub__Bus__RabbitMq__Password"] = Password,
    };
}

/// <summary>
/// One throwaway RabbitMQ node for the whole test run, started from the machine's <c>rabbitmq-server</c> (Debian's
/// package, installed by scripts/test) in a temporary folder on free loopback ports, and a virtual host of its own for
/// each test. A watchdog stops the node and deletes its folder once the test process has ended; nodes whose watchdog
/// did not get to (the machine stopped) are removed by the next run. RabbitMQ missing or not starting fails the test
/// that needs it, with the reason.
/// </summary>
public static class TestRabbitMq
{
    private const string FolderPrefix = "hub-rabbitmq-";

    /// <summary>Debian's own programs: /usr/sbin's wrappers switch to the rabbitmq user and its home when run as root.</summary>
    private const string DebianBin = "/usr/lib/rabbitmq/bin";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private static readonly Lazy<Task<Node>> Shared = new(StartAsync);

    /// <summary>How long the shared node took to accept AMQP connections, once it has.</summary>
    public static TimeSpan? StartedIn { get; private set; }

    /// <summary>A new virtual host and user on the shared node (started on first use), for one test.</summary>
    public static async Task<TestBroker> CreateVirtualHostAsync(string name)
    {
        var node = await Shared.Value;
        var vhost = $"{name}-{Guid.NewGuid():N}";
        var password = Guid.NewGuid().ToString("N");
        await node.ControlAsync("add_vhost", vhost);
        await node.ControlAsync("add_user", vhost, password);
        await node.ControlAsync("set_permissions", "-p", vhost, vhost, ".*", ".*", ".*");
        return new TestBroker(IPAddress.Loopback.ToString(), node.AmqpPort, vhost, vhost, password);
    }

    /// <summary>A loopback port nothing listens on (a broker that is down).</summary>
    public static int UnusedPort() => FreePort();

    private static async Task<Node> StartAsync()
    {
        RemoveLeftovers();
        var server = Program("rabbitmq-server");
        var control = Program("rabbitmqctl");
        var directory = Path.Combine(Path.GetTempPath(), $"{FolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}"[..(FolderPrefix.Length + 20)]);
        Directory.CreateDirectory(directory);

        // The CLI authenticates to the node with the Erlang cookie in $HOME, which Erlang wants readable by its owner only.
        var cookie = Path.Combine(directory, ".erlang.cookie");
        File.WriteAllText(cookie, Guid.NewGuid().ToString("N"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(cookie, UnixFileMode.UserRead);
        }
        File.WriteAllText(Path.Combine(directory, "rabbitmq.conf"), "log.console.level = warning\n");
        File.WriteAllText(Path.Combine(directory, "enabled_plugins"), "[].\n");

        var name = Path.GetFileName(directory);
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = directory,
            ["RABBITMQ_NODENAME"] = $"{name}@localhost",
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            // A port mapper of the node's own (not the machine's shared one on 4369), so that it can be stopped with it.
            ["ERL_EPMD_PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(directory, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(directory, "log"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(directory, "node.pid"),
            // Nothing from /etc/rabbitmq: a base name without extension means rabbitmq.conf; the other two do not exist.
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(directory, "rabbitmq"),
            ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(directory, "advanced.config"),
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(directory, "rabbitmq-env.conf"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(directory, "enabled_plugins"),
        };

        var node = new Node(directory, control, environment);
        var started = Stopwatch.StartNew();
        node.Start(server);
        await node.WaitForAmqpAsync(StartTimeout);
        StartedIn = started.Elapsed;
        return node;
    }

    private static string Program(string name)
    {
        var debian = Path.Combine(DebianBin, name);
        if (File.Exists(debian))
        {
            return debian;
        }

        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"RabbitMQ's {name} was not found (in {DebianBin} or on PATH): the bus tests need a real RabbitMQ node. " +
            "scripts/test installs it (Debian's rabbitmq-server package).");
    }

    /// <summary>
    /// Nodes and folders of test runs whose process is gone and whose watchdog did not clean up (it was killed too, or
    /// is still at it): their processes are found by the folder they were given as HOME, killed, and the folder deleted.
    /// Folders of live runs are left alone.
    /// </summary>
    private static void RemoveLeftovers()
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), FolderPrefix + "*"))
        {
            var parts = Path.GetFileName(directory)[FolderPrefix.Length..].Split('-');
            if (!int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var owner)
                || Directory.Exists($"/proc/{owner}"))
            {
                continue;
            }

            KillProcessesOf(directory);
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Someone else's, or being removed by another run.
            }
        }
    }

    /// <summary>Kills the node, its watchdog, helpers and port mapper: every process started with this folder as HOME.</summary>
    private static void KillProcessesOf(string directory)
    {
        // "HOME=..." as a whole variable: first in the environment, or after the end of another.
        var home = Encoding.UTF8.GetBytes($"\0HOME={directory}\0");
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
                || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var environ = File.ReadAllBytes(Path.Combine(proc, "environ"));
                if (environ.AsSpan().StartsWith(home.AsSpan(1)) || environ.AsSpan().IndexOf(home) >= 0)
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException
                                          or System.ComponentModel.Win32Exception)
            {
                // Gone meanwhile, or not ours to read.
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class Node(string directory, string control, IReadOnlyDictionary<string, string> environment)
    {
        private readonly StringBuilder _output = new();
        private Process? _server;

        public int AmqpPort { get; } = int.Parse(environment["RABBITMQ_NODE_PORT"], System.Globalization.CultureInfo.InvariantCulture);

        private string NodeName => environment["RABBITMQ_NODENAME"];

        /// <summary>
        /// Starts the node under a watchdog shell that outlives this process: once the test process has ended (however
        /// it ended), it stops the node, then the node's port mapper (a daemon the node starts outside its process
        /// tree), and deletes the folder. Clean-up at the test process's exit would compete with the other fixtures'
        /// for the little time the test platform leaves a finished test host.
        /// </summary>
        public void Start(string server)
        {
            const string Watchdog = """
                "$1" &
                server=$!
                while kill -0 "$2" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 0.5; done
                kill -TERM "$server" 2>/dev/null
                wait "$server"
                epmd -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1
                rm -rf "$3"
                """;
            _server = new Process
            {
                StartInfo = StartInfo("/bin/sh", ["-c", Watchdog, "watchdog", server, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), directory]),
            };
            _server.OutputDataReceived += (_, e) => Append(e.Data);
            _server.ErrorDataReceived += (_, e) => Append(e.Data);
            _server.Start();
            _server.BeginOutputReadLine();
            _server.BeginErrorReadLine();
        }

        /// <summary>Until the AMQP listener accepts connections (it opens as the last step of the node's boot).</summary>
        public async Task WaitForAmqpAsync(TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < timeout)
            {
                if (_server!.HasExited)
                {
                    throw new InvalidOperationException($"The test RabbitMQ node {NodeName} exited with code {_server.ExitCode} while starting:\n{Diagnostics()}");
                }

                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, AmqpPort);
                    return;
                }
                catch (SocketException)
                {
                    await Task.Delay(100);
                }
            }

            throw new TimeoutException($"The test RabbitMQ node {NodeName} did not accept AMQP connections within {timeout}:\n{Diagnostics()}");
        }

        /// <summary>Runs <c>rabbitmqctl -n node</c> with these arguments; fails with its output unless it succeeds.</summary>
        public async Task ControlAsync(params string[] arguments)
        {
            using var process = new Process { StartInfo = StartInfo(control, ["-n", NodeName, .. arguments]) };
            process.Start();
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(cts.Token);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"rabbitmqctl {string.Join(' ', arguments)} failed with code {process.ExitCode}:\n{await output}\n{await error}");
            }
        }

        private ProcessStartInfo StartInfo(string program, IEnumerable<string>? arguments = null)
        {
            var start = new ProcessStartInfo(program)
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in arguments ?? [])
            {
                start.ArgumentList.Add(argument);
            }

            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }

            return start;
        }

        private string Diagnostics()
        {
            var log = Path.Combine(directory, "log", $"{NodeName}.log");
            var tail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(40)) : "(no log file)";
            lock (_output)
            {
                return $"{_output}\n--- {log} ---\n{tail}";
            }
        }

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
