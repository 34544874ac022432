using System.CommandLine;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hub.Cli;
using Hub.Core.Audit;

// hub <group> <command> [...]: see `hub --help`. Exit codes: 0 done or valid, 1 refused by the hub or invalid,
// 2 bad usage or an unreadable file, 3 hub unreachable or failing, 4 no usable key or not allowed.
var output = Console.Out;
var error = Console.Error;

var hubOption = new Option<string>("--hub")
{
    Description = "The hub's address (default: $HUB_URL, else http://127.0.0.1:5080).",
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HUB_URL") ?? "http://127.0.0.1:5080",
    Recursive = true,
};
var keyFileOption = new Option<FileInfo?>("--key-file")
{
    Description = "A file holding the API key (default: the key in $HUB_API_KEY).",
    Recursive = true,
};
var reasonOption = new Option<string?>("--reason") { Description = "Why: recorded with the action in the exchange log." };

HubClient? Client(ParseResult result, out int problem)
{
    problem = ExitCodes.Ok;
    string? key;
    if (result.GetValue(keyFileOption) is { } file)
    {
        if (!file.Exists)
        {
            error.WriteLine($"error: key file '{file.FullName}' does not exist");
            problem = ExitCodes.Usage;
            return null;
        }

        key = File.ReadAllText(file.FullName).Trim();
    }
    else
    {
        key = Environment.GetEnvironmentVariable("HUB_API_KEY");
    }

    if (string.IsNullOrWhiteSpace(key))
    {
        error.WriteLine("error: no API key: give --key-file <file> or set HUB_API_KEY");
        problem = ExitCodes.NotAllowed;
        return null;
    }

    var address = result.GetValue(hubOption)!;
    if (!Uri.TryCreate(address, UriKind.Absolute, out var hubUri) || (hubUri.Scheme != Uri.UriSchemeHttp && hubUri.Scheme != Uri.UriSchemeHttps))
    {
        error.WriteLine($"error: the hub's address '{address}' is not an http(s) URL");
        problem = ExitCodes.Usage;
        return null;
    }

    return new HubClient(hubUri, key, output, error);
}

string WithReason(string path, ParseResult result) =>
    result.GetValue(reasonOption) is { Length: > 0 } reason ? $"{path}{(path.Contains('?') ? '&' : '?')}reason={Uri.EscapeDataString(reason)}" : path;

var root = new RootCommand("hub: validate connector registrations, watch and sync connectors, export and verify evidence of the exchange log, and manage API keys, through the hub's HTTP API.");
root.Options.Add(hubOption);
root.Options.Add(keyFileOption);

// connector …
var connector = new Command("connector", "Connectors: validate and register a file, check and preview, the lifecycle, state and sync now.");
root.Subcommands.Add(connector);

var fileArgument = new Argument<FileInfo>("file") { Description = "A connector registration, JSON or YAML (.yaml, .yml)." };
var validate = new Command("validate", "Checks a registration file with the hub, field by field; stores nothing. Exit 0 valid, 1 invalid.") { fileArgument };
validate.SetAction(async (result, ct) =>
{
    var (json, problem) = ConnectorFile.Read(result.GetValue(fileArgument)!.FullName);
    if (json is null)
    {
        await error.WriteLineAsync($"error: {problem}");
        return ExitCodes.Usage;
    }

    using var hub = Client(result, out var code);
    if (hub is null)
    {
        return code;
    }

    using var content = new StringContent(json, Encoding.UTF8, "application/json");
    return await hub.SendAsync(HttpMethod.Post, "/api/connectors/validate", content, async response =>
    {
        await output.WriteLineAsync("valid");
        return ExitCodes.Ok;
    }, ct, invalid: response => PrintInvalidAsync(response, ct));
});
connector.Subcommands.Add(validate);

