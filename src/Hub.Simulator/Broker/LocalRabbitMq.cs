using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hub.Simulator.Broker;

/// <summary>A virtual host of a <see cref="LocalRabbitMq"/> node, with a user of its own (random password) allowed everything in it.</summary>
public sealed record BrokerAccount(string Host, int Port, string VirtualHost, string Username, string Password);

/// <summary>
/// A throwaway RabbitMQ node, started from the machine's <c>rabbitmq-server</c> (Debian's package) in a temporary
/// folder on free loopback ports, with nothing read from <c>/etc/rabbitmq</c>, for the tests and the benchmark. A
/// watchdog shell stops the node and deletes its folder once the process that started it has ended (however it ended);
/// nodes whose watchdog did not get to it (the machine stopped) are removed by the next start with the same folder
/// prefix. RabbitMQ missing or not starting is an error with the reason.
/// </summary>
public sealed class LocalRabbitMq
{
    /// <summary>Debian's own programs: /usr/sbin's wrappers switch to the rabbitmq user and its home when run as root.</summary>
    private const string DebianBin = "/usr/lib/rabbitmq/bin";

    private readonly StringBuilder _output = new();
    private readonly string _directory;
    private readonly string _control;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private Process? _server;

    private LocalRabbitMq(string directory, string control, IReadOnlyDictionary<string, string> environment)
    {
        _directory = directory;
        _control = control;
        _environment = environment;
        AmqpPort = int.Parse(environment["RABBITMQ_NODE_PORT"], CultureInfo.InvariantCulture);
    }

    /// <summary>The loopback port of the node's AMQP listener.</summary>
    public int AmqpPort { get; }

    /// <summary>How long the node took to accept AMQP connections.</summary>
    public TimeSpan StartedIn { get; private set; }

    private string NodeName => _environment["RABBITMQ_NODENAME"];

    /// <summary>
    /// Starts a node in a new folder of the temporary folder named <paramref name="folderPrefix"/>, this process's id
    /// and a random part, and waits until it accepts AMQP connections. Leftovers of ended processes with the same prefix
    /// are removed first.
    /// </summary>
    public static async Task<LocalRabbitMq> StartAsync(string folderPrefix, TimeSpan timeout)
    {
        RemoveLeftovers(folderPrefix);
        var server = Program("rabbitmq-server");
        var control = Program("rabbitmqctl");
        var directory = Path.Combine(Path.GetTempPath(), $"{folderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}"[..(folderPrefix.Length + 20)]);
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
            ["RABBITMQ_NODE_PORT"] = FreePort().ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = FreePort().ToString(CultureInfo.InvariantCulture),
            // A port mapper of the node's own (not the machine's shared one on 4369), so that it can be stopped with it.
            ["ERL_EPMD_PORT"] = FreePort().ToString(CultureInfo.InvariantCulture),
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

        var node = new LocalRabbitMq(directory, control, environment);
        var started = Stopwatch.StartNew();
        node.Start(server);
        await node.WaitForAmqpAsync(timeout);
        node.StartedIn = started.Elapsed;
        return node;
    }

    /// <summary>A new virtual host and a user of its own (random password) allowed everything in it.</summary>
    public async Task<BrokerAccount> CreateVirtualHostAsync(string name)
    {
        var vhost = $"{name}-{Guid.NewGuid():N}";
        var password = Guid.NewGuid().ToString("N");
        await ControlAsync("add_vhost", vhost);
        await ControlAsync("add_user", vhost, password);
        await ControlAsync("set_permissions", "-p", vhost, vhost, ".*", ".*", ".*");
        return new BrokerAccount(IPAddress.Loopback.ToString(), AmqpPort, vhost, vhost, password);
    }

    /// <summary>The node's processes (the Erlang VM, its helpers and port mapper): every process started with its folder as HOME.</summary>
    public IReadOnlyList<int> ProcessIds() => ProcessesOf(_directory);

    /// <summary>A loopback port nothing listens on at the moment.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
            $"RabbitMQ's {name} was not found (in {DebianBin} or on PATH): a real RabbitMQ node is needed. " +
            "scripts/test installs it (Debian's rabbitmq-server package).");
    }

    /// <summary>
    /// Nodes and folders of processes that are gone and whose watchdog did not clean up (it was killed too, or is still
    /// at it): their processes are found by the folder they were given as HOME, killed, and the folder deleted.
    /// Folders of live processes are left alone.
    /// </summary>
    private static void RemoveLeftovers(string folderPrefix)
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), folderPrefix + "*"))
        {
            var parts = Path.GetFileName(directory)[folderPrefix.Length..].Split('-');
            if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var owner)
                || Directory.Exists($"/proc/{owner}"))
            {
                continue;
            }

            foreach (var pid in ProcessesOf(directory))
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // Gone meanwhile.
                }
            }

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

    /// <summary>Every process started with this folder as HOME: the node, its watchdog, helpers and port mapper.</summary>
    private static List<int> ProcessesOf(string directory)
    {
        // "HOME=..." as a whole variable: first in the environment, or after the end of another.
        var home = Encoding.UTF8.GetBytes($"\0HOME={directory}\0");
        var found = new List<int>();
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var environ = File.ReadAllBytes(Path.Combine(proc, "environ"));
                if (environ.AsSpan().StartsWith(home.AsSpan(1)) || environ.AsSpan().IndexOf(home) >= 0)
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }

        return found;
    }

    /// <summary>
    /// Starts the node under a watchdog shell that outlives this process: once this process has ended (however it
    /// ended), it stops the node, then the node's port mapper (a daemon the node starts outside its process tree), and
    /// deletes the folder. Clean-up at this process's exit would compete with other clean-ups (a test host's fixtures)
    /// for the little time the process may have left.
    /// </summary>
    private void Start(string server)
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
            StartInfo = StartInfo("/bin/sh", ["-c", Watchdog, "watchdog", server, Environment.ProcessId.ToString(CultureInfo.InvariantCulture), _directory]),
        };
        _server.OutputDataReceived += (_, e) => Append(e.Data);
        _server.ErrorDataReceived += (_, e) => Append(e.Data);
        _server.Start();
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
    }

    /// <summary>Until the AMQP listener accepts connections (it opens as the last step of the node's boot).</summary>
    private async Task WaitForAmqpAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_server!.HasExited)
            {
                throw new InvalidOperationException($"The RabbitMQ node {NodeName} exited with code {_server.ExitCode} while starting:\n{Diagnostics()}");
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

        throw new TimeoutException($"The RabbitMQ node {NodeName} did not accept AMQP connections within {timeout}:\n{Diagnostics()}");
    }

    /// <summary>Runs <c>rabbitmqctl -n node</c> with these arguments; fails with its output unless it succeeds.</summary>
    private async Task ControlAsync(params string[] arguments)
    {
        using var process = new Process { StartInfo = StartInfo(_control, ["-n", NodeName, .. arguments]) };
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
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments ?? [])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in _environment)
        {
            start.Environment[key] = value;
        }

        return start;
    }

    private string Diagnostics()
    {
        var log = Path.Combine(_directory, "log", $"{NodeName}.log");
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
