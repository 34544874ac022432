using System.Text.Json;
using Hub.Tests.Infrastructure;
using Hub.Tests.Webhook;
using static Hub.Tests.Webhook.Batches;

namespace Hub.Tests.Cli;

/// <summary>The `hub` command line (the built hub.dll) against a real hub process, as an operator, an admin and an auditor use it.</summary>
[Collection(WebhookHubCollection.Name)]
public sealed class CliTests(WebhookHub hub) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("hub-cli-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private async Task<(int Code, string Output, string Error)> HubAsync(string? keyFile, params string[] args) =>
        await CliRunner.RunAsync(hub.Process.BaseAddress, _work, keyFile is null ? null : await File.ReadAllTextAsync(keyFile), args);

    private async Task<string> KeyFileAsync(string name, string key)
    {
        var path = Path.Combine(_work, name);
        await File.WriteAllTextAsync(path, key);
        return path;
    }

    [Fact]
    public async Task An_admin_creates_a_key_that_then_reads_connector_status_and_stops_working_once_revoked()
    {
        var admin = await KeyFileAsync("admin.key", HubProcess.TestBootstrapKey);

        var created = await HubAsync(admin, "keys", "create", hub.Process.PrincipalId!, "--description", "cli test", "--reason", "testing the cli");
        Assert.True(created.Code == 0, created.Error);
        var key = created.Output.Trim();
        Assert.Matches("^hub_[a-z0-9]{12}_", key);
        Assert.Contains("not shown again", created.Error, StringComparison.Ordinal);
        var operatorKey = await KeyFileAsync("operator.key", key);

        var all = await HubAsync(null, "connector", "status", "--key-file", operatorKey);
        var one = await HubAsync(operatorKey, "connector", "status", WebhookHub.FileConnectorId);
        var missing = await HubAsync(operatorKey, "connector", "status", "no-such-connector");
        var revoked = await HubAsync(admin, "keys", "revoke", key.Split('_')[1], "--reason", "test over");
        var after = await HubAsync(operatorKey, "connector", "status");

        Assert.True(all.Code == 0, all.Error);
        Assert.Contains(JsonDocument.Parse(all.Output).RootElement.EnumerateArray(), c => c.GetProperty("id").GetString() == WebhookHub.FileConnectorId);
        Assert.True(one.Code == 0, one.Error);
        Assert.Contains($"\"id\": \"{WebhookHub.FileConnectorId}\"", one.Output, StringComparison.Ordinal);
        Assert.Equal(1, missing.Code);
        Assert.Contains("no connector has id 'no-such-connector'", missing.Error, StringComparison.Ordinal);
        Assert.True(revoked.Code == 0, revoked.Error);
        Assert.Equal(4, after.Code);
        Assert.Contains("was revoked", after.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_operator_syncs_a_connector_and_an_auditor_exports_evidence_that_verifies_offline_until_a_byte_changes()
    {
        var connector = await hub.RegisterAsync("cli-audit");
        using (var delivery = await hub.PostSignedAsync(connector.Id, connector.Key, Body([Dossier(connector.Id, "c1", 0, "2", "Phạm Văn Cli")])))
        {
            Assert.True(delivery.IsSuccessStatusCode);
        }

        var key = await KeyFileAsync("all-roles.key", hub.Process.Client.DefaultRequestHeaders.Authorization!.Parameter!);
        var certificate = Path.Combine(_work, "hub.pem");
        await File.WriteAllTextAsync(certificate, await hub.Process.Client.GetStringAsync("/api/exchange/certificate"));

        var sync = await HubAsync(key, "connector", "sync", connector.Id, "--reason", "cli test");
        var export = await HubAsync(key, "audit", "export", "--dossier", $"{connector.Id}-c1", "-o", "bundle.xml", "--reason", "inspection");
        var verify = await HubAsync(null, "audit", "verify", Path.Combine(_work, "bundle.xml"), "--certificate", certificate);
        var bytes = await File.ReadAllBytesAsync(Path.Combine(_work, "bundle.xml"));
        var at = Array.IndexOf(bytes, (byte)'<', bytes.Length / 2);
        bytes[at + 1] ^= 0x01;
        await File.WriteAllBytesAsync(Path.Combine(_work, "flipped.xml"), bytes);
        var flipped = await HubAsync(null, "audit", "verify", Path.Combine(_work, "flipped.xml"), "--certificate", certificate);

        Assert.True(sync.Code == 0, sync.Error);
        Assert.True(JsonDocument.Parse(sync.Output).RootElement.TryGetProperty("jobId", out _), sync.Output);
        Assert.True(export.Code == 0, export.Error);
        Assert.True(verify.Code == 0, verify.Output + verify.Error);
        Assert.Contains("valid", verify.Output, StringComparison.Ordinal);
        Assert.Equal(1, flipped.Code);
    }

    [Fact]
    public async Task Validate_says_valid_for_a_good_file_and_lists_every_field_of_a_bad_one_with_exit_code_1()
    {
        var key = await KeyFileAsync("validate.key", hub.Process.Client.DefaultRequestHeaders.Authorization!.Parameter!);
        var good = (await File.ReadAllTextAsync(Path.Combine(RepoRoot.Path, "src", "Hub.Simulator", "Connectors", "vendor-rest.connector.json")))
            .Replace("{{baseUrl}}", "http://127.0.0.1:9", StringComparison.Ordinal)
            .Replace("{{sourceSystem}}", "cli-validate", StringComparison.Ordinal);
        var bad = good
            .Replace("\"clientSecret\": \"simulator-secret\"", "\"scope\": \"dossiers\"", StringComparison.Ordinal)
            .Replace("\"9\": 7 }", "\"9\": 7, \"99\": 11 }", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(_work, "good.json"), good);
        await File.WriteAllTextAsync(Path.Combine(_work, "bad.json"), bad);

        var valid = await HubAsync(key, "connector", "validate", Path.Combine(_work, "good.json"));
        var invalid = await HubAsync(key, "connector", "validate", Path.Combine(_work, "bad.json"));

        Assert.True(valid.Code == 0, valid.Output + valid.Error);
        Assert.Contains("valid", valid.Output, StringComparison.Ordinal);
        Assert.True(invalid.Code == 1, invalid.Output + invalid.Error);
        Assert.Contains("configuration.auth.clientSecret: is missing (a secret)", invalid.Error, StringComparison.Ordinal);
        Assert.Contains("mapping.statusCodes.99: ", invalid.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_usage_a_missing_key_an_unreachable_hub_and_an_unreadable_file_each_get_their_exit_code_and_message()
    {
        var key = await KeyFileAsync("k.key", hub.Process.Client.DefaultRequestHeaders.Authorization!.Parameter!);
        var broken = Path.Combine(_work, "broken.json");
        await File.WriteAllTextAsync(broken, "{\n  \"id\": \"x\",\n  \"kind\": \n}");

        var nothing = await HubAsync(key);
        var unknown = await HubAsync(key, "connector", "frobnicate");
        var noKey = await HubAsync(null, "connector", "status");
        var unreachable = await HubAsync(key, "connector", "status", "--hub", "http://127.0.0.1:9");
        var badFile = await HubAsync(key, "connector", "validate", broken);
        var noFile = await HubAsync(key, "connector", "validate", Path.Combine(_work, "absent.yaml"));
        var exportWithoutScope = await HubAsync(key, "audit", "export");

        Assert.Equal(2, nothing.Code);
        Assert.Equal(2, unknown.Code);
        Assert.Contains("frobnicate", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(4, noKey.Code);
        Assert.Contains("no API key", noKey.Error, StringComparison.Ordinal);
        Assert.Equal(3, unreachable.Code);
        Assert.Contains("cannot be reached", unreachable.Error, StringComparison.Ordinal);
        Assert.Equal(2, badFile.Code);
        Assert.Contains("is not valid JSON at line 4", badFile.Error, StringComparison.Ordinal);
        Assert.Equal(2, noFile.Code);
        Assert.Contains("does not exist", noFile.Error, StringComparison.Ordinal);
        Assert.Equal(2, exportWithoutScope.Code);
    }
}