// A 422 answer: every field with its problem and what is expected.
async Task<int> PrintInvalidAsync(HttpResponseMessage response, CancellationToken ct)
{
    var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
    await error.WriteLineAsync($"invalid: {(body.TryGetProperty("detail", out var detail) ? detail.GetString() : "")}");
    if (body.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
    {
        foreach (var e in errors.EnumerateArray())
        {
            var field = e.TryGetProperty("field", out var f) ? f.GetString() : "?";
            var what = e.TryGetProperty("problem", out var p) ? p.GetString() : "";
            var expected = e.TryGetProperty("expected", out var x) ? x.GetString() : null;
            await error.WriteLineAsync($"  {field}: {what}{(expected is null ? "" : $" (expected: {expected})")}");
        }
    }

    return ExitCodes.Refused;
}

var reprocessOption = new Option<bool>("--reprocess") { Description = "With an update that changes the mapping: re-process the quarantine with the new version." };
var register = new Command(
    "register",
    "Registers the connector of a file (a new one as a draft of its agency) or updates it when its id is registered. Exit 0 done, 1 invalid or refused.")
{
    fileArgument, reasonOption, reprocessOption,
};
register.SetAction(async (result, ct) =>
{
    var (json, problem) = ConnectorFile.Read(result.GetValue(fileArgument)!.FullName);
    string? id = null;
    if (json is not null)
    {
        using var document = JsonDocument.Parse(json);
        id = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("id", out var given) && given.ValueKind == JsonValueKind.String
            ? given.GetString()
            : null;
        problem = id is null ? "the registration has no string 'id'" : null;
    }

    if (json is null || id is null)
    {
        await error.WriteLineAsync($"error: {problem}");
        return ExitCodes.Usage;
    }

    using var hub = Client(result, out var code);
    if (hub is null)
    {
        return code;
    }

    var path = $"/api/connectors/{Uri.EscapeDataString(id)}";
    var (exists, existsCode) = await hub.ExistsAsync(path, ct);
    if (existsCode != ExitCodes.Ok)
    {
        return existsCode;
    }

    using var content = new StringContent(json, Encoding.UTF8, "application/json");
    return exists
        ? await hub.SendAsync(HttpMethod.Put, WithReason(result.GetValue(reprocessOption) ? path + "?reprocess=true" : path, result), content, async response =>
        {
            var updated = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            var actions = updated.GetProperty("actions").EnumerateArray().Select(a => a.GetString()).ToList();
            await output.WriteLineAsync($"updated {id} ({updated.GetProperty("connector").GetProperty("lifecycle").GetString()}): "
                + (actions.Count == 0 ? "no change" : string.Join(", ", actions)));
            if (updated.TryGetProperty("reprocessJobId", out var job) && job.ValueKind == JsonValueKind.String)
            {
                await output.WriteLineAsync($"quarantine re-processing queued (job {job.GetString()})");
            }

            return ExitCodes.Ok;
        }, ct, invalid: response => PrintInvalidAsync(response, ct))
        : await hub.SendAsync(HttpMethod.Post, WithReason("/api/connectors", result), content, async response =>
        {
            var created = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            await output.WriteLineAsync($"registered {id} ({created.GetProperty("lifecycle").GetString()})");
            return ExitCodes.Ok;
        }, ct, invalid: response => PrintInvalidAsync(response, ct));
});
connector.Subcommands.Add(register);

var idArgument = new Argument<string>("id") { Description = "The connector's id." };
var optionalId = new Argument<string?>("id") { Description = "A connector's id; all connectors without it.", Arity = ArgumentArity.ZeroOrOne };
var status = new Command("status", "Connectors with their cursor and last run; with an id, that connector and its recent runs.") { optionalId };
status.SetAction(async (result, ct) =>
{
    using var hub = Client(result, out var code);
    if (hub is null)
    {
        return code;
    }

    if (result.GetValue(optionalId) is not { } id)
    {
        return await hub.SendAsync(HttpMethod.Get, "/api/connectors", null, hub.PrintJsonAsync, ct);
    }

    var listed = await hub.SendAsync(HttpMethod.Get, "/api/connectors", null, async response =>
    {
        var all = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        var one = all.EnumerateArray().FirstOrDefault(c => c.GetProperty("id").GetString() == id);
        if (one.ValueKind == JsonValueKind.Undefined)
        {
            await error.WriteLineAsync($"error: no connector has id '{id}'");
            return ExitCodes.Refused;
        }

        await output.WriteLineAsync(JsonSerializer.Serialize(one, HubClient.Indented));
        return ExitCodes.Ok;
    }, ct);
    return listed != ExitCodes.Ok ? listed : await hub.SendAsync(HttpMethod.Get, $"/api/connectors/{Uri.EscapeDataString(id)}/runs?limit=10", null, hub.PrintJsonAsync, ct);
});
connector.Subcommands.Add(status);

var sync = new Command("sync", "Queues a sync of the connector now.") { idArgument, reasonOption };
sync.SetAction(async (result, ct) =>
{
    using var hub = Client(result, out var code);
    return hub is null ? code : await hub.SendAsync(HttpMethod.Post, WithReason($"/api/connectors/{Uri.EscapeDataString(result.GetValue(idArgument)!)}/sync", result), null, hub.PrintJsonAsync, ct);
});
connector.Subcommands.Add(sync);

var check = new Command("check", "Tests the connection of a registered connector: reach, authenticate, read a page; stores nothing. Exit 0 passed, 1 failed.") { idArgument };
check.SetAction(async (result, ct) =>
{
    using var hub = Client(result, out var code);
    return hub is null ? code : await hub.SendAsync(HttpMethod.Post, $"/api/connectors/{Uri.EscapeDataString(result.GetValue(idArgument)!)}/check", null, async response =>
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        await output.WriteLineAsync(JsonSerializer.Serialize(body, HubClient.Indented));
        var passed = body.TryGetProperty("succeeded", out var succeeded) && succeeded.ValueKind == JsonValueKind.True;
        await error.WriteLineAsync(passed ? "check passed" : "check failed");
        return passed ? ExitCodes.Ok : ExitCodes.Refused;
    }, ct);
});
connector.Subcommands.Add(check);

