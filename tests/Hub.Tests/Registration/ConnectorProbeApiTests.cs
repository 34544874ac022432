using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Simulator;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Registration;

/// <summary>
/// A real hub process (probe timeout 2 s) with pull connectors registered by files against a simulated province: one
/// that answers with malformed records among good ones, the same paused and with a wrong secret, one at an address where
/// nothing listens, one against a province whose feed hangs, and a push connector.
/// </summary>
public sealed class ProbeHub : IAsyncLifetime
{
    public const string Connector = "sim-probe-rest";
    public const string WrongSecret = "sim-probe-wrong-secret";
    public const string Unreachable = "sim-probe-unreachable";
    public const string Hanging = "sim-hang-rest";
    public const string Push = "h57-probe-push";
    public const string BadSecret = "not-the-simulator-secret";

    /// <summary>Small pages, so that a preview of 50 records reads 3 of them.</summary>
    public const int PageSize = 20;

    private string _work = "";

    public SimulatorHost Simulator { get; private set; } = null!;

    public NpgsqlDataSource Db { get; private set; } = null!;

    public HubProcess Process { get; private set; } = null!;

    /// <summary>The schema of the hub's own tables (status store, connectors, runs, quarantine, exchange log, keys).</summary>
    public string Schema { get; private set; } = "";

    /// <summary>The schema of the scheduler's (Hangfire's) tables.</summary>
    public string SchedulerSchema { get; } = "hf_probe_" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        Simulator = await SimulatorHost.StartAsync(
        [
            new ProvinceOptions
            {
                SourceSystem = "sim-probe",
                AgencyPrefix = "H93",
                Dossiers = 300,
                Seed = 93,
                Faults = new FaultOptions { MalformedRate = 0.3 },
            },
            new ProvinceOptions
            {
                SourceSystem = "sim-hang",
                AgencyPrefix = "H94",
                Dossiers = 50,
                Faults = new FaultOptions { TimeoutRate = 1, HangTime = TimeSpan.FromSeconds(60) },
            },
        ]);
        Db = await TestDatabase.CreateSchemaAsync("probe_api");
        Schema = new NpgsqlConnectionStringBuilder(Db.ConnectionString).SearchPath!;
        _work = Directory.CreateTempSubdirectory("hub-probe-api-").FullName;
        var connectors = Directory.CreateDirectory(Path.Combine(_work, "connectors")).FullName;

        await WriteAsync(connectors, Registration(Simulator, "sim-probe"));
        // Paused: a connector is probed whatever its state.
        await WriteAsync(connectors, With(With(Registration(Simulator, "sim-probe", WrongSecret), "configuration.auth.clientSecret", BadSecret), "active", false));
        await WriteAsync(connectors, With(Registration(Simulator, "sim-probe", Unreachable), "configuration.baseUrl", $"http://127.0.0.1:{ClosedPort()}/igate"));
        await WriteAsync(connectors, Registration(Simulator, "sim-hang"));
        await WriteAsync(connectors, new JsonObject
        {
            ["id"] = Push,
            ["kind"] = "json-webhook",
            ["sourceSystem"] = "h57-probe",
            ["displayName"] = "A province that pushes",
            ["configuration"] = new JsonObject { ["secret"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) },
            ["mapping"] = JsonSerializer.SerializeToNode(Webhook.WebhookHub.Mapping(), Hub.Core.Sync.ConnectorCatalog.Json),
        });

