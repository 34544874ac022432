using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Registration;

/// <summary>A real hub process over a schema of its own, for the registration API.</summary>
public sealed class RegistrationApiHub : IAsyncLifetime
{
    private string _work = "";

    public NpgsqlDataSource Db { get; private set; } = null!;

    public HubProcess Process { get; private set; } = null!;

    /// <summary>A client without a key (the process's own client carries one with every central role).</summary>
    public HttpClient Anonymous { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateSchemaAsync("registration_api");
        _work = Directory.CreateTempSubdirectory("hub-registration-api-").FullName;
        Process = HubProcess.Start(_work, new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = Db.ConnectionString,
            ["Hub__Audit__SealInterval"] = "01:00:00",
        });
        await Process.WaitReadyAsync(TimeSpan.FromSeconds(90));
        Anonymous = new HttpClient { BaseAddress = Process.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>A client with the key of a new principal that has only these roles.</summary>
    public async Task<HttpClient> WithRolesAsync(params string[] roles) =>
        (await Process.PrincipalClientAsync("reg", [.. roles.Select(r => (object)new { role = r })])).Client;

    /// <summary>A client with the key of a new principal with these grants (<c>new { role, agency }</c>), and its id.</summary>
    public Task<(HttpClient Client, string Id)> WithGrantsAsync(params object[] grants) => Process.PrincipalClientAsync("reg", grants);

    public async Task DisposeAsync()
    {
        Anonymous.Dispose();
        await Process.DisposeAsync();
        await Db.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }
}

/// <summary>
/// <c>GET /api/connector-kinds</c> and <c>POST /api/connectors/validate</c> over real HTTP: every problem of a registration
/// with its field, nothing stored, and only for callers allowed to maintain connectors.
/// </summary>
public sealed class ConnectorValidationApiTests(RegistrationApiHub hub) : IClassFixture<RegistrationApiHub>
{
    /// <summary>The simulator's registration file, as a province writes one, with an address and a source system filled in.</summary>
    internal static JsonObject ValidRegistration(string? id = null)
    {
        var text = File.ReadAllText(Path.Combine(RepoRoot.Path, "src", "Hub.Simulator", "Connectors", "vendor-rest.connector.json"))
            .Replace("{{baseUrl}}", "http://127.0.0.1:9/igate", StringComparison.Ordinal)
            .Replace("{{sourceSystem}}", "h56-valid", StringComparison.Ordinal);
        var registration = JsonNode.Parse(text)!.AsObject();
        registration["id"] = id ?? "h56-valid-" + Guid.NewGuid().ToString("N")[..8];
        return registration;
    }

    /// <summary>Sets (or with <c>null</c> removes) the value at a dotted path of the registration.</summary>
    private static JsonObject With(JsonObject registration, string path, JsonNode? value)
    {
        var names = path.Split('.');
        var parent = registration;
        foreach (var name in names[..^1])
        {
            parent = parent[name]!.AsObject();
        }

        if (value is null)
        {
            Assert.True(parent.Remove(names[^1]), $"{path} is not in the valid registration");
        }
        else
        {
            parent[names[^1]] = value;
        }

        return registration;
    }

    private Task<HttpResponseMessage> ValidateAsync(JsonNode registration, HttpClient? client = null) =>
        (client ?? hub.Process.Client).PostAsync("/api/connectors/validate", new StringContent(registration.ToJsonString(), Encoding.UTF8, "application/json"));

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static List<(string Field, string Problem, string Expected)> Errors(JsonElement problem) =>
        [.. problem.GetProperty("errors").EnumerateArray().Select(e => (
            e.GetProperty("field").GetString()!, e.GetProperty("problem").GetString()!, e.GetProperty("expected").GetString()!))];

    public static TheoryData<string, string, string?, string, string> BadRegistrations => new()
    {
        // case, path to change, new value (JSON; null removes it), expected field, fragment of the problem
        { "missing URL", "configuration.baseUrl", null, "configuration.baseUrl", "is missing" },
        { "bad URL", "configuration.baseUrl", "\"ftp://files.example.gov.vn/igate\"", "configuration.baseUrl", "is not valid" },
        { "bad cron", "schedule", "\"61 * * * *\"", "schedule", "is not a valid cron expression" },
        { "cron with too many fields", "schedule", "\"* * * * * * *\"", "schedule", "has 7 field(s)" },
        { "unknown time zone", "timeZone", "\"Mars/Olympus\"", "timeZone", "time zone 'Mars/Olympus' is unknown" },
        { "bad JSON path in the mapping", "mapping.dossier.ProcedureName", "\"procedure..name\"", "mapping.dossier.ProcedureName", "path 'procedure..name' has '.' at character 11" },
        { "status code mapped to an unknown national status", "mapping.statusCodes.99", "11", "mapping.statusCodes.99", "national statuses are 1 to 10" },
        { "secret missing", "configuration.auth.clientSecret", null, "configuration.auth.clientSecret", "is missing (a secret)" },
        { "unknown kind", "kind", "\"ftp-pull\"", "kind", "no connector kind is named 'ftp-pull'" },
        { "unknown property", "configuration.baseURL", "\"http://127.0.0.1:9\"", "configuration.baseURL", "is not a known property" },
        { "wrong type", "configuration.pageSize", "\"1000\"", "configuration.pageSize", "has the wrong type" },
        { "required mapping field missing", "mapping.dossier.EventTime", null, "mapping.dossier.EventTime", "required field 'EventTime' is not mapped" },
        { "mapping field that does not exist", "mapping.dossier.ChuHoSo", "\"owner\"", "mapping.dossier.ChuHoSo", "unknown field 'ChuHoSo'" },
        { "bad date format of a step field", "mapping.steps.fields.Deadline", "{ \"path\": \"deadline\", \"dateFormats\": [\"HH:mm\"] }", "mapping.steps.fields.Deadline.dateFormats.0", "does not hold a whole date" },
        { "bad connector id", "id", "\"H56 Rest\"", "id", "'H56 Rest' is not a valid connector id" },
        { "reserved connector id", "id", "\"freshness\"", "id", "'freshness' is reserved" },
        { "display name missing", "displayName", null, "displayName", "is missing" },
        { "kind's own check: lookback beyond 7 days", "configuration.cursor.lookback", "\"8.00:00:00\"", "configuration.cursor.lookback", "between 00:00:00 and 7.00:00:00" },
    };

