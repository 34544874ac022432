using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Simulator;
using Hub.Tests.Registration;

namespace Hub.Tests.Cli;

/// <summary>
/// A province's IT team and a central operator connect a province with the `hub` command line alone, end to end: from a
/// registration file to a checked, previewed, approved, active connector whose sync stores every change the simulated
/// province holds.
/// </summary>
public sealed class CliRegistrationTests(RegistrationApiHub hub) : IClassFixture<RegistrationApiHub>, IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("hub-cli-registration-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private Task<(int Code, string Output, string Error)> HubAsync(string key, params string[] args) =>
        CliRunner.RunAsync(hub.Process.BaseAddress, _work, key, args);

    private async Task<string> KeyOfAsync(object grant)
    {
        var (client, _) = await hub.WithGrantsAsync(grant);
        using (client)
        {
            return client.DefaultRequestHeaders.Authorization!.Parameter!;
        }
    }

    /// <summary>How many of the connector's quarantined records are still open, read over the API with the CLI's key.</summary>
    private async Task<int> OpenQuarantineAsync(string key, string id)
    {
        using var client = new HttpClient { BaseAddress = hub.Process.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        using var document = JsonDocument.Parse(await client.GetStringAsync($"/api/connectors/{id}/quarantine?open=true&limit=1000"));
        return document.RootElement.GetArrayLength();
    }

    private static void Succeeded((int Code, string Output, string Error) run, string what) =>
        Assert.True(run.Code == 0, $"{what}: exit {run.Code}\n{run.Output}\n{run.Error}");

    [Fact]
    public async Task A_connector_is_registered_from_a_file_checked_previewed_approved_activated_and_synced_with_the_cli()
    {
        var window = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        await using var simulator = await SimulatorHost.StartAsync(new ProvinceOptions
        {
            SourceSystem = "cli-h62",
            AgencyPrefix = "H62",
            Dossiers = 300,
            Seed = 62,
            Start = window,
            End = window.AddDays(10),
            Faults = new FaultOptions { MalformedRate = 0.01 },
        });
        var sim = simulator["cli-h62"];
        var registration = JsonNode.Parse(simulator.VendorRestConnectorJson("cli-h62"))!.AsObject();
        registration["agency"] = "H62";
        registration["schedule"] = null;
        var file = Path.Combine(_work, "cli-h62.connector.json");
        await File.WriteAllTextAsync(file, registration.ToJsonString());
        var id = registration["id"]!.GetValue<string>();
        var owner = await KeyOfAsync(new { role = "province-admin", agency = "H62" });
        var stranger = await KeyOfAsync(new { role = "province-admin", agency = "H63" });
        var central = await KeyOfAsync(new { role = "operator" });

        var registered = await HubAsync(owner, "connector", "register", file, "--reason", "connecting H62");
        var checkedRun = await HubAsync(owner, "connector", "check", id);
        var previewed = await HubAsync(owner, "connector", "preview", id, "--limit", "5");
        var submitted = await HubAsync(owner, "connector", "lifecycle", id, "submit", "--reason", "check and preview pass");
        var approved = await HubAsync(central, "connector", "lifecycle", id, "approve", "--reason", "reviewed");
        var activated = await HubAsync(owner, "connector", "lifecycle", id, "activate", "--reason", "go live");
        var synced = await HubAsync(owner, "connector", "sync", id, "--reason", "first back-fill");

        Succeeded(registered, "register");
        Assert.Equal($"registered {id} (draft)", registered.Output.Trim());
        Succeeded(checkedRun, "check");
        Assert.True(JsonDocument.Parse(checkedRun.Output).RootElement.GetProperty("succeeded").GetBoolean());
        Succeeded(previewed, "preview");
        Assert.InRange(JsonDocument.Parse(previewed.Output).RootElement.GetProperty("records").GetArrayLength(), 1, 5);
        Succeeded(submitted, "submit");
        Assert.Equal($"{id}: submitted", submitted.Output.Trim());
        Succeeded(approved, "approve");
        Succeeded(activated, "activate");
        Assert.Equal($"{id}: active", activated.Output.Trim());
        Succeeded(synced, "sync");

        // The sync runs in the hub; the CLI shows its outcome.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        JsonElement lastRun;
        while (true)
        {
            var status = await HubAsync(owner, "connector", "status");
            Succeeded(status, "status");
            var mine = Assert.Single(JsonDocument.Parse(status.Output).RootElement.EnumerateArray());
            lastRun = mine.GetProperty("lastRun");
            if (lastRun.ValueKind == JsonValueKind.Object && lastRun.GetProperty("outcome").GetString() is "succeeded" or "failed")
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "The sync did not finish in time.");
            await Task.Delay(500);
        }

        Assert.Equal("succeeded", lastRun.GetProperty("outcome").GetString());
        Assert.Equal(sim.Truth.Changes.Count, lastRun.GetProperty("counts").GetProperty("changesStored").GetInt32());
        var injected = sim.MalformedInjected.Values.Sum();
        var unknownStatus = sim.MalformedInjected[MalformedKind.UnknownStatus];
        Assert.True(unknownStatus > 0 && injected > unknownStatus, $"{unknownStatus} of {injected} malformed records have an unknown status");
        Assert.Equal(injected, await OpenQuarantineAsync(owner, id));

        // The file changed (a new mapping version that maps code 99) is registered again as an update, and what the
        // first version quarantined for code 99 is re-processed with it; another agency reaches nothing.
        registration["mapping"]!["version"] = "sim-vendor/2";
        registration["mapping"]!["statusCodes"]!["99"] = 4;
        await File.WriteAllTextAsync(file, registration.ToJsonString());
        var updated = await HubAsync(owner, "connector", "register", file, "--reason", "code 99 is being processed", "--reprocess");
        deadline = DateTime.UtcNow.AddSeconds(180);
        JsonElement reprocessed;
        while (true)
        {
            using var client = new HttpClient { BaseAddress = hub.Process.BaseAddress };
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", owner);
            var runs = JsonDocument.Parse(await client.GetStringAsync($"/api/connectors/{id}/runs")).RootElement.Clone();
            reprocessed = runs.EnumerateArray().FirstOrDefault(r => r.GetProperty("trigger").GetString() == "reprocess" && r.GetProperty("outcome").GetString() != "running");
            if (reprocessed.ValueKind == JsonValueKind.Object)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The quarantine was not re-processed in time; runs: {runs}");
            await Task.Delay(500);
        }

        Assert.True(reprocessed.GetProperty("outcome").GetString() == "succeeded", reprocessed.ToString());
        Assert.Equal(injected - unknownStatus, await OpenQuarantineAsync(owner, id));

        var strangerCheck = await HubAsync(stranger, "connector", "check", id);
        var strangerSync = await HubAsync(stranger, "connector", "sync", id);
        var strangerRegister = await HubAsync(stranger, "connector", "register", file);

        Succeeded(updated, "update");
        Assert.StartsWith($"updated {id} (active): mapping.changed\nquarantine re-processing queued (job ", updated.Output.Trim().ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Equal(1, strangerCheck.Code);
        Assert.Contains($"No connector with id '{id}' is registered to an agency you maintain", strangerCheck.Error, StringComparison.Ordinal);
        Assert.Equal(1, strangerSync.Code);
        // It does not see the connector, so it would register it anew: not for an agency it does not maintain.
        Assert.Equal(4, strangerRegister.Code);
        Assert.Contains("You do not maintain agency 'H62'", strangerRegister.Error, StringComparison.Ordinal);
    }
}
