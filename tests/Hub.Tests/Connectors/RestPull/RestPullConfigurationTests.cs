using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors;
using Hub.Connectors.BuiltIn;
using Hub.Connectors.BuiltIn.RestPull;
using NJsonSchema;
using static Hub.Tests.Connectors.RestPull.RestPullKit;

namespace Hub.Tests.Connectors.RestPull;

public class RestPullConfigurationTests
{
    /// <summary>A Keycloak-protected vendor search API with page/size paging and an updatedFrom cursor in Vietnam time.</summary>
    public const string KeycloakVendorExample = """
        {
          "baseUrl": "https://motcua.example.gov.vn/igate",
          "path": "/api/v1/dossiers/revisions",
          "itemsPath": "content",
          "pageSize": 500,
          "query": { "sort": "updatedDate,asc", "agencyCode": "H56" },
          "headers": { "Accept-Language": "vi" },
          "auth": {
            "type": "oauth2ClientCredentials",
            "tokenUrl": "https://sso.example.gov.vn/realms/igate/protocol/openid-connect/token",
            "clientId": "hub-h56",
            "clientSecret": "<secret>"
          },
          "paging": { "type": "pageSize", "pageParam": "page", "sizeParam": "size", "firstPage": 0, "lastPath": "last" },
          "cursor": {
            "param": "updatedFrom",
            "field": "updatedDate",
            "format": "yyyy-MM-dd HH:mm:ss",
            "timeZone": "+07:00",
            "initial": "2025-01-01 00:00:00",
            "lookback": "00:05:00"
          }
        }
        """;

    [Fact]
    public void The_kind_is_named_rest_pull()
    {
        Assert.Equal("rest-pull", Kind.Name);
        Assert.False(string.IsNullOrWhiteSpace(Kind.Description));
    }

