using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Hub.Contracts;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Worker;

public class HubProcessTests
{
    [Fact]
    public async Task With_no_database_configured_the_hub_runs_its_own_PostgreSQL_stops_it_on_SIGTERM_and_reuses_the_data()
    {
        var work = WorkDirectory("hub-run-");
        var pg = Path.Combine(work.FullName, "postgres");
        var environment = new Dictionary<string, string> { ["Hub__Database__Local__Directory"] = pg, ["ConnectionStrings__Hub"] = "" };
        try
        {
            int port;
            await using (var hub = HubProcess.Start(work.FullName, environment))
            {
                var started = Stopwatch.StartNew();
                await hub.WaitReadyAsync(TimeSpan.FromSeconds(60));
                Assert.True(started.Elapsed < TimeSpan.FromSeconds(60));

                // Store a dossier through the hub's own database, as a connector would through the store.
                port = PostmasterPort(pg);
                await using (var dataSource = NpgsqlDataSource.Create(HubConnectionString(pg, port)))
                {
                    var result = await Changes.Store(dataSource).WriteAsync(
                        new ChangeBatch { Dossiers = [Changes.Change("H56", "RUN1", 5, NationalStatus.Processing)] }, CancellationToken.None);
                    Assert.Equal(1, result.CurrentRowsChanged);
                }

                Assert.Equal(HttpStatusCode.OK, (await hub.Client.GetAsync("/api/dossiers/H56-RUN1")).StatusCode);

                await hub.TerminateAsync(TimeSpan.FromSeconds(60));
                Assert.Equal(0, hub.ExitCode);
                Assert.Contains("Local PostgreSQL stopped", hub.Output, StringComparison.Ordinal);
            }

            // Its PostgreSQL went down with it.
            Assert.False(File.Exists(Path.Combine(pg, "data", "postmaster.pid")));
            Assert.False(IsListening(port));

            await using (var again = HubProcess.Start(work.FullName, environment))
            {
                await again.WaitReadyAsync(TimeSpan.FromSeconds(60));
                using var response = await again.Client.GetAsync("/api/dossiers/H56-RUN1");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                Assert.Equal(4, body.RootElement.GetProperty("current").GetProperty("status").GetInt32());
                Assert.DoesNotContain("Creating a PostgreSQL cluster", again.Output, StringComparison.Ordinal);
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_hub_killed_without_warning_leaves_nothing_that_stops_the_next_start()
    {
        var work = WorkDirectory("hub-kill-");
        var pg = Path.Combine(work.FullName, "postgres");
        var environment = new Dictionary<string, string> { ["Hub__Database__Local__Directory"] = pg, ["ConnectionStrings__Hub"] = "" };
        try
        {
            await using (var hub = HubProcess.Start(work.FullName, environment))
            {
                await hub.WaitReadyAsync(TimeSpan.FromSeconds(60));
                hub.Kill();
            }

            await using var again = HubProcess.Start(work.FullName, environment);
            await again.WaitReadyAsync(TimeSpan.FromSeconds(60));
            Assert.Contains("left running by an earlier hub process", again.Output, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>A folder the unprivileged PostgreSQL user can enter when the tests run as root.</summary>
    private static DirectoryInfo WorkDirectory(string prefix)
    {
        var work = Directory.CreateTempSubdirectory(prefix);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(work.FullName, (UnixFileMode)0b111_101_101);
        }

        return work;
    }

    [Fact]
    public async Task Run_by_an_unprivileged_user_the_hub_runs_initdb_and_pg_ctl_itself()
    {
        // As root, start the hub as the unprivileged postgres user; as any other user, the hub already is one.
        var asUser = Environment.IsPrivilegedProcess ? "postgres" : null;
        var work = WorkDirectory("hub-user-");
        if (asUser is not null)
        {
            using var chown = Process.Start("chown", [asUser, work.FullName]);
            await chown.WaitForExitAsync();
            Assert.Equal(0, chown.ExitCode);
        }

        var pg = Path.Combine(work.FullName, "postgres");
        try
        {
            await using var hub = HubProcess.Start(work.FullName, new Dictionary<string, string> { ["Hub__Database__Local__Directory"] = pg, ["ConnectionStrings__Hub"] = "" }, asUser);
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(HttpStatusCode.NotFound, (await hub.Client.GetAsync("/api/dossiers/none")).StatusCode);

            await hub.TerminateAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, hub.ExitCode);
            Assert.Contains("Local PostgreSQL stopped", hub.Output, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(pg, "data", "PG_VERSION")));
            Assert.False(File.Exists(Path.Combine(pg, "data", "postmaster.pid")));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static int PostmasterPort(string pg) =>
        int.Parse(File.ReadAllLines(Path.Combine(pg, "data", "postmaster.pid"))[3], System.Globalization.CultureInfo.InvariantCulture);

    private static string HubConnectionString(string pg, int port) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = port,
        Username = "hub",
        Password = File.ReadAllText(Path.Combine(pg, "password")).Trim(),
        Database = "hub",
    }.ConnectionString;

    private static bool IsListening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