var limitOption = new Option<int?>("--limit") { Description = "How many records to pull at most (the hub's default without it)." };
var preview = new Command("preview", "Pulls a small sample from the source and shows the canonical records and every mapping problem; stores nothing.") { idArgument, limitOption };
preview.SetAction(async (result, ct) =>
{
    using var hub = Client(result, out var code);
    var limit = result.GetValue(limitOption) is { } n ? $"?limit={n}" : "";
    return hub is null ? code : await hub.SendAsync(HttpMethod.Post, $"/api/connectors/{Uri.EscapeDataString(result.GetValue(idArgument)!)}/preview{limit}", null, hub.PrintJsonAsync, ct);
});
connector.Subcommands.Add(preview);

var stepArgument = new Argument<string>("step") { Description = "submit, return, approve (operators), activate, pause, resume or retire." };
var requiredReason = new Option<string>("--reason") { Description = "Why (required; recorded in the exchange log).", Required = true };
var lifecycle = new Command("lifecycle", "Moves a connector through its lifecycle: draft, submitted, approved, active, paused, retired.") { idArgument, stepArgument, requiredReason };
lifecycle.SetAction(async (result, ct) =>
{
    using var hub = Client(result, out var code);
    var id = result.GetValue(idArgument)!;
    var path = $"/api/connectors/{Uri.EscapeDataString(id)}/lifecycle/{Uri.EscapeDataString(result.GetValue(stepArgument)!)}?reason={Uri.EscapeDataString(result.GetValue(requiredReason)!)}";
    return hub is null ? code : await hub.SendAsync(HttpMethod.Post, path, null, async response =>
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        await output.WriteLineAsync($"{id}: {body.GetProperty("lifecycle").GetString()}");
        return ExitCodes.Ok;
    }, ct);
});
connector.Subcommands.Add(lifecycle);

var delete = new Command("delete", "Deletes a connector that has never run (one that has is retired instead).") { idArgument, requiredReason };
delete.SetAction(async (result, ct) =>
{
    using var hub = Client(result, out var code);
    var id = result.GetValue(idArgument)!;
    return hub is null ? code : await hub.SendAsync(HttpMethod.Delete, $"/api/connectors/{Uri.EscapeDataString(id)}?reason={Uri.EscapeDataString(result.GetValue(requiredReason)!)}", null, async _ =>
    {
        await output.WriteLineAsync($"deleted {id}");
        return ExitCodes.Ok;
    }, ct);
});
connector.Subcommands.Add(delete);

// audit …
var audit = new Command("audit", "The exchange log: export evidence, verify it offline.");
root.Subcommands.Add(audit);

var bundleArgument = new Argument<FileInfo>("bundle") { Description = "An evidence bundle exported by the hub." };
var certificateOption = new Option<FileInfo[]>("--certificate")
{
    Description = "The hub's signing certificate(s), PEM (GET /api/exchange/certificate); repeat for earlier ones.",
    Required = true,
    AllowMultipleArgumentsPerToken = false,
};
var verify = new Command("verify", "Verifies an evidence bundle offline (no hub, no database). Exit 0 valid, 1 invalid.") { bundleArgument, certificateOption };
verify.SetAction(result =>
{
    string[] args = ["evidence", "verify", result.GetValue(bundleArgument)!.FullName, .. result.GetValue(certificateOption)!.SelectMany(c => new[] { "--certificate", c.FullName })];
    return EvidenceCommand.Run(args, output, error);
});
audit.Subcommands.Add(verify);