    [Fact]
    public void The_Keycloak_vendor_example_is_read_with_its_defaults_and_cannot_print_its_secret()
    {
        var settings = RestPullSettings.Parse(JsonDocument.Parse(KeycloakVendorExample).RootElement);

        Assert.Equal("https://motcua.example.gov.vn/igate/api/v1/dossiers/revisions", settings.DataUrl.AbsoluteUri);
        var auth = Assert.IsType<OAuth2ClientCredentialsAuth>(settings.Auth);
        Assert.Equal("<secret>", auth.ClientSecret);
        Assert.DoesNotContain("<secret>", settings.ToString(), StringComparison.Ordinal);
        var paging = Assert.IsType<PageNumberPaging>(settings.Paging);
        Assert.Equal("last", paging.LastPath?.Text);
        Assert.Equal(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.FromHours(7)), settings.Cursor!.Initial);
        Assert.Equal(TimeSpan.FromMinutes(5), settings.Cursor.Lookback);
    }

    [Fact]
    public void Relative_token_and_login_URLs_are_joined_to_the_base_URL()
    {
        var config = JsonNode.Parse(KeycloakVendorExample)!.AsObject();
        config["auth"]!["tokenUrl"] = "/auth/token";

        var settings = RestPullSettings.Parse(JsonSerializer.SerializeToElement(config));

        Assert.Equal("https://motcua.example.gov.vn/igate/auth/token", ((OAuth2ClientCredentialsAuth)settings.Auth).TokenUrl.AbsoluteUri);
    }

    [Fact]
    public void Validation_lists_every_problem_at_once_without_quoting_values()
    {
        var config = new JsonObject
        {
            ["baseUrl"] = "ftp://motcua.example.gov.vn",
            ["itemsPath"] = "content..items",
            ["pageSize"] = 0,
            ["pagesize"] = 100,
            ["query"] = new JsonObject { ["page"] = "1" },
            ["headers"] = new JsonObject { ["Bad Header"] = "x" },
            ["auth"] = new JsonObject { ["type"] = "oauth2ClientCredentials", ["tokenUrl"] = "token", ["clientId"] = "hub", ["clientSecret"] = 12345 },
            ["paging"] = new JsonObject { ["type"] = "pageSize" },
            ["cursor"] = new JsonObject
            {
                ["param"] = "updatedFrom",
                ["field"] = "updatedDate",
                ["format"] = "%",
                ["timeZone"] = "Mars/Olympus_Mons",
                ["lookback"] = "five minutes",
            },
        };

        var error = Assert.Throws<ConnectorException>(() => Kind.CreateSource(Context(config)));

        Assert.Equal(FailureSide.Configuration, error.Side);
        Assert.False(error.Retryable);
        string[] expected =
        [
            "baseUrl: must be an absolute http or https URL",
            "path: is required",
            "itemsPath: must be a dotted path",
            "pageSize: must be a whole number from 1 to 10000",
            "pagesize: is not a setting here",
            "headers.Bad Header: is not an HTTP header name",
            "auth.tokenUrl: must be an absolute http or https URL, or a path",
            "auth.clientSecret: must be a string, not a number",
            "paging.pageParam: uses the query parameter 'page', which query.page already sets",
            "cursor.format: is not a .NET date-time format",
            "cursor.timeZone: must be an offset",
            "cursor.lookback: must be a duration",
        ];
        foreach (var problem in expected)
        {
            Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        }

        Assert.Contains($"{expected.Length} problem(s)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("12345", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "type": "apiKey" }""", "auth.key: is required")]
    [InlineData("""{ "type": "sessionLogin", "loginUrl": "/login", "username": "u" }""", "auth.password: is required")]
    [InlineData("""{ "type": "sessionLogin", "loginUrl": "/login", "username": "u", "password": "p", "tokenHeader": "X-S", "tokenQuery": "s" }""", "set at most one of 'tokenHeader' and 'tokenQuery'")]
    [InlineData("""{ "type": "basic" }""", "auth.type: must be one of")]
    public void Each_auth_type_checks_its_own_settings(string auth, string problem)
    {
        var config = JsonNode.Parse(KeycloakVendorExample)!.AsObject().With("auth", JsonNode.Parse(auth));

        var error = Assert.Throws<ConnectorException>(() => RestPullSettings.Parse(JsonSerializer.SerializeToElement(config)));

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_schema_is_draft_07_accepts_the_example_and_refuses_a_configuration_without_secret()
    {
        var schema = await JsonSchema.FromJsonAsync(Kind.ConfigurationSchema);
        Assert.Equal("http://json-schema.org/draft-07/schema#", JsonDocument.Parse(Kind.ConfigurationSchema).RootElement.GetProperty("$schema").GetString());

        Assert.Empty(schema.Validate(KeycloakVendorExample));

        var withoutSecret = JsonNode.Parse(KeycloakVendorExample)!.AsObject();
        withoutSecret["auth"]!.AsObject().Remove("clientSecret");
        Assert.NotEmpty(schema.Validate(withoutSecret.ToJsonString()));
    }

    [Fact]
    public void The_schema_marks_exactly_the_key_the_client_secret_and_the_password_as_secrets()
    {
        var secrets = new List<string>();
        void Walk(JsonElement element)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Value.ValueKind == JsonValueKind.Object
                        && property.Value.TryGetProperty("x-secret", out var secret)
                        && secret.ValueKind == JsonValueKind.True)
                    {
                        secrets.Add(property.Name);
                    }

                    Walk(property.Value);
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item);
                }
            }
        }

        Walk(JsonDocument.Parse(Kind.ConfigurationSchema).RootElement);

        Assert.Equal(["clientSecret", "key", "password"], secrets.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_Refit_client_is_the_source_generated_implementation()
    {
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1/") };

        var api = SourceClient.CreateApi(http);

        Assert.Same(typeof(RestPullConnectorKind).Assembly, api.GetType().Assembly);
        Assert.StartsWith("Refit.Implementation.Generated", api.GetType().FullName, StringComparison.Ordinal);
    }
}
