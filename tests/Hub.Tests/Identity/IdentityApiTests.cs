using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Core.Audit;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Identity;

/// <summary>A real hub process with a bootstrap admin key from configuration, over a schema of its own.</summary>
public sealed class IdentityApiHub : IAsyncLifetime
{
    public const string BootstrapKey = "test-bootstrap-admin-key-0123456789abcdef";

    private string _work = "";

    public NpgsqlDataSource Db { get; private set; } = null!;

    public HubProcess Process { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateSchemaAsync("identity_api");
        _work = Directory.CreateTempSubdirectory("hub-identity-api-").FullName;
        Process = HubProcess.Start(_work, new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = Db.ConnectionString,
            ["Hub__Identity__BootstrapAdminKey"] = BootstrapKey,
            ["Hub__Audit__SealInterval"] = "01:00:00",
        });
        await Process.WaitReadyAsync(TimeSpan.FromSeconds(90));
        Anonymous = new HttpClient { BaseAddress = Process.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>A client without a key (the process's own client carries one).</summary>
    public HttpClient Anonymous { get; private set; } = null!;

    public HttpClient As(string key)
    {
        var client = new HttpClient { BaseAddress = Process.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public async Task DisposeAsync()
    {
        Anonymous.Dispose();
        await Process.DisposeAsync();
        await Db.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }
}

/// <summary>Principals and keys over real HTTP: the bootstrap admin, keys shown once, 401 and 403 that say why, every change logged.</summary>
public sealed class IdentityApiTests(IdentityApiHub hub) : IClassFixture<IdentityApiHub>
{
    private static string Tag() => Guid.NewGuid().ToString("N")[..8];

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<string> PrincipalWithKeyAsync(string id, object[] roles)
    {
        using var admin = hub.As(IdentityApiHub.BootstrapKey);
        using var created = await admin.PostAsJsonAsync("/api/principals", new { id, displayName = "Test " + id, roles, reason = "test" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var key = await admin.PostAsJsonAsync($"/api/principals/{id}/keys", new { description = "test key", expiresAt = DateTimeOffset.UtcNow.AddDays(1) });
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        Assert.Equal("no-store", key.Headers.CacheControl?.ToString());
        return (await key.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    [Fact]
    public async Task A_caller_without_a_key_or_with_an_unknown_one_gets_401_saying_which_and_health_stays_open()
    {
        using var none = await hub.Anonymous.GetAsync("/api/principals");
        using var unknown = await hub.As("hub_aaaaaaaaaaaa_" + new string('A', 43)).GetAsync("/api/me");
        using var basic = new HttpRequestMessage(HttpMethod.Get, "/api/me") { Headers = { Authorization = new AuthenticationHeaderValue("Basic", "eDp5") } };
        using var basicResponse = await hub.Anonymous.SendAsync(basic);
        using var health = await hub.Anonymous.GetAsync("/health/ready");

        Assert.Contains("no API key was presented", (await ProblemAsync(none, HttpStatusCode.Unauthorized)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.ToString());
        Assert.Contains("the API key is not known", (await ProblemAsync(unknown, HttpStatusCode.Unauthorized)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("is not 'Bearer <API key>'", (await ProblemAsync(basicResponse, HttpStatusCode.Unauthorized)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task The_bootstrap_admin_creates_a_principal_whose_key_works_once_shown_and_never_again()
    {
        var id = "ops-" + Tag();
        var key = await PrincipalWithKeyAsync(id, [new { role = "operator" }]);
        using var client = hub.As(key);
        using var admin = hub.As(IdentityApiHub.BootstrapKey);

        var me = await client.GetFromJsonAsync<JsonElement>("/api/me");
        var detail = await admin.GetStringAsync($"/api/principals/{id}");

        Assert.Equal(id, me.GetProperty("id").GetString());
        Assert.Equal("operator", me.GetProperty("roles")[0].GetProperty("role").GetString());
        Assert.DoesNotContain(key[^43..], detail, StringComparison.Ordinal);
        Assert.Equal(key.Split('_')[1], JsonDocument.Parse(detail).RootElement.GetProperty("keys")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_principal_without_the_admin_role_gets_403_naming_its_roles()
    {
        var id = "aud-" + Tag();
        var key = await PrincipalWithKeyAsync(id, [new { role = "auditor" }]);
        using var client = hub.As(key);

        using var list = await client.GetAsync("/api/principals");
        using var create = await client.PostAsJsonAsync("/api/principals", new { id = "x-" + Tag(), displayName = "X", roles = new[] { new { role = "admin" } } });

        Assert.Contains($"{id} (roles: auditor) may not GET /api/principals", (await ProblemAsync(list, HttpStatusCode.Forbidden)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        await ProblemAsync(create, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_revoked_key_stops_at_once_and_the_revocation_needs_a_reason()
    {
        var id = "pa-" + Tag();
        var key = await PrincipalWithKeyAsync(id, [new { role = "province-admin", agency = "H56" }]);
        using var admin = hub.As(IdentityApiHub.BootstrapKey);
        using var client = hub.As(key);
        var keyId = key.Split('_')[1];
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/me")).StatusCode);

        using var noReason = await admin.PostAsync($"/api/keys/{keyId}/revoke", null);
        using var revoke = await admin.PostAsync($"/api/keys/{keyId}/revoke?reason=rotated", null);
        using var after = await client.GetAsync("/api/me");

        Assert.Contains("needs a reason", (await ProblemAsync(noReason, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Contains($"API key '{keyId}' was revoked", (await ProblemAsync(after, HttpStatusCode.Unauthorized)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_principals_get_400_naming_each_problem_and_a_taken_id_409()
    {
        using var admin = hub.As(IdentityApiHub.BootstrapKey);
        var id = "dup-" + Tag();
        using var first = await admin.PostAsJsonAsync("/api/principals", new { id, displayName = "Dup", roles = new[] { new { role = "auditor" } } });
        using var again = await admin.PostAsJsonAsync("/api/principals", new { id, displayName = "Dup", roles = new[] { new { role = "auditor" } } });
        using var bad = await admin.PostAsJsonAsync("/api/principals", new { id = "Bad Id", displayName = "", roles = new[] { new { role = "province-admin" } } });

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Contains($"'{id}' already exists", (await ProblemAsync(again, HttpStatusCode.Conflict)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        var detail = (await ProblemAsync(bad, HttpStatusCode.BadRequest)).GetProperty("detail").GetString()!;
        Assert.Contains("id 'Bad Id' must be", detail, StringComparison.Ordinal);
        Assert.Contains("displayName must be", detail, StringComparison.Ordinal);
        Assert.Contains("needs an agency code", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_lists_principals_changes_roles_and_disables_one_whose_keys_then_stop()
    {
        var id = "chg-" + Tag();
        var key = await PrincipalWithKeyAsync(id, [new { role = "province-admin", agency = "H56" }]);
        using var admin = hub.As(IdentityApiHub.BootstrapKey);
        using var client = hub.As(key);

        var list = await admin.GetFromJsonAsync<JsonElement>("/api/principals");
        using var roles = await admin.PutAsJsonAsync($"/api/principals/{id}/roles", new { roles = new[] { new { role = "auditor" } }, reason = "moved to inspection" });
        using var badRoles = await admin.PutAsJsonAsync($"/api/principals/{id}/roles", new { roles = Array.Empty<object>() });
        var me = await client.GetFromJsonAsync<JsonElement>("/api/me");
        using var noReason = await admin.PostAsync($"/api/principals/{id}/disable", null);
        using var disable = await admin.PostAsync($"/api/principals/{id}/disable?reason=left", null);
        using var after = await client.GetAsync("/api/me");
        using var unknown = await admin.PostAsync("/api/principals/nobody-here/disable?reason=x", null);

        Assert.Contains(list.EnumerateArray(), p => p.GetProperty("id").GetString() == id);
        Assert.Equal(HttpStatusCode.OK, roles.StatusCode);
        Assert.Contains("at least one role", (await ProblemAsync(badRoles, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("auditor", Assert.Single(me.GetProperty("roles").EnumerateArray()).GetProperty("role").GetString());
        await ProblemAsync(noReason, HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.OK, disable.StatusCode);
        Assert.Contains($"principal '{id}' is disabled", (await ProblemAsync(after, HttpStatusCode.Unauthorized)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        await ProblemAsync(unknown, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Changes_are_logged_with_the_admin_who_made_them()
    {
        var id = "log-" + Tag();
        await PrincipalWithKeyAsync(id, [new { role = "auditor" }]);

        var log = new ExchangeLog(hub.Db, TimeProvider.System);
        var entries = await log.SearchAsync(new ExchangeSearch { Kind = ExchangeRecord.AdminKind, Limit = 1000 }, CancellationToken.None);
        var mine = entries.Where(e => e.Detail?.Contains($"\"{id}\"", StringComparison.Ordinal) == true).OrderBy(e => e.Id).ToList();

        Assert.Equal(["principal.created", "key.created"], mine.Select(e => e.Action));
        Assert.All(mine, e => Assert.Equal("bootstrap-admin", e.Actor));
        Assert.Contains(entries, e => e.Action == "principal.bootstrapped" && e.Actor == "configuration");
    }

    public static TheoryData<string, string> ClosedRoutes => new()
    {
        { "GET", "/api/connectors" },
        { "POST", "/api/connectors" },
        { "GET", "/api/connectors/x" },
        { "PUT", "/api/connectors/x" },
        { "DELETE", "/api/connectors/x" },
        { "POST", "/api/connectors/x/lifecycle/submit?reason=r" },
        { "GET", "/api/connectors/x/mappings" },
        { "GET", "/api/connectors/x/runs" },
        { "POST", "/api/connectors/x/sync" },
        { "GET", "/api/connectors/x/quarantine" },
        { "POST", "/api/connectors/x/quarantine/reprocess" },
        { "GET", "/api/dossiers/H56.10-260101-0001" },
        { "GET", "/api/exchange" },
        { "GET", "/api/exchange/1" },
        { "GET", "/api/exchange/1/payload" },
        { "GET", "/api/exchange/1/proof" },
        { "POST", "/api/exchange/verify" },
        { "GET", "/api/exchange/checkpoints" },
        { "POST", "/api/exchange/checkpoints" },
        { "GET", "/api/exchange/consistency?from=1" },
        { "GET", "/api/exchange/certificate" },
        { "GET", "/api/exchange/evidence?dossier=x" },
        { "GET", "/api/principals" },
        { "POST", "/api/keys/x/revoke?reason=r" },
        { "GET", "/api/me" },
        { "GET", "/api/no-such-route" },
    };

    [Theory]
    [MemberData(nameof(ClosedRoutes))]
    public async Task Every_route_but_health_and_signed_pushes_needs_a_key(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        using var response = await hub.Anonymous.SendAsync(request);
        Assert.Contains("needs an API key", (await ProblemAsync(response, HttpStatusCode.Unauthorized)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    /// <summary>Every operation of the OpenAPI document, with its path parameters filled in, and whether it needs a key.</summary>
    private async Task<List<(string Method, string Path, bool Secured)>> OperationsAsync()
    {
        using var document = JsonDocument.Parse(await hub.Anonymous.GetStringAsync("/openapi/v1.json"));
        var operations = new List<(string, string, bool)>();
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
        {
            var concrete = System.Text.RegularExpressions.Regex.Replace(path.Name.Replace("{step}", "submit", StringComparison.Ordinal), "\\{[^}]+\\}", "1");
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "get" or "post" or "put" or "delete" or "patch"))
            {
                var secured = operation.Value.TryGetProperty("security", out var security) && security.GetArrayLength() > 0;
                operations.Add((operation.Name.ToUpperInvariant(), concrete + "?reason=r", secured));
            }
        }

        return operations;
    }

    [Fact]
    public async Task Every_operation_of_the_document_but_health_and_signed_pushes_is_401_without_a_key()
    {
        var operations = await OperationsAsync();
        var open = operations.Where(o => !o.Secured).Select(o => o.Path.Split('?')[0]).ToList();
        foreach (var (method, path, _) in operations.Where(o => o.Secured))
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "GET" ? null : new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
            using var response = await hub.Anonymous.SendAsync(request);
            Assert.Contains("needs an API key", (await ProblemAsync(response, HttpStatusCode.Unauthorized)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.True(operations.Count(o => o.Secured) >= 30, $"only {operations.Count(o => o.Secured)} secured operations in the document");
        // The only open routes: health, the document itself, and pushes that carry their own proof.
        Assert.All(open, p => Assert.Matches("^/(health/|portal/|api/connectors/1/(webhook|signed-xml)$)", p));
    }

    [Fact]
    public async Task An_auditor_is_refused_every_write_of_the_document_with_a_problem_saying_who_and_what()
    {
        var id = "audit-writes-" + Tag();
        using var auditor = hub.As(await PrincipalWithKeyAsync(id, [new { role = "auditor" }]));
        // Writes an auditor is for: reading evidence is a GET; verifying the log changes nothing.
        var readOnlyPosts = new[] { "/api/exchange/verify" };
        var writes = (await OperationsAsync()).Where(o => o.Secured && o.Method != "GET" && !readOnlyPosts.Contains(o.Path.Split('?')[0])).ToList();

        foreach (var (method, path, _) in writes)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
            using var response = await auditor.SendAsync(request);
            var detail = (await ProblemAsync(response, HttpStatusCode.Forbidden)).GetProperty("detail").GetString();
            Assert.Contains($"{id} (roles: auditor) may not {method} {path.Split('?')[0]}", detail, StringComparison.Ordinal);
        }

        Assert.Contains(("DELETE", "/api/connectors/1?reason=r", true), writes);
        Assert.Contains(("POST", "/api/connectors/1/lifecycle/submit?reason=r", true), writes);
        Assert.True(writes.Count >= 12, $"only {writes.Count} writes in the document");
    }

    public static TheoryData<string, string, string, HttpStatusCode> RoleChecks => new()
    {
        // Auditors read the log, payloads and evidence, and write nothing.
        { "auditor", "GET", "/api/exchange?limit=1", HttpStatusCode.OK },
        { "auditor", "GET", "/api/exchange/evidence?dossier=none", HttpStatusCode.NotFound },
        { "auditor", "POST", "/api/exchange/checkpoints", HttpStatusCode.Forbidden },
        { "auditor", "POST", "/api/connectors/x/sync", HttpStatusCode.Forbidden },
        { "auditor", "POST", "/api/connectors/x/quarantine/reprocess", HttpStatusCode.Forbidden },
        { "auditor", "GET", "/api/principals", HttpStatusCode.Forbidden },
        // Operators run the connectors and read the log's entries, never raw payloads or evidence.
        { "operator", "GET", "/api/connectors", HttpStatusCode.OK },
        { "operator", "POST", "/api/exchange/checkpoints", HttpStatusCode.OK },
        { "operator", "GET", "/api/exchange/1/payload", HttpStatusCode.Forbidden },
        { "operator", "GET", "/api/exchange/evidence?dossier=none", HttpStatusCode.Forbidden },
        { "operator", "GET", "/api/principals", HttpStatusCode.Forbidden },
        // A province-admin has no access to central routes.
        // A province-admin sees only its agencies' connectors (none here) and nothing central.
        { "province-admin", "GET", "/api/connectors", HttpStatusCode.OK },
        { "province-admin", "GET", "/api/exchange?limit=1", HttpStatusCode.Forbidden },
        { "province-admin", "GET", "/api/exchange/1/payload", HttpStatusCode.Forbidden },
        { "province-admin", "GET", "/api/dossiers/H56.10-260101-0001", HttpStatusCode.Forbidden },
        // Admins manage principals, not connectors or the log.
        { "admin", "GET", "/api/connectors", HttpStatusCode.Forbidden },
        { "admin", "GET", "/api/exchange/1/payload", HttpStatusCode.Forbidden },
    };

    [Theory]
    [MemberData(nameof(RoleChecks))]
    public async Task Each_role_reaches_only_what_it_is_for_and_a_denial_says_who_and_what(string role, string method, string path, HttpStatusCode expected)
    {
        var id = role.Replace("-", "", StringComparison.Ordinal) + "-" + Tag();
        object grant = role == "province-admin" ? new { role, agency = "H56" } : new { role };
        using var client = hub.As(await PrincipalWithKeyAsync(id, [grant]));

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        if (expected == HttpStatusCode.Forbidden)
        {
            var detail = (await ProblemAsync(response, HttpStatusCode.Forbidden)).GetProperty("detail").GetString();
            Assert.Contains($"{id} (roles: {role}) may not {method} {path.Split('?')[0]}", detail, StringComparison.Ordinal);
        }
        else
        {
            Assert.True(expected == response.StatusCode, $"{role} {method} {path}: expected {(int)expected}, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task Health_stays_open_and_signed_pushes_are_not_asked_for_a_key()
    {
        using var live = await hub.Anonymous.GetAsync("/health/live");
        using var webhook = await hub.Anonymous.PostAsync("/api/connectors/none/webhook", new StringContent("{}"));
        using var signedXml = await hub.Anonymous.PostAsync("/api/connectors/none/signed-xml", new StringContent("<x/>"));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        // They reach their own checks, which refuse an unknown connector.
        Assert.Equal(HttpStatusCode.NotFound, webhook.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, signedXml.StatusCode);
    }
}