var dossierOption = new Option<string?>("--dossier") { Description = "A dossier code." };
var fromOption = new Option<DateTimeOffset?>("--from") { Description = "Start of a time range (ISO 8601 with its zone)." };
var toOption = new Option<DateTimeOffset?>("--to") { Description = "End of the time range (excluded)." };
var outOption = new Option<FileInfo?>("--out", "-o") { Description = "Where to write the bundle (default: the name the hub gives it, in the current folder)." };
var export = new Command("export", "Downloads an evidence bundle of a dossier or a time range (auditor role).") { dossierOption, fromOption, toOption, outOption, reasonOption };
export.SetAction(async (result, ct) =>
{
    var dossier = result.GetValue(dossierOption);
    var from = result.GetValue(fromOption);
    var to = result.GetValue(toOption);
    if (dossier is null && (from is null || to is null))
    {
        await error.WriteLineAsync("error: give --dossier <code>, or --from and --to");
        return ExitCodes.Usage;
    }

    using var hub = Client(result, out var code);
    if (hub is null)
    {
        return code;
    }

    var query = dossier is not null
        ? $"dossier={Uri.EscapeDataString(dossier)}"
        : $"from={Uri.EscapeDataString(from!.Value.ToString("O"))}&to={Uri.EscapeDataString(to!.Value.ToString("O"))}";
    return await hub.SendAsync(HttpMethod.Get, WithReason($"/api/exchange/evidence?{query}", result), null, async response =>
    {
        var name = result.GetValue(outOption)?.FullName
            ?? Path.GetFileName(response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"') ?? "evidence.xml");
        await File.WriteAllBytesAsync(name, await response.Content.ReadAsByteArrayAsync(ct), ct);
        await output.WriteLineAsync(name);
        return ExitCodes.Ok;
    }, ct);
});
audit.Subcommands.Add(export);

// keys …
var keys = new Command("keys", "API keys (admin role).");
root.Subcommands.Add(keys);

var principalArgument = new Argument<string>("principal") { Description = "The principal the key is for." };
var descriptionOption = new Option<string>("--description") { Description = "What the key is for.", Required = true };
var expiresOption = new Option<DateTimeOffset?>("--expires") { Description = "When it expires (default: in 90 days; at most 366)." };
var create = new Command("create", "Creates a key and prints it: it is shown this once.") { principalArgument, descriptionOption, expiresOption, reasonOption };
create.SetAction(async (result, ct) =>
{
    using var hub = Client(result, out var code);
    if (hub is null)
    {
        return code;
    }

    using var content = JsonContent.Create(new { description = result.GetValue(descriptionOption), expiresAt = result.GetValue(expiresOption), reason = result.GetValue(reasonOption) });
    return await hub.SendAsync(HttpMethod.Post, $"/api/principals/{Uri.EscapeDataString(result.GetValue(principalArgument)!)}/keys", content, async response =>
    {
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        await output.WriteLineAsync(created.GetProperty("key").GetString());
        await error.WriteLineAsync($"key {created.GetProperty("id").GetString()} for {created.GetProperty("principal").GetString()}, expires {created.GetProperty("expiresAt").GetDateTimeOffset():u}: keep it in a secret store, it is not shown again");
        return ExitCodes.Ok;
    }, ct);
});
keys.Subcommands.Add(create);

var keyIdArgument = new Argument<string>("key-id") { Description = "The key's id (the part after hub_)." };
var revokeReason = new Option<string>("--reason") { Description = "Why (required).", Required = true };
var revoke = new Command("revoke", "Revokes a key: it stops working at once.") { keyIdArgument, revokeReason };
revoke.SetAction(async (result, ct) =>
{
    using var hub = Client(result, out var code);
    return hub is null
        ? code
        : await hub.SendAsync(HttpMethod.Post, $"/api/keys/{Uri.EscapeDataString(result.GetValue(keyIdArgument)!)}/revoke?reason={Uri.EscapeDataString(result.GetValue(revokeReason)!)}", null, hub.PrintJsonAsync, ct);
});
keys.Subcommands.Add(revoke);

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var problem in parsed.Errors)
    {
        error.WriteLine($"error: {problem.Message}");
    }

    error.WriteLine("see: hub --help");
    return ExitCodes.Usage;
}

return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
