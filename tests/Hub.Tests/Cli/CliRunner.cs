using System.Diagnostics;

namespace Hub.Tests.Cli;

/// <summary>Runs the built `hub` command line (hub.dll) as a user would, against a hub address.</summary>
internal static class CliRunner
{
    /// <summary>Runs <c>hub args…</c> in <paramref name="workingDirectory"/> with <c>HUB_URL</c> and, when given, <c>HUB_API_KEY</c>.</summary>
    public static async Task<(int Code, string Output, string Error)> RunAsync(Uri hub, string workingDirectory, string? key, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "hub.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["HUB_URL"] = hub.ToString();
        start.Environment.Remove("HUB_API_KEY");
        if (key is not null)
        {
            start.Environment["HUB_API_KEY"] = key;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