    [Theory]
    [MemberData(nameof(BadRegistrations))]
    public async Task Bad_registration_is_answered_422_naming_the_field_and_the_problem(string @case, string path, string? value, string field, string problem)
    {
        var registration = With(ValidRegistration(), path, value is null ? null : JsonNode.Parse(value));

        using var response = await ValidateAsync(registration);

        var body = await ProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(422, body.GetProperty("status").GetInt32());
        var errors = Errors(body);
        var error = Assert.Single(errors);
        Assert.True(field == error.Field, $"{@case}: expected field {field}, got {string.Join("; ", errors)}");
        Assert.Contains(problem, error.Problem, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(error.Expected));
    }

    [Fact]
    public async Task Every_problem_is_listed_not_only_the_first()
    {
        var registration = ValidRegistration();
        With(registration, "configuration.baseUrl", null);
        With(registration, "configuration.auth.clientSecret", null);
        With(registration, "schedule", JsonValue.Create("every minute"));
        With(registration, "timeZone", JsonValue.Create("Hanoi"));
        With(registration, "mapping.statusCodes.99", JsonValue.Create(0));
        With(registration, "mapping.dossier.ProcedureName", JsonValue.Create("names[x]"));

        using var response = await ValidateAsync(registration);

        var errors = Errors(await ProblemAsync(response, HttpStatusCode.UnprocessableEntity));
        Assert.Equal(
            ["configuration.auth.clientSecret", "configuration.baseUrl", "mapping.dossier.ProcedureName", "mapping.statusCodes.99", "schedule", "timeZone"],
            errors.Select(e => e.Field).Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task Valid_registration_is_valid_and_nothing_is_stored()
    {
        var registration = ValidRegistration();
        var id = registration["id"]!.GetValue<string>();
        var entriesBefore = await CountAsync("select count(*) from exchange_entry");

        using var response = await ValidateAsync(registration);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("valid").GetBoolean());
        Assert.Equal(0, await CountAsync($"select count(*) from connector where id = '{id}'"));
        Assert.Equal(entriesBefore, await CountAsync("select count(*) from exchange_entry"));
    }

    [Fact]
    public async Task Registration_that_is_not_an_object_is_one_problem_at_the_root()
    {
        using var response = await ValidateAsync(JsonNode.Parse("[1, 2]")!);

        var error = Assert.Single(Errors(await ProblemAsync(response, HttpStatusCode.UnprocessableEntity)));
        Assert.Equal("$", error.Field);
        Assert.Contains("is an array", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kinds_are_listed_with_their_configuration_schema_and_secrets_marked_write_only()
    {
        var kinds = await hub.Process.Client.GetFromJsonAsync<JsonElement>("/api/connector-kinds");

        var byName = kinds.EnumerateArray().ToDictionary(k => k.GetProperty("name").GetString()!);
        Assert.Superset(new HashSet<string> { "rest-pull", "json-webhook", "national-portal", "signed-xml" }, byName.Keys.ToHashSet());
        Assert.Equal("pull", byName["rest-pull"].GetProperty("direction").GetString());
        Assert.Equal("push", byName["json-webhook"].GetProperty("direction").GetString());
        foreach (var kind in byName.Values)
        {
            Assert.Equal(JsonValueKind.Object, kind.GetProperty("configurationSchema").ValueKind);
            Assert.False(string.IsNullOrWhiteSpace(kind.GetProperty("description").GetString()));
        }

        var oauth2 = byName["rest-pull"].GetProperty("configurationSchema").GetProperty("definitions").GetProperty("authOAuth2ClientCredentials").GetProperty("properties");
        Assert.True(oauth2.GetProperty("clientSecret").GetProperty("writeOnly").GetBoolean());
        Assert.False(oauth2.GetProperty("clientId").TryGetProperty("writeOnly", out _));
        Assert.True(byName["national-portal"].GetProperty("configurationSchema").GetProperty("properties").GetProperty("password").GetProperty("writeOnly").GetBoolean());
    }

    [Fact]
    public async Task Without_a_key_both_routes_answer_401()
    {
        using var kinds = await hub.Anonymous.GetAsync("/api/connector-kinds");
        using var validate = await ValidateAsync(ValidRegistration(), hub.Anonymous);

        await ProblemAsync(kinds, HttpStatusCode.Unauthorized);
        await ProblemAsync(validate, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_auditor_only_key_gets_403_and_an_operator_key_is_allowed()
    {
        using var auditor = await hub.WithRolesAsync("auditor");
        using var operatorClient = await hub.WithRolesAsync("operator");

        using var kinds = await auditor.GetAsync("/api/connector-kinds");
        using var validate = await ValidateAsync(ValidRegistration(), auditor);
        using var allowed = await ValidateAsync(ValidRegistration(), operatorClient);

        await ProblemAsync(kinds, HttpStatusCode.Forbidden);
        await ProblemAsync(validate, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var command = hub.Db.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
