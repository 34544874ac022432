using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Hub.Tests.Simulator;

/// <summary>The simulator as a standalone program (Hub.Simulator.dll from the build).</summary>
public sealed partial class SimulatorProgramTests
{
    [Fact]
    public async Task The_program_serves_the_provinces_it_prints_and_stops_on_SIGTERM()
    {
        using var process = Start("--provinces", "2", "--dossiers", "50", "--port", "0");
        try
        {
            var lines = new List<string>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line && line != "Ctrl+C to stop.")
            {
                lines.Add(line);
            }

            var addresses = lines.Select(l => ProvinceLine().Match(l)).Where(m => m.Success).ToList();
            Assert.Equal(["sim-h56", "sim-h57"], addresses.Select(m => m.Groups["name"].Value));
            using var http = new HttpClient();
            using var health = await http.GetAsync(new Uri(new Uri(addresses[1].Groups["address"].Value), "api/v1/health"));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            await process.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    [Fact]
    public async Task Invalid_settings_end_the_program_with_code_2_and_the_usage()
    {
        using var process = Start("--provinces", "many");

        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("--provinces", error, StringComparison.Ordinal);
    }

    private static Process Start(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Hub.Simulator.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    [GeneratedRegex(@"^\s+(?<name>sim-h\d+): (?<address>http://127\.0\.0\.1:\d+/sim-h\d+/)\s")]
    private static partial Regex ProvinceLine();
}
