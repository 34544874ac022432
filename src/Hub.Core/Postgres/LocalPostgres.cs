using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Hub.Core.Postgres;

/// <summary>
/// A PostgreSQL cluster that the hub creates and runs itself with the machine's <c>initdb</c> and <c>pg_ctl</c>:
/// used when no connection string is configured, and by the tests and benchmarks for a throwaway database.
/// The cluster lives in <see cref="LocalPostgresOptions.Directory"/> (data, password, server log), listens on a
/// free loopback port only (no Unix socket), and is stopped by <see cref="StopAsync"/>; a later start on the same
/// directory reuses the data. <c>initdb</c> and <c>postgres</c> refuse to run as root, so as root the server runs
/// as the unprivileged <c>postgres</c> user that Debian's package creates.
/// </summary>
public sealed class LocalPostgres : IAsyncDisposable
{
    private const string SuperUser = "hub";
    private readonly LocalPostgresOptions _options;
    private readonly ILogger _logger;
    private readonly string _directory;
    private readonly string _dataDirectory;
    private readonly string _binDirectory;
    private readonly string? _runAsUser;
    private bool _running;

    private LocalPostgres(LocalPostgresOptions options, ILogger logger, string directory, string binDirectory, string? runAsUser)
    {
        _options = options;
        _logger = logger;
        _directory = directory;
        _dataDirectory = Path.Combine(directory, "data");
        _binDirectory = binDirectory;
        _runAsUser = runAsUser;
    }

    /// <summary>Connection string of the running cluster's database.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>Loopback port the server listens on.</summary>
    public int Port { get; private set; }

    /// <summary>The folder that holds the cluster (data, password file, server log).</summary>
    public string Directory => _directory;

