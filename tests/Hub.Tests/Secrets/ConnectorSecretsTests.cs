using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors.Mapping;
using Hub.Core.Mapping;
using Hub.Core.Sync;
using Hub.Simulator;
using Hub.Tests.Infrastructure;
using Hub.Tests.Portal;
using Hub.Tests.Webhook;
using Hub.Tests.Xml;
using Npgsql;

namespace Hub.Tests.Secrets;

/// <summary>
/// Connector secrets at rest and in answers: registered from files with known secret values, they
/// are encrypted in PostgreSQL (the raw columns and every table of the schema read directly), absent from every answer
/// of the API and from the hub's log, and still used: a rest-pull connector logs in to the simulator with its decrypted
/// OAuth2 secret, a webhook delivery verifies, a portal client logs in, in a second hub process over the same database
/// too; and a plaintext row an earlier version wrote is encrypted at start and keeps working.
/// </summary>
public class ConnectorSecretsTests
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);

    /// <summary>The secret values of one test's connectors, and what shows them if stored as bytes.</summary>
    private sealed class KnownSecrets
    {
        public string OAuth { get; } = "oauth-secret-" + Guid.NewGuid().ToString("N");

        public string ApiKey { get; } = "api-key-" + Guid.NewGuid().ToString("N");

        public string SessionPassword { get; } = "session-pw-" + Guid.NewGuid().ToString("N");

        public string PortalPassword { get; } = "portal-pw-" + Guid.NewGuid().ToString("N");

        public byte[] WebhookKey { get; } = RandomNumberGenerator.GetBytes(32);

        public byte[] WebhookPreviousKey { get; } = RandomNumberGenerator.GetBytes(32);

        /// <summary>Each secret as text, as the hex of its UTF-8 bytes (bytea as row_to_json writes it), and the webhook keys' bytes in hex.</summary>
        public IEnumerable<string> Forms()
        {
            foreach (var text in new[] { OAuth, ApiKey, SessionPassword, PortalPassword, Convert.ToBase64String(WebhookKey), Convert.ToBase64String(WebhookPreviousKey) })
            {
                yield return text;
                yield return Convert.ToHexStringLower(Encoding.UTF8.GetBytes(text));
            }

            yield return Convert.ToHexStringLower(WebhookKey);
            yield return Convert.ToHexStringLower(WebhookPreviousKey);
        }

        public void AssertAbsent(string text, string where)
        {
            foreach (var form in Forms())
            {
                Assert.False(text.Contains(form, StringComparison.OrdinalIgnoreCase), $"{where} holds a secret ({form[..12]}...)");
            }
        }
    }

    private static ProvinceOptions Province(string sourceSystem, string agency, string clientSecret) => new()
    {
        SourceSystem = sourceSystem,
        AgencyPrefix = agency,
        Dossiers = 300,
        Seed = 5,
        ClientSecret = clientSecret,
    };

    /// <summary>Registration files for one connector of each kind (two more rest-pull ones with the other auth types).</summary>
    private static string ConnectorFolder(SimulatorHost simulator, string sourceSystem, KnownSecrets secrets)
    {
        var folder = Directory.CreateTempSubdirectory("hub-secrets-").FullName;
        var rest = JsonNode.Parse(simulator.VendorRestConnectorJson(sourceSystem))!.AsObject();
        rest["schedule"] = null;
        rest["configuration"]!["auth"]!["clientSecret"] = secrets.OAuth;
        File.WriteAllText(Path.Combine(folder, "rest.json"), rest.ToJsonString());

        var apiKey = rest.DeepClone().AsObject();
        apiKey["id"] = sourceSystem + "-apikey";
        apiKey["sourceSystem"] = sourceSystem + "-apikey";
        apiKey["configuration"]!["auth"] = new JsonObject { ["type"] = "apiKey", ["header"] = "X-Api-Key", ["key"] = secrets.ApiKey };
        File.WriteAllText(Path.Combine(folder, "apikey.json"), apiKey.ToJsonString());

        var session = rest.DeepClone().AsObject();
        session["id"] = sourceSystem + "-session";
        session["sourceSystem"] = sourceSystem + "-session";
        session["configuration"]!["auth"] = new JsonObject
        {
            ["type"] = "sessionLogin", ["loginUrl"] = "/login", ["username"] = "hub", ["password"] = secrets.SessionPassword,
        };
        File.WriteAllText(Path.Combine(folder, "session.json"), session.ToJsonString());

        Write(folder, "webhook", "json-webhook", new JsonObject
        {
            ["secret"] = Convert.ToBase64String(secrets.WebhookKey),
            ["previousSecret"] = Convert.ToBase64String(secrets.WebhookPreviousKey),
        }, WebhookHub.Mapping());
        Write(folder, "portal", "national-portal", new JsonObject { ["username"] = "secrets_motcua", ["password"] = secrets.PortalPassword }, NationalPortalMapping.Definition);
        Write(folder, "xml", "signed-xml", new JsonObject { ["certificate"] = CorpusKeys.CertificatePem("sender") }, SignedXmlSamples.Mapping());
        return folder;

        static void Write(string folder, string name, string kind, JsonObject configuration, MappingDefinition mapping) =>
            File.WriteAllText(Path.Combine(folder, name + ".json"), new JsonObject
            {
                ["id"] = "secrets-" + name,
                ["kind"] = kind,
                ["sourceSystem"] = "sys-secrets-" + name,
                ["displayName"] = "Secrets " + name,
                ["configuration"] = configuration,
                ["mapping"] = JsonSerializer.SerializeToNode(mapping, ConnectorCatalog.Json),
            }.ToJsonString());
    }

    private static Dictionary<string, string> Settings(NpgsqlDataSource db, string? connectors, string scheduler)
    {
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = db.ConnectionString,
            ["Hub__Scheduler__SchemaName"] = scheduler,
        };
        if (connectors is not null)
        {
            settings["Hub__Connectors__Directory"] = connectors;
        }

        return settings;
    }

    /// <summary>Every row of every table of the test's schema and of the scheduler's, as JSON.</summary>
    private static async Task<string> DumpAsync(NpgsqlDataSource db, string? scheduler)
    {
        var tables = new List<string>();
        await using (var list = db.CreateCommand("""
            select quote_ident(table_schema) || '.' || quote_ident(table_name) from information_schema.tables
            where table_schema in (current_schema(), $1) and table_type = 'BASE TABLE' order by 1
            """))
        {
            list.Parameters.Add(new() { Value = scheduler ?? "", NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        Assert.Contains(tables, t => t.EndsWith(".connector", StringComparison.Ordinal));
        if (scheduler is not null)
        {
            Assert.Contains(tables, t => t.StartsWith(scheduler + ".", StringComparison.Ordinal));
        }

        var dump = new StringBuilder();
        foreach (var table in tables)
        {
            await using var rows = db.CreateCommand($"select coalesce(string_agg(row_to_json(t)::text, E'\\n'), '') from {table} t");
            dump.Append(table).Append('\n').Append((string)(await rows.ExecuteScalarAsync())!).Append('\n');
        }

        return dump.ToString();
    }

    private static async Task<string> ConfigurationAsync(NpgsqlDataSource db, string id)
    {
        await using var command = db.CreateCommand("select configuration::text from connector where id = $1");
        command.Parameters.Add(new() { Value = id });
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<JsonElement> RunAsync(HubProcess hub, string connectorId)
    {
        using var sync = await hub.Client.PostAsync($"/api/connectors/{connectorId}/sync?reason=secrets%20test", null);
        Assert.Equal(HttpStatusCode.Accepted, sync.StatusCode);
        for (var i = 0; i < 300; i++)
        {
            var runs = JsonDocument.Parse(await hub.Client.GetStringAsync($"/api/connectors/{connectorId}/runs")).RootElement;
            if (runs.GetArrayLength() > 0 && runs[0].GetProperty("outcome").GetString() is "succeeded" or "failed")
            {
                return runs[0].Clone();
            }

            await Task.Delay(200);
        }

        throw new Xunit.Sdk.XunitException($"No run of {connectorId} ended:\n{hub.Output}");
    }

    private static async Task<HttpResponseMessage> DeliverAsync(HubProcess hub, string connectorId, byte[] key, string code)
    {
        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["dossiers"] = new JsonArray(new JsonObject { ["id"] = code, ["code"] = code, ["t"] = "2025-11-17T08:00:00+07:00", ["s"] = "2" }),
        }.ToJsonString());
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/connectors/{connectorId}/webhook") { Content = content };
        request.Headers.Add("X-Hub-Timestamp", ts);
        request.Headers.Add("X-Hub-Signature", WebhookHub.Sign(key, ts, body));
        return await hub.Client.SendAsync(request);
    }

    /// <summary>
    /// Every GET of the API that shows connectors, their mapping versions, runs, quarantine and exchange entries (with each
    /// entry and its payload), and the check and preview of each connector (answered 409 for push kinds).
    /// </summary>
    private static async Task<List<(string Path, string Body)>> ReadApiAsync(HubProcess hub, IEnumerable<string> connectorIds)
    {
        var answers = new List<(string, string)>();
        async Task Get(string path)
        {
            using var response = await hub.Client.GetAsync(path);
            answers.Add((path, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}"));
        }

        async Task Post(string path)
        {
            using var response = await hub.Client.PostAsync(path, null);
            answers.Add(("POST " + path, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}"));
        }

        await Get("/api/connectors");
        foreach (var id in connectorIds)
        {
            await Get($"/api/connectors/{id}");
            await Get($"/api/connectors/{id}/mappings");
            await Post($"/api/connectors/{id}/check");
            await Post($"/api/connectors/{id}/preview?limit=5");
            await Get($"/api/connectors/{id}/runs");
            await Get($"/api/connectors/{id}/quarantine?open=false");
            await Get($"/api/exchange?connector={id}&limit=1000");
        }

        await Get("/api/exchange?limit=1000");
        await Get("/api/exchange?kind=admin&limit=1000");
        var entries = JsonDocument.Parse(answers[^2].Item2[4..]).RootElement;
        Assert.True(entries.GetArrayLength() > 10, answers[^2].Item2);
        foreach (var entry in entries.EnumerateArray())
        {
            var id = entry.GetProperty("id").GetInt64();
            await Get($"/api/exchange/{id}");
            await Get($"/api/exchange/{id}/payload");
        }

        Assert.All(answers.Where(a => !a.Item1.EndsWith("/payload", StringComparison.Ordinal) && !a.Item1.StartsWith("POST ", StringComparison.Ordinal)),
            a => Assert.StartsWith("200 ", a.Item2, StringComparison.Ordinal));
        Assert.All(answers.Where(a => a.Item1.StartsWith("POST ", StringComparison.Ordinal)), a => Assert.Matches("^(200|409) ", a.Item2));
        Assert.Contains(answers, a => a.Item1.EndsWith("/preview?limit=5", StringComparison.Ordinal) && a.Item2.StartsWith("200 ", StringComparison.Ordinal));
        return answers;
    }

    [Fact]
    public async Task Secrets_of_every_kind_are_encrypted_in_the_database_never_answered_and_still_used_by_two_hub_processes()
    {
        var secrets = new KnownSecrets();
        await using var simulator = await SimulatorHost.StartAsync(Province("sim-secrets", "H71", secrets.OAuth));
        await using var db = await TestDatabase.CreateSchemaAsync("secrets");
        var folder = ConnectorFolder(simulator, "sim-secrets", secrets);
        var scheduler = "hf_sec_" + Guid.NewGuid().ToString("N")[..8];
        string[] ids = ["sim-secrets-rest", "sim-secrets-apikey", "sim-secrets-session", "secrets-webhook", "secrets-portal", "secrets-xml"];
        try
        {
            await using (var first = HubProcess.Start(folder, Settings(db, folder, scheduler)))
            {
                await first.WaitReadyAsync(Ready);

                // (a) The stored configurations hold each secret as an encrypted envelope, and the rest as it was.
                var rest = JsonNode.Parse(await ConfigurationAsync(db, "sim-secrets-rest"))!;
                Assert.StartsWith("CfDJ8", rest["auth"]!["clientSecret"]![ConnectorSecrets.ProtectedMember]!.GetValue<string>(), StringComparison.Ordinal);
                Assert.Equal("hub-connector", rest["auth"]!["clientId"]!.GetValue<string>());
                Assert.NotNull(JsonNode.Parse(await ConfigurationAsync(db, "sim-secrets-apikey"))!["auth"]!["key"]![ConnectorSecrets.ProtectedMember]);
                Assert.NotNull(JsonNode.Parse(await ConfigurationAsync(db, "sim-secrets-session"))!["auth"]!["password"]![ConnectorSecrets.ProtectedMember]);
                var webhook = JsonNode.Parse(await ConfigurationAsync(db, "secrets-webhook"))!;
                Assert.NotNull(webhook["secret"]![ConnectorSecrets.ProtectedMember]);
                Assert.NotNull(webhook["previousSecret"]![ConnectorSecrets.ProtectedMember]);
                var portal = JsonNode.Parse(await ConfigurationAsync(db, "secrets-portal"))!;
                Assert.NotNull(portal["password"]![ConnectorSecrets.ProtectedMember]);
                Assert.Equal("secrets_motcua", portal["username"]!.GetValue<string>());
                Assert.StartsWith("-----BEGIN CERTIFICATE-----", JsonNode.Parse(await ConfigurationAsync(db, "secrets-xml"))!["certificate"]!.GetValue<string>(), StringComparison.Ordinal);

                // (c) Each is used with its decrypted value: the OAuth2 secret gets tokens, the webhook key and the portal password verify.
                var run = await RunAsync(first, "sim-secrets-rest");
                Assert.True(run.GetProperty("outcome").GetString() == "succeeded", run.ToString());
                Assert.True(run.GetProperty("counts").GetProperty("changesStored").GetInt64() > 0, run.ToString());
                var refused = await RunAsync(first, "sim-secrets-apikey");
                Assert.Equal("failed", refused.GetProperty("outcome").GetString());
                Assert.Equal("failed", (await RunAsync(first, "sim-secrets-session")).GetProperty("outcome").GetString());
                using (var delivered = await DeliverAsync(first, "secrets-webhook", secrets.WebhookKey, "SEC-1"))
                {
                    Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
                }

                using (var rotated = await DeliverAsync(first, "secrets-webhook", secrets.WebhookPreviousKey, "SEC-2"))
                {
                    Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
                }

                using (var login = await PortalKit.LoginAsync(first.Client, "secrets_motcua", secrets.PortalPassword))
                {
                    Assert.Equal(HttpStatusCode.OK, login.StatusCode);
                }

                // (a) No table of the schema nor of the scheduler holds a secret, as text or as bytes.
                secrets.AssertAbsent(await DumpAsync(db, scheduler), "the database");

                // (b) No answer of the API holds one; nor does the hub's own log.
                foreach (var (path, body) in await ReadApiAsync(first, ids))
                {
                    secrets.AssertAbsent(body, "GET " + path);
                }

                secrets.AssertAbsent(first.Output, "the hub's log");
                Assert.DoesNotContain("error occurred while reading the key ring", first.Output, StringComparison.OrdinalIgnoreCase);
            }

            // (d) A second process over the same database (the first one stopped, so the run is the second's) decrypts
            // with the shared key ring; reading the unchanged files again logs no change.
            await using (var second = HubProcess.Start(folder, Settings(db, folder, scheduler)))
            {
                await second.WaitReadyAsync(Ready);
                var run = await RunAsync(second, "sim-secrets-rest");
                Assert.True(run.GetProperty("outcome").GetString() == "succeeded", run.ToString() + second.Output);
                using (var delivered = await DeliverAsync(second, "secrets-webhook", secrets.WebhookKey, "SEC-3"))
                {
                    Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
                }

                using (var login = await PortalKit.LoginAsync(second.Client, "secrets_motcua", secrets.PortalPassword))
                {
                    Assert.Equal(HttpStatusCode.OK, login.StatusCode);
                }

                var changed = JsonDocument.Parse(await second.Client.GetStringAsync("/api/exchange?kind=admin&limit=1000")).RootElement
                    .EnumerateArray().Where(e => e.GetProperty("action").GetString() == "connector.changed").ToList();
                Assert.Empty(changed);
                secrets.AssertAbsent(await DumpAsync(db, scheduler), "the database");
                secrets.AssertAbsent(second.Output, "the second hub's log");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_changed_secret_is_logged_as_a_configuration_change_by_name_only()
    {
        var secrets = new KnownSecrets();
        await using var db = await TestDatabase.CreateSchemaAsync("secrets_change");
        var catalog = TestSecrets.Catalog(db);
        var registration = new ConnectorRegistration
        {
            Id = "secrets-change",
            Kind = "national-portal",
            SourceSystem = "sys-secrets-change",
            DisplayName = "Secrets change",
            Configuration = JsonSerializer.SerializeToElement(new { username = "change_motcua", password = secrets.PortalPassword }),
            Mapping = NationalPortalMapping.Definition,
        };
        Assert.Equal(["connector.registered"], await catalog.SaveAsync(registration, None));
        Assert.Empty(await catalog.SaveAsync(registration, None));
        var newPassword = "portal-pw-new-" + Guid.NewGuid().ToString("N");
        Assert.Equal(["connector.changed"], await catalog.SaveAsync(
            registration with { Configuration = JsonSerializer.SerializeToElement(new { username = "change_motcua", password = newPassword }) }, None));

        await using var command = db.CreateCommand("select detail::text from exchange_entry where action = 'connector.changed'");
        var detail = (string)(await command.ExecuteScalarAsync())!;
        Assert.Equal(["configuration"], JsonDocument.Parse(detail).RootElement.GetProperty("changed").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain(newPassword, detail, StringComparison.Ordinal);
        secrets.AssertAbsent(await DumpAsync(db, null), "the database");
        Assert.DoesNotContain(newPassword, await DumpAsync(db, null), StringComparison.Ordinal);

        // A fresh catalog over the same key ring reads the new password back.
        var loaded = await TestSecrets.Catalog(db).GetAsync("secrets-change", None);
        Assert.Equal(newPassword, loaded!.Registration.Configuration.GetProperty("password").GetString());
    }

    [Fact]
    public async Task An_encrypted_secret_copied_to_another_connector_or_setting_does_not_decrypt()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("secrets_moved");
        var catalog = TestSecrets.Catalog(db);
        foreach (var id in new[] { "moved-a", "moved-b" })
        {
            await catalog.SaveAsync(new ConnectorRegistration
            {
                Id = id,
                Kind = "national-portal",
                SourceSystem = "sys-" + id,
                DisplayName = id,
                Configuration = JsonSerializer.SerializeToElement(new { username = id + "_motcua", password = "pw-of-" + id }),
                Mapping = NationalPortalMapping.Definition,
            }, None);
        }

        await using (var copy = db.CreateCommand("update connector set configuration = (select configuration from connector where id = 'moved-a') where id = 'moved-b'"))
        {
            await copy.ExecuteNonQueryAsync();
        }

        Assert.Equal("pw-of-moved-a", (await catalog.GetAsync("moved-a", None))!.Registration.Configuration.GetProperty("password").GetString());
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => catalog.GetAsync("moved-b", None));
        Assert.Contains("moved-b", error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<CryptographicException>(error.InnerException);
    }

    [Fact]
    public void Each_kind_declares_its_secret_settings()
    {
        var secrets = new ConnectorSecrets(new Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider(), TestSecrets.BuiltInKinds());
        string Paths(string kind) => string.Join(" ", secrets.SecretPaths(kind).Select(p => "/" + string.Join('/', p)).Order(StringComparer.Ordinal));
        Assert.Equal("/auth/clientSecret /auth/key /auth/password", Paths("rest-pull"));
        Assert.Equal("/previousSecret /secret", Paths("json-webhook"));
        Assert.Equal("/password", Paths("national-portal"));
        Assert.Equal("", Paths("signed-xml"));
        Assert.Throws<InvalidOperationException>(() => secrets.SecretPaths("no-such-kind"));
    }

    [Fact]
    public async Task A_plaintext_row_written_by_an_earlier_version_is_encrypted_at_start_and_keeps_working()
    {
        var secrets = new KnownSecrets();
        await using var simulator = await SimulatorHost.StartAsync(Province("sim-legacy", "H72", secrets.OAuth));
        await using var db = await TestDatabase.CreateSchemaAsync("secrets_legacy");
        var scheduler = "hf_leg_" + Guid.NewGuid().ToString("N")[..8];

        // As the hub wrote rows before secrets were encrypted: the configuration as given, secrets included.
        var rest = JsonNode.Parse(simulator.VendorRestConnectorJson("sim-legacy"))!.AsObject();
        rest["configuration"]!["auth"]!["clientSecret"] = secrets.OAuth;
        await InsertPlaintextAsync(db, "sim-legacy-rest", "rest-pull", rest["configuration"]!.ToJsonString(), rest["mapping"]!.ToJsonString());
        await InsertPlaintextAsync(db, "legacy-webhook", "json-webhook",
            new JsonObject { ["secret"] = Convert.ToBase64String(secrets.WebhookKey) }.ToJsonString(),
            JsonSerializer.Serialize(WebhookHub.Mapping(), ConnectorCatalog.Json));
        Assert.Contains(secrets.OAuth, await ConfigurationAsync(db, "sim-legacy-rest"), StringComparison.Ordinal);

        var work = Directory.CreateTempSubdirectory("hub-legacy-").FullName;
        try
        {
            await using var hub = HubProcess.Start(work, Settings(db, null, scheduler));
            await hub.WaitReadyAsync(Ready);

            var stored = JsonNode.Parse(await ConfigurationAsync(db, "sim-legacy-rest"))!;
            Assert.NotNull(stored["auth"]!["clientSecret"]![ConnectorSecrets.ProtectedMember]);
            Assert.NotNull(JsonNode.Parse(await ConfigurationAsync(db, "legacy-webhook"))!["secret"]![ConnectorSecrets.ProtectedMember]);
            secrets.AssertAbsent(await DumpAsync(db, scheduler), "the database");

            var run = await RunAsync(hub, "sim-legacy-rest");
            Assert.True(run.GetProperty("outcome").GetString() == "succeeded", run.ToString() + hub.Output);
            using (var delivered = await DeliverAsync(hub, "legacy-webhook", secrets.WebhookKey, "LEG-1"))
            {
                Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
            }

            // The encryption is an administrative entry naming the settings, never their values.
            var entries = JsonDocument.Parse(await hub.Client.GetStringAsync("/api/exchange?kind=admin&limit=1000")).RootElement
                .EnumerateArray().Where(e => e.GetProperty("action").GetString() == "connector.secrets-encrypted").ToList();
            Assert.Equal(2, entries.Count);
            var restEntry = entries.Single(e => e.GetProperty("connectorId").GetString() == "sim-legacy-rest");
            var detail = JsonDocument.Parse(await hub.Client.GetStringAsync($"/api/exchange/{restEntry.GetProperty("id").GetInt64()}")).RootElement;
            Assert.Equal(["/auth/clientSecret"], detail.GetProperty("detail").GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
            secrets.AssertAbsent(hub.Output, "the hub's log");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task InsertPlaintextAsync(NpgsqlDataSource db, string id, string kind, string configuration, string mapping)
    {
        await using var command = db.CreateCommand("""
            insert into connector (id, kind, source_system, display_name, configuration, mapping)
            values ($1, $2, $1, $1, $3::jsonb, $4::jsonb)
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = kind });
        command.Parameters.Add(new() { Value = configuration });
        command.Parameters.Add(new() { Value = mapping });
        await command.ExecuteNonQueryAsync();
    }

    private static readonly CancellationToken None = CancellationToken.None;
}
