using Hub.Core.Postgres;
using Hub.Core.Store;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hub.Tests.Infrastructure;

/// <summary>
/// One throwaway PostgreSQL cluster for the whole test run, started with the hub's own <see cref="LocalPostgres"/>
/// (or the server in HUB_TEST_POSTGRES), and a schema of its own for each test.
/// </summary>
public static class TestDatabase
{
    private static readonly Lazy<Task<string>> Server = new(StartAsync);
    private static LocalPostgres? _local;

    /// <summary>Connection string of the test server's database.</summary>
    public static Task<string> ConnectionStringAsync() => Server.Value;

    /// <summary>A new, migrated schema for one test; the data source's search path points at it.</summary>
    public static async Task<NpgsqlDataSource> CreateSchemaAsync(string name, bool migrate = true)
    {
        var connectionString = await Server.Value;
        var schema = $"t_{name.ToLowerInvariant()}_{Guid.NewGuid():N}"[..Math.Min(63, name.Length + 35)];
        await using (var admin = NpgsqlDataSource.Create(connectionString))
        await using (var command = admin.CreateCommand($"create schema {schema}"))
        {
            await command.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = schema, PersistSecurityInfo = true };
        var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        if (migrate)
        {
            await SchemaMigrator.MigrateAsync(dataSource, CancellationToken.None);
        }

        return dataSource;
    }

    private static async Task<string> StartAsync()
    {
        if (Environment.GetEnvironmentVariable("HUB_TEST_POSTGRES") is { Length: > 0 } configured)
        {
            return configured;
        }

        RemoveStoppedClusters();
        var options = new LocalPostgresOptions
        {
            Directory = Path.Combine(Path.GetTempPath(), $"hub-tests-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]),
            Durable = false,
        };
        _local = await LocalPostgres.StartAsync(options, NullLogger.Instance, CancellationToken.None);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => _local.DestroyAsync().GetAwaiter().GetResult();
        return _local.ConnectionString;
    }

    /// <summary>
    /// Clusters of earlier runs whose test process has ended (the test host may end before its clean-up finishes): a
    /// server still running there is shut down first. A folder whose test process still lives is left alone: that run
    /// may be creating its cluster right now (no postmaster.pid yet).
    /// </summary>
    private static void RemoveStoppedClusters()
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), "hub-tests-*"))
        {
            if (!OwnerAlive(directory) && StopLeftServer(Path.Combine(directory, "data", "postmaster.pid")))
            {
                try
                {
                    Directory.Delete(directory, recursive: true);
                }
                catch (IOException)
                {
                    // Another test run is creating it right now, or it is gone already.
                }
                catch (UnauthorizedAccessException)
                {
                    // Someone else's: leave it.
                }
            }
        }
    }

    /// <summary>
    /// Shuts down the server of a dead run's cluster (SIGQUIT: immediate shutdown; the cluster is thrown away anyway);
    /// whether no server runs there any more.
    /// </summary>
    private static bool StopLeftServer(string pidFile)
    {
        if (!File.Exists(pidFile)
            || !int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
            || !File.Exists($"/proc/{pid}/cmdline")
            || !File.ReadAllText($"/proc/{pid}/cmdline").Contains("postgres", StringComparison.Ordinal))
        {
            return true;
        }

        try
        {
            using var kill = System.Diagnostics.Process.Start("kill", ["-QUIT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }

        for (var i = 0; i < 50 && Directory.Exists($"/proc/{pid}"); i++)
        {
            Thread.Sleep(100);
        }

        return !Directory.Exists($"/proc/{pid}");
    }

    /// <summary>Whether the test process named in a folder <c>hub-tests-{pid}-{guid}</c> still runs.</summary>
    private static bool OwnerAlive(string directory)
    {
        var parts = Path.GetFileName(directory).Split('-');
        return parts.Length > 2
            && int.TryParse(parts[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
            && Directory.Exists($"/proc/{pid}");
    }
}