    /// <summary>Creates the cluster on first use, starts it on a free loopback port and makes sure the database exists.</summary>
    public static async Task<LocalPostgres> StartAsync(LocalPostgresOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var binDirectory = FindBinaries(options.BinDirectory);
        var runAs = IsRoot() ? options.RunAsUser : null;
        if (runAs is not null && !await UserExistsAsync(runAs, cancellationToken))
        {
            throw new LocalPostgresException(
                $"PostgreSQL refuses to run as root and the user '{runAs}' that should run it does not exist. " +
                "Install Debian's 'postgresql' package (it creates that user) or set Hub:Database:Local:RunAsUser to an unprivileged user.");
        }

        var directory = Path.GetFullPath(options.Directory);
        if (runAs is not null && !ReachableByOthers(directory))
        {
            // As root in a private folder (for example under /root) the server user could not reach its data: keep the
            // cluster in a system folder instead, named after the configured one so that every start finds it again.
            var name = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(directory)))[..12].ToLowerInvariant();
            var fallback = Path.Combine("/var/lib/hub", $"postgres-{name}");
            logger.LogWarning(
                "PostgreSQL runs as {User}, which cannot reach {Directory}; its cluster is kept in {Fallback} instead", runAs, directory, fallback);
            System.IO.Directory.CreateDirectory("/var/lib/hub");
            directory = fallback;
        }

        var server = new LocalPostgres(options, logger, directory, binDirectory, runAs);
        await server.StartCoreAsync(cancellationToken);
        return server;
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(_directory);
        var passwordFile = Path.Combine(_directory, "password");
        var initialised = File.Exists(Path.Combine(_dataDirectory, "PG_VERSION"));
        if (!initialised)
        {
            await InitialiseAsync(passwordFile, cancellationToken);
        }
        else if (!File.Exists(passwordFile))
        {
            throw new LocalPostgresException(
                $"The PostgreSQL data folder '{_dataDirectory}' exists but its password file '{passwordFile}' is missing; " +
                "restore the file or remove the folder to start from an empty database.");
        }

        var password = (await File.ReadAllTextAsync(passwordFile, cancellationToken)).Trim();
        await StopLeftoverServerAsync(cancellationToken);

        Port = FreeLoopbackPort();
        var log = Path.Combine(_directory, "postgres.log");
        var (code, output) = await RunAsync(
            "pg_ctl", ["start", "-D", _dataDirectory, "-l", log, "-w", "-t", "60", "-o", $"-p {Port}"], cancellationToken);
        if (code != 0)
        {
            throw new LocalPostgresException($"pg_ctl could not start PostgreSQL in '{_dataDirectory}' (exit {code}): {output}\n{Tail(log)}");
        }

        _running = true;
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = SuperUser,
            Password = password,
            Database = "postgres",
        };
        await EnsureDatabaseAsync(builder.ConnectionString, _options.Database, cancellationToken);
        builder.Database = _options.Database;
        ConnectionString = builder.ConnectionString;
        _logger.LogInformation("Local PostgreSQL started from {DataDirectory} on 127.0.0.1:{Port}", _dataDirectory, Port);
    }

    private async Task InitialiseAsync(string passwordFile, CancellationToken cancellationToken)
    {
        _logger.LogInformation("Creating a PostgreSQL cluster in {DataDirectory}", _dataDirectory);
        if (System.IO.Directory.Exists(_dataDirectory) && System.IO.Directory.EnumerateFileSystemEntries(_dataDirectory).Any())
        {
            throw new LocalPostgresException(
                $"The folder '{_dataDirectory}' is not empty but holds no PostgreSQL cluster (no PG_VERSION); move it away or choose another Hub:Database:Local:Directory.");
        }

        System.IO.Directory.CreateDirectory(_dataDirectory);
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        await File.WriteAllTextAsync(passwordFile, password, cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.SetUnixFileMode(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        if (_runAsUser is not null)
        {
            await ChownAsync(_directory, cancellationToken);
        }

        var (code, output) = await RunAsync(
            "initdb",
            ["-D", _dataDirectory, "-U", SuperUser, "--pwfile", passwordFile, "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--no-locale"],
            cancellationToken);
        if (code != 0)
        {
            throw new LocalPostgresException($"initdb could not create a cluster in '{_dataDirectory}' (exit {code}): {output}");
        }

        var settings = new List<string>
        {
            "# Written by the hub when it created this cluster.",
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
            "max_connections = 200",
        };
        if (!_options.Durable)
        {
            // Throwaway clusters (tests): durability buys nothing there and costs an fsync per commit.
            settings.AddRange(["fsync = off", "synchronous_commit = off", "full_page_writes = off"]);
        }

        settings.AddRange(_options.Settings.Select(s => $"{s.Key} = '{s.Value.Replace("'", "''", StringComparison.Ordinal)}'"));
        await File.AppendAllLinesAsync(Path.Combine(_dataDirectory, "postgresql.conf"), settings, cancellationToken);
    }

    /// <summary>A hub that was killed leaves its server running; stop it so this start owns the cluster.</summary>
    private async Task StopLeftoverServerAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path.Combine(_dataDirectory, "postmaster.pid")))
        {
            return;
        }

        var (status, _) = await RunAsync("pg_ctl", ["status", "-D", _dataDirectory], cancellationToken);
        if (status == 0)
        {
            _logger.LogWarning("A PostgreSQL server left running by an earlier hub process is being stopped ({DataDirectory})", _dataDirectory);
            await RunAsync("pg_ctl", ["stop", "-D", _dataDirectory, "-m", "fast", "-w", "-t", "60"], cancellationToken);
        }
    }

    /// <summary>Stops the server (fast shutdown: running transactions are rolled back, committed data is kept).</summary>
    public async Task StopAsync()
    {
        if (!_running)
        {
            return;
        }

        _running = false;
        NpgsqlConnection.ClearAllPools();
        var (code, output) = await RunAsync("pg_ctl", ["stop", "-D", _dataDirectory, "-m", "fast", "-w", "-t", "60"], CancellationToken.None);
        if (code != 0)
        {
            _logger.LogError("pg_ctl could not stop PostgreSQL in {DataDirectory} (exit {Code}): {Output}", _dataDirectory, code, output);
            return;
        }

        _logger.LogInformation("Local PostgreSQL stopped ({DataDirectory})", _dataDirectory);
    }

    /// <summary>Stops the server and deletes its folder: for throwaway clusters.</summary>
    public async Task DestroyAsync()
    {
        await StopAsync();
        System.IO.Directory.Delete(_directory, recursive: true);
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private static async Task EnsureDatabaseAsync(string adminConnectionString, string database, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", connection) { Parameters = { new() { Value = database } } };
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            var quoted = "\"" + database.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
            await using var create = new NpgsqlCommand($"create database {quoted}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static string FindBinaries(string? configured)
    {
        // A configured folder is the only place looked at: a wrong setting must not be hidden by another install.
        var candidates = new List<string>();
        if (!string.IsNullOrWhiteSpace(configured))
        {
            candidates.Add(configured);
        }
        else
        {
            AddSearchPath(candidates);
        }

        foreach (var dir in candidates)
        {
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")) && File.Exists(Path.Combine(dir, "postgres")))
            {
                return dir;
            }
        }

        var where = string.IsNullOrWhiteSpace(configured) ? "in /usr/lib/postgresql/*/bin or on PATH" : $"in '{configured}' (Hub:Database:Local:BinDirectory)";
        throw new LocalPostgresException(
            $"The PostgreSQL server programs (initdb, pg_ctl, postgres) were not found {where}. " +
            "Install them with 'apt-get install postgresql' (Debian/Ubuntu), set Hub:Database:Local:BinDirectory to their folder, " +
            "or configure ConnectionStrings:Hub to use an existing server.");
    }

    private static void AddSearchPath(List<string> candidates)
    {
        const string debianRoot = "/usr/lib/postgresql";
        if (System.IO.Directory.Exists(debianRoot))
        {
            candidates.AddRange(System.IO.Directory.GetDirectories(debianRoot)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Dir));
        }

        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries));
    }

    private async Task<(int Code, string Output)> RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_binDirectory, program);
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The server user may not be able to enter the hub's current folder (for example /root).
            WorkingDirectory = _directory,
        };
        if (_runAsUser is not null)
        {
            start.FileName = "runuser";
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add(_runAsUser);
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(path);
        }
        else
        {
            start.FileName = path;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["LC_ALL"] = "C";
        return await RunProcessAsync(start, cancellationToken);
    }

    private static async Task<(int Code, string Output)> RunProcessAsync(ProcessStartInfo start, CancellationToken cancellationToken)
    {
        using var process = Process.Start(start) ?? throw new LocalPostgresException($"Could not start '{start.FileName}'.");
        // pg_ctl start leaves the server holding its inherited output; read until exit, not until end of stream.
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var output = await Task.WhenAny(Task.WhenAll(stdout, stderr), Task.Delay(TimeSpan.FromSeconds(2), cancellationToken)) is Task<string[]> both
            ? string.Join('\n', both.Result.Where(s => s.Length > 0)).Trim()
            : "";
        return (process.ExitCode, output);
    }

    private async Task ChownAsync(string path, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("chown") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-R", _runAsUser!, path })
        {
            start.ArgumentList.Add(a);
        }

        var (code, output) = await RunProcessAsync(start, cancellationToken);
        if (code != 0)
        {
            throw new LocalPostgresException($"Could not hand '{path}' to the user '{_runAsUser}' that runs PostgreSQL: {output}");
        }
    }

    /// <summary>Whether every existing parent folder lets other users through (the server user needs to reach its data).</summary>
    private static bool ReachableByOthers(string path)
    {
        for (var dir = Path.GetDirectoryName(path); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (System.IO.Directory.Exists(dir) && !OperatingSystem.IsWindows() && (File.GetUnixFileMode(dir) & UnixFileMode.OtherExecute) == 0)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<bool> UserExistsAsync(string user, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("id") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-u");
        start.ArgumentList.Add(user);
        var (code, _) = await RunProcessAsync(start, cancellationToken);
        return code == 0;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Tail(string file)
    {
        try
        {
            return File.Exists(file) ? string.Join('\n', File.ReadLines(file).TakeLast(20)) : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static bool IsRoot() => Environment.IsPrivilegedProcess;
}

/// <summary>Settings of the hub's own PostgreSQL cluster (section <c>Hub:Database:Local</c>).</summary>
public sealed class LocalPostgresOptions
{
    /// <summary>Folder of the cluster: data, password file and server log. Relative paths start at the current folder.</summary>
    public string Directory { get; set; } = ".hub/postgres";

    /// <summary>Name of the hub's database inside the cluster.</summary>
    public string Database { get; set; } = "hub";

    /// <summary>Folder of initdb/pg_ctl/postgres; found in /usr/lib/postgresql/*/bin or on PATH when empty.</summary>
    public string? BinDirectory { get; set; }

    /// <summary>The unprivileged user that runs the server when the hub runs as root.</summary>
    public string RunAsUser { get; set; } = "postgres";

    /// <summary>False for throwaway clusters: fsync and synchronous commit off.</summary>
    public bool Durable { get; set; } = true;

    /// <summary>Extra postgresql.conf settings written when the cluster is created.</summary>
    public IDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}

/// <summary>The hub's own PostgreSQL could not be created, started or reached; the message says why and what to do.</summary>
public sealed class LocalPostgresException(string message) : Exception(message);