        Process = HubProcess.Start(_work, new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = Db.ConnectionString,
            ["Hub__Connectors__Directory"] = connectors,
            ["Hub__Probe__Timeout"] = "00:00:02",
            ["Hub__Scheduler__SchemaName"] = SchedulerSchema,
            ["Hub__Scheduler__ScheduleRefresh"] = "01:00:00",
            ["Hub__Audit__SealInterval"] = "01:00:00",
        });
        await Process.WaitReadyAsync(TimeSpan.FromSeconds(90));
    }

    /// <summary>
    /// The simulator's registration file for a province with small pages and a schedule that never comes during a test,
    /// so that nothing but the probes calls the simulator and nothing writes to the database.
    /// </summary>
    public static JsonObject Registration(SimulatorHost simulator, string sourceSystem, string? id = null)
    {
        var registration = JsonNode.Parse(simulator.VendorRestConnectorJson(sourceSystem))!.AsObject();
        registration["id"] = id ?? sourceSystem + "-rest";
        registration["schedule"] = "0 0 1 1 *";
        registration["configuration"]!["pageSize"] = PageSize;
        return registration;
    }

    /// <summary>Sets (or with <c>null</c> removes) the value at a dotted path.</summary>
    public static JsonObject With(JsonObject registration, string path, JsonNode? value)
    {
        var names = path.Split('.');
        var parent = registration;
        foreach (var name in names[..^1])
        {
            parent = parent[name]!.AsObject();
        }

        if (value is null)
        {
            parent.Remove(names[^1]);
        }
        else
        {
            parent[names[^1]] = value;
        }

        return registration;
    }

    /// <summary>A client with the key of a new principal with these grants (<c>new { role, agency }</c>).</summary>
    public async Task<HttpClient> WithGrantsAsync(params object[] grants)
    {
        var id = "probe-" + Guid.NewGuid().ToString("N")[..8];
        using var admin = new HttpClient { BaseAddress = Process.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", HubProcess.TestBootstrapKey);
        using var created = await admin.PostAsJsonAsync("/api/principals", new { id, displayName = id, roles = grants });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var key = await admin.PostAsJsonAsync($"/api/principals/{id}/keys", new { description = "test", expiresAt = DateTimeOffset.UtcNow.AddDays(1) });
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        var client = new HttpClient { BaseAddress = Process.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await key.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        return client;
    }

    public async Task DisposeAsync()
    {
        await Process.DisposeAsync();
        await Db.DisposeAsync();
        await Simulator.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    private static Task WriteAsync(string folder, JsonObject registration) =>
        File.WriteAllTextAsync(Path.Combine(folder, registration["id"]!.GetValue<string>() + ".json"), registration.ToJsonString());

    /// <summary>A loopback port where nothing listens (taken and released).</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// <c>POST /api/connectors/{id}/check|preview</c> and <c>POST /api/connectors/check|preview</c> over real HTTP against a
/// simulated province: what the mapping makes of live records, at which stage a check fails, prompt answers from a
/// source that hangs, and nothing stored anywhere in the hub's database.
/// </summary>
public sealed class ConnectorProbeApiTests(ProbeHub hub) : IClassFixture<ProbeHub>
{
    private HttpClient Client => hub.Process.Client;

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task<JsonElement> OkAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode} {text}");
        Assert.DoesNotContain(ProvinceOptions.DefaultClientSecret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(ProbeHub.BadSecret, text, StringComparison.Ordinal);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The hub's tables and the scheduler's, right after a request with the test's key (whose last use is then recorded for a minute).</summary>
    private async Task<SortedDictionary<string, string>> SnapshotAsync()
    {
        using var touch = await Client.GetAsync("/api/connectors");
        Assert.Equal(HttpStatusCode.OK, touch.StatusCode);
        return await DatabaseSnapshot.TakeAsync(hub.Db, hub.Schema, hub.SchedulerSchema);
    }

    private async Task<string?> CursorAsync(string id)
    {
        var list = await Client.GetFromJsonAsync<JsonElement>("/api/connectors");
        var connector = list.EnumerateArray().Single(c => c.GetProperty("id").GetString() == id);
        return connector.GetProperty("cursor").ValueKind == JsonValueKind.Null ? null : connector.GetProperty("cursor").GetRawText();
    }

    private static void AssertEachRecordMappedOrExplained(JsonElement preview)
    {
        var read = preview.GetProperty("recordsRead").GetInt32();
        var mapped = preview.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("index").GetInt32()).ToList();
        var explained = preview.GetProperty("problems").EnumerateArray().Select(p => p.GetProperty("index").GetInt32()).Distinct().ToList();
        Assert.Empty(mapped.Intersect(explained));
        Assert.Equal(Enumerable.Range(0, read), mapped.Concat(explained).Order());
    }

    [Fact]
    public async Task Preview_of_a_registered_connector_shows_canonical_records_and_mapping_problems_and_changes_nothing_in_the_database()
    {
        var cursorBefore = await CursorAsync(ProbeHub.Connector);
        var before = await SnapshotAsync();

        using var response = await Client.PostAsync($"/api/connectors/{ProbeHub.Connector}/preview?limit=50", null);

        var after = await DatabaseSnapshot.TakeAsync(hub.Db, hub.Schema, hub.SchedulerSchema);
        var preview = await OkAsync(response);
        Assert.True(before.SequenceEqual(after), "the preview changed the database:\n" + DatabaseSnapshot.Differences(before, after));
        foreach (var table in new[] { "connector", "sync_run", "quarantined_record", "exchange_entry", "exchange_payload", "dossier", "dossier_change", "dossier_step" })
        {
            Assert.Contains($"{hub.Schema}.{table}", before.Keys);
        }

        Assert.Contains($"{hub.SchedulerSchema}.job", before.Keys);
        Assert.Contains($"{hub.SchedulerSchema}.jobqueue", before.Keys);

        // The snapshot reads the data, not just the tables: the registered connectors, their admin entries, their schedules.
        Assert.StartsWith("5 ", before[$"{hub.Schema}.connector"], StringComparison.Ordinal);
        Assert.DoesNotMatch("^0 ", before[$"{hub.Schema}.exchange_entry"]);
        Assert.DoesNotMatch("^0 ", before[$"{hub.SchedulerSchema}.hash"]);
        Assert.Equal(cursorBefore, await CursorAsync(ProbeHub.Connector));
        Assert.Null(cursorBefore);

        Assert.Equal(ProbeHub.Connector, preview.GetProperty("connectorId").GetString());
        Assert.Equal("sim-vendor/1", preview.GetProperty("mappingVersion").GetString());
        Assert.Equal(50, preview.GetProperty("recordsRead").GetInt32());
        Assert.Equal(3, preview.GetProperty("pagesRead").GetInt32());
        Assert.False(preview.GetProperty("complete").GetBoolean());
        Assert.Equal(JsonValueKind.Null, preview.GetProperty("failure").ValueKind);
        AssertEachRecordMappedOrExplained(preview);

        // Canonical records as the contracts serialise them: camelCase, national status as its number, steps nested.
        var records = preview.GetProperty("records").EnumerateArray().ToList();
        Assert.NotEmpty(records);
        Assert.All(records, r =>
        {
            var change = r.GetProperty("change");
            Assert.Equal("sim-probe", change.GetProperty("sourceSystem").GetString());
            Assert.Equal(r.GetProperty("sourceRecordId").GetString(), change.GetProperty("nativeId").GetString());
            Assert.StartsWith("H93", change.GetProperty("dossierCode").GetString(), StringComparison.Ordinal);
            Assert.InRange(change.GetProperty("status").GetInt32(), 1, 10);
            Assert.Equal("sim-vendor/1", change.GetProperty("mappingVersion").GetString());
            Assert.Equal(JsonValueKind.Array, r.GetProperty("steps").ValueKind);
        });
        Assert.Contains(records, r => r.GetProperty("steps").GetArrayLength() > 0);

        // The malformed copies the simulator injected, with the reasons the quarantine would give and their field and path.
        var problems = preview.GetProperty("problems").EnumerateArray()
            .Select(p => (Field: p.GetProperty("field").GetString(), Path: p.GetProperty("path").GetString(), Problem: p.GetProperty("problem").GetString()!))
            .ToList();
        Assert.Contains(problems, p => p is { Field: "Status", Path: "dossierStatus.id" } && p.Problem.StartsWith("unmapped code 99", StringComparison.Ordinal));
        Assert.Contains(problems, p => p is { Field: "EventTime", Path: "updatedDate" } && p.Problem.StartsWith("EventTime at path 'updatedDate'", StringComparison.Ordinal));
        Assert.All(problems, p => Assert.Matches("unmapped code 99|EventTime at path 'updatedDate'|DossierCode at path 'code' is missing", p.Problem));

        // The hub's log has counts, not records (personal data).
        Assert.Contains($"Connector {ProbeHub.Connector}: preview read 50 records", hub.Process.Output, StringComparison.Ordinal);
        Assert.All(records, r => Assert.DoesNotContain(r.GetProperty("change").GetProperty("dossierCode").GetString()!, hub.Process.Output, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Check_succeeds_against_the_simulator_and_fails_at_the_stage_that_failed()
    {
        using var ok = await Client.PostAsync($"/api/connectors/{ProbeHub.Connector}/check", null);
        using var wrongSecret = await Client.PostAsync($"/api/connectors/{ProbeHub.WrongSecret}/check", null);
        using var unreachable = await Client.PostAsync($"/api/connectors/{ProbeHub.Unreachable}/check", null);

        var succeeded = await OkAsync(ok);
        Assert.True(succeeded.GetProperty("succeeded").GetBoolean(), succeeded.ToString());
        Assert.Equal("read", succeeded.GetProperty("stage").GetString());
        Assert.Equal(ProbeHub.PageSize, succeeded.GetProperty("recordsRead").GetInt32());
        Assert.True(succeeded.GetProperty("elapsedMs").GetInt64() >= 0);
        Assert.Contains("more pages follow", succeeded.GetProperty("message").GetString(), StringComparison.Ordinal);

        var refused = await OkAsync(wrongSecret);
        Assert.False(refused.GetProperty("succeeded").GetBoolean());
        Assert.Equal("authenticate", refused.GetProperty("stage").GetString());
        Assert.Contains("401", refused.GetProperty("message").GetString(), StringComparison.Ordinal);

        var unreached = await OkAsync(unreachable);
        Assert.False(unreached.GetProperty("succeeded").GetBoolean());
        Assert.Equal("reach", unreached.GetProperty("stage").GetString());
        Assert.Equal(0, unreached.GetProperty("recordsRead").GetInt32());
    }

    [Fact]
    public async Task Check_and_preview_of_a_source_that_hangs_answer_with_a_timeout_result()
    {
        // The client gives up after 10 s (HubProcess.Client): an answer at all means the probe's 2 s timeout held.
        using var check = await Client.PostAsync($"/api/connectors/{ProbeHub.Hanging}/check", null);
        using var preview = await Client.PostAsync($"/api/connectors/{ProbeHub.Hanging}/preview", null);

        var checkResult = await OkAsync(check);
        Assert.False(checkResult.GetProperty("succeeded").GetBoolean());
        Assert.Equal("reach", checkResult.GetProperty("stage").GetString());
        Assert.Contains("Timed out after 2 seconds", checkResult.GetProperty("message").GetString(), StringComparison.Ordinal);

        var previewResult = await OkAsync(preview);
        var failure = previewResult.GetProperty("failure");
        Assert.Equal("reach", failure.GetProperty("stage").GetString());
        Assert.Contains("Timed out after 2 seconds", failure.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, previewResult.GetProperty("recordsRead").GetInt32());
        Assert.False(previewResult.GetProperty("complete").GetBoolean());
        Assert.Empty(previewResult.GetProperty("records").EnumerateArray());
    }

    [Fact]
    public async Task A_connector_is_probed_once_at_a_time()
    {
        var hanging = hub.Simulator["sim-hang"].Stats;
        var hangsBefore = hanging.Faults(FaultKind.Timeout);

        // The first check waits in the simulator's hanging feed; while it does, a second one is refused.
        var first = Client.PostAsync($"/api/connectors/{ProbeHub.Hanging}/check", null);
        while (hanging.Faults(FaultKind.Timeout) == hangsBefore && !first.IsCompleted)
        {
            await Task.Delay(20);
        }

        using var second = await Client.PostAsync($"/api/connectors/{ProbeHub.Hanging}/preview", null);
        using var firstResponse = await first;

        var busy = await ProblemAsync(second, HttpStatusCode.Conflict);
        Assert.Equal("Probe in progress", busy.GetProperty("title").GetString());
        Assert.Equal("reach", (await OkAsync(firstResponse)).GetProperty("stage").GetString());
        using var after = await Client.PostAsync($"/api/connectors/{ProbeHub.Hanging}/check", null);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Preview_and_check_of_a_registration_in_the_body_work_and_register_nothing()
    {
        var id = "sim-probe-draft-" + Guid.NewGuid().ToString("N")[..8];
        var registration = ProbeHub.Registration(hub.Simulator, "sim-probe", id);
        var before = await SnapshotAsync();

        using var preview = await Client.PostAsync("/api/connectors/preview?limit=30", Json(registration));
        using var check = await Client.PostAsync("/api/connectors/check", Json(registration));

        var after = await DatabaseSnapshot.TakeAsync(hub.Db, hub.Schema, hub.SchedulerSchema);
        Assert.True(before.SequenceEqual(after), "the probes changed the database:\n" + DatabaseSnapshot.Differences(before, after));
        var previewed = await OkAsync(preview);
        Assert.Equal(id, previewed.GetProperty("connectorId").GetString());
        Assert.Equal(30, previewed.GetProperty("recordsRead").GetInt32());
        Assert.Equal(2, previewed.GetProperty("pagesRead").GetInt32());
        Assert.NotEmpty(previewed.GetProperty("records").EnumerateArray());
        AssertEachRecordMappedOrExplained(previewed);
        Assert.True((await OkAsync(check)).GetProperty("succeeded").GetBoolean());
        var listed = await Client.GetFromJsonAsync<JsonElement>("/api/connectors");
        Assert.DoesNotContain(listed.EnumerateArray(), c => c.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task Invalid_registration_in_the_body_is_answered_422_with_field_errors()
    {
        var registration = ProbeHub.With(ProbeHub.Registration(hub.Simulator, "sim-probe", "sim-probe-invalid"), "configuration.baseUrl", null);
        ProbeHub.With(registration, "mapping.statusCodes.99", 11);

        foreach (var route in new[] { "/api/connectors/preview", "/api/connectors/check" })
        {
            using var response = await Client.PostAsync(route, Json(registration));

            var problem = await ProblemAsync(response, HttpStatusCode.UnprocessableEntity);
            Assert.Equal("The connector registration is invalid", problem.GetProperty("title").GetString());
            Assert.False(problem.GetProperty("valid").GetBoolean());
            var fields = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()!).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(["configuration.baseUrl", "mapping.statusCodes.99"], fields);
        }
    }

    [Fact]
    public async Task Preview_limit_is_respected_and_a_limit_out_of_range_is_a_400_problem()
    {
        using var five = await Client.PostAsync($"/api/connectors/{ProbeHub.Connector}/preview?limit=5", null);
        using var byDefault = await Client.PostAsync($"/api/connectors/{ProbeHub.Connector}/preview", null);
        using var zero = await Client.PostAsync($"/api/connectors/{ProbeHub.Connector}/preview?limit=0", null);
        using var tooMany = await Client.PostAsync($"/api/connectors/{ProbeHub.Connector}/preview?limit=51", null);
        using var bodyTooMany = await Client.PostAsync("/api/connectors/preview?limit=51", Json(ProbeHub.Registration(hub.Simulator, "sim-probe", "sim-probe-limit")));

        var small = await OkAsync(five);
        Assert.Equal(5, small.GetProperty("recordsRead").GetInt32());
        Assert.Equal(1, small.GetProperty("pagesRead").GetInt32());
        AssertEachRecordMappedOrExplained(small);
        var standard = await OkAsync(byDefault);
        Assert.Equal(10, standard.GetProperty("recordsRead").GetInt32());
        AssertEachRecordMappedOrExplained(standard);
        foreach (var response in new[] { zero, tooMany, bodyTooMany })
        {
            var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.Equal("Bad limit", problem.GetProperty("title").GetString());
            Assert.Contains("between 1 and 50", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Province_admins_probe_only_connectors_and_registrations_of_their_agency()
    {
        using var admin = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H93" });
        using var auditor = await hub.WithGrantsAsync(new { role = "auditor" });
        var own = ProbeHub.Registration(hub.Simulator, "sim-probe", "sim-probe-h93");
        own["agency"] = "H93";
        var other = ProbeHub.Registration(hub.Simulator, "sim-probe", "sim-probe-h01");
        other["agency"] = "H01";

        // The registered connector is central (no agency): a province-admin is told it does not exist.
        using var central = await admin.PostAsync($"/api/connectors/{ProbeHub.Connector}/check", null);
        using var centralPreview = await admin.PostAsync($"/api/connectors/{ProbeHub.Connector}/preview", null);
        using var ownCheck = await admin.PostAsync("/api/connectors/check", Json(own));
        using var otherCheck = await admin.PostAsync("/api/connectors/check", Json(other));
        using var otherPreview = await admin.PostAsync("/api/connectors/preview", Json(other));
        using var notAllowed = await auditor.PostAsync($"/api/connectors/{ProbeHub.Connector}/check", null);

        Assert.Equal("No connector with id 'sim-probe-rest' is registered to an agency you maintain.",
            (await ProblemAsync(central, HttpStatusCode.NotFound)).GetProperty("detail").GetString());
        await ProblemAsync(centralPreview, HttpStatusCode.NotFound);
        Assert.True((await OkAsync(ownCheck)).GetProperty("succeeded").GetBoolean());
        foreach (var response in new[] { otherCheck, otherPreview })
        {
            var problem = await ProblemAsync(response, HttpStatusCode.Forbidden);
            Assert.Contains("You do not maintain agency 'H01'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Forbidden, notAllowed.StatusCode);
    }

    [Fact]
    public async Task Hub_does_not_start_with_probe_settings_out_of_range()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("probe_options");
        var work = Directory.CreateTempSubdirectory("hub-probe-options-").FullName;
        try
        {
            await using var process = HubProcess.Start(work, new Dictionary<string, string>
            {
                ["ConnectionStrings__Hub"] = db.ConnectionString,
                ["Hub__Probe__Timeout"] = "00:00:00",
                ["Hub__Probe__DefaultRecords"] = "60",
            });

            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => process.WaitReadyAsync(TimeSpan.FromSeconds(90)));

            Assert.Contains("The field Timeout must be between 00:00:00.1000000 and 00:05:00", refused.Message, StringComparison.Ordinal);
            Assert.Contains("Hub:Probe:DefaultRecords must not exceed Hub:Probe:MaxRecords.", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task Push_connectors_cannot_be_checked_or_previewed()
    {
        using var check = await Client.PostAsync($"/api/connectors/{ProbeHub.Push}/check", null);
        using var preview = await Client.PostAsync($"/api/connectors/{ProbeHub.Push}/preview", null);
        using var unknown = await Client.PostAsync("/api/connectors/no-such-connector/check", null);

        foreach (var response in new[] { check, preview })
        {
            var problem = await ProblemAsync(response, HttpStatusCode.Conflict);
            Assert.Equal("Not a pull connector", problem.GetProperty("title").GetString());
            Assert.Contains("check and preview are for pull connectors", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        await ProblemAsync(unknown, HttpStatusCode.NotFound);
    }
}
