using System.Diagnostics;
using System.Text.Json;
using Hub.Tests.Infrastructure;

namespace Hub.Tests.Dashboard;

/// <summary>Runs the browser scripts of tools/browser-tests (Debian's Chromium through playwright-core) against a hub.</summary>
public static class BrowserScripts
{
    /// <summary>Where the tests leave their screenshots for people to look at.</summary>
    public static string Screenshots => Directory.CreateDirectory(Path.Combine(RepoRoot.Path, "TestResults", "screenshots")).FullName;

    /// <summary>
    /// Runs <paramref name="script"/> with the hub's address, a file holding <paramref name="key"/> (never a command-line
    /// argument) and the other arguments; its JSON output.
    /// </summary>
    public static async Task<JsonElement> RunAsync(Uri hub, string script, string key, params string[] arguments)
    {
        var keyFile = Path.Combine(Path.GetTempPath(), "hub-key-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(keyFile, key);
        try
        {
            var start = new ProcessStartInfo("node", [Path.Combine(RepoRoot.Path, "tools", "browser-tests", script), hub.ToString().TrimEnd('/'), keyFile, .. arguments])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Path.Combine(RepoRoot.Path, "tools", "browser-tests"),
            };
            using var node = Process.Start(start)!;
            var output = node.StandardOutput.ReadToEndAsync();
            var errors = node.StandardError.ReadToEndAsync();
            await node.WaitForExitAsync();
            Assert.True(node.ExitCode == 0, $"the browser run failed:\n{await output}\n{await errors}");
            return JsonDocument.Parse(await output).RootElement.Clone();
        }
        finally
        {
            File.Delete(keyFile);
        }
    }
}
