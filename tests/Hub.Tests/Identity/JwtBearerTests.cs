using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Hub.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace Hub.Tests.Identity;

/// <summary>Tokens of a test identity provider: an RSA key of its own, its issuer and the hub as audience.</summary>
public sealed class TestIdentityProvider : IDisposable
{
    public const string Issuer = "https://idp.example.test/realms/hub";
    public const string Audience = "hub-api";

    private readonly RSA _rsa = RSA.Create(2048);

    public TestIdentityProvider(string keyId)
    {
        Key = new RsaSecurityKey(_rsa) { KeyId = keyId };
    }

    public RsaSecurityKey Key { get; }

    public string PublicKeyPem => _rsa.ExportSubjectPublicKeyInfoPem();

    /// <summary>A signed token for <paramref name="subject"/> without <c>exp</c>.</summary>
    public string TokenWithoutExpiry(string subject) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.RsaSha256),
        });

    /// <summary>The public key as a JWKS document.</summary>
    public object Jwks()
    {
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_rsa.ExportParameters(false)) { KeyId = Key.KeyId });
        return new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } };
    }

    /// <summary>A token for <paramref name="subject"/>, valid now unless <paramref name="expires"/> says otherwise; unsigned when <paramref name="signed"/> is false.</summary>
    public string Token(string subject, string issuer = Issuer, string audience = Audience, DateTime? expires = null, bool signed = true) =>
        Token(subject, Key, issuer, audience, expires, signed);

    public static string Token(string subject, SecurityKey key, string issuer = Issuer, string audience = Audience, DateTime? expires = null, bool signed = true)
    {
        var exp = expires ?? DateTime.UtcNow.AddMinutes(10);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            IssuedAt = exp.AddMinutes(-20),
            NotBefore = exp.AddMinutes(-20),
            Expires = exp,
            SigningCredentials = signed ? new SigningCredentials(key, SecurityAlgorithms.RsaSha256) : null,
        });
    }

    public void Dispose() => _rsa.Dispose();
}

/// <summary>A real hub that accepts the test provider's tokens, its public key given as a PEM file (<c>SigningKeyFile</c>).</summary>
public sealed class JwtHub : IAsyncLifetime
{
    private string _work = "";

    public TestIdentityProvider Provider { get; } = new("file-key");

    public NpgsqlDataSource Db { get; private set; } = null!;

    public HubProcess Process { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateSchemaAsync("jwt_file");
        _work = Directory.CreateTempSubdirectory("hub-jwt-").FullName;
        var keyFile = Path.Combine(_work, "idp.pem");
        await File.WriteAllTextAsync(keyFile, Provider.PublicKeyPem);
        Process = HubProcess.Start(_work, new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = Db.ConnectionString,
            ["Hub__Audit__SealInterval"] = "01:00:00",
            ["Hub__Identity__Jwt__Issuer"] = TestIdentityProvider.Issuer,
            ["Hub__Identity__Jwt__Audience"] = TestIdentityProvider.Audience,
            ["Hub__Identity__Jwt__SigningKeyFile"] = keyFile,
        });
        await Process.WaitReadyAsync(TimeSpan.FromSeconds(90));
    }

    public HttpClient WithToken(string token)
    {
        var client = new HttpClient { BaseAddress = Process.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async Task DisposeAsync()
    {
        await Process.DisposeAsync();
        await Db.DisposeAsync();
        Provider.Dispose();
        Directory.Delete(_work, recursive: true);
    }
}

/// <summary>JWT bearer tokens from an external identity provider: the provider authenticates, the hub authorises.</summary>
public sealed class JwtBearerTests(JwtHub hub) : IClassFixture<JwtHub>
{
    private static string Tag() => Guid.NewGuid().ToString("N")[..8];

    internal static async Task CreatePrincipalAsync(HttpClient admin, string id, object[] roles)
    {
        using var created = await admin.PostAsJsonAsync("/api/principals", new { id, displayName = "Token user " + id, roles });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
    }

    internal static async Task<string> ProblemDetailAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"expected 401, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
        return problem.GetProperty("detail").GetString()!;
    }

    [Fact]
    public async Task A_token_for_a_province_admin_reaches_its_me_with_the_hubs_grants_and_gets_403_on_an_operator_route()
    {
        var id = "pa-" + Tag();
        await CreatePrincipalAsync(hub.Process.Client, id, [new { role = "province-admin", agency = "H56" }]);
        using var client = hub.WithToken(hub.Provider.Token(id));

        using var me = await client.GetAsync("/api/me");
        using var exchange = await client.GetAsync("/api/exchange");
        using var seal = await client.PostAsync("/api/exchange/checkpoints", null);

        var body = await me.Content.ReadAsStringAsync();
        Assert.True(me.StatusCode == HttpStatusCode.OK, body);
        var view = JsonDocument.Parse(body).RootElement;
        Assert.Equal(id, view.GetProperty("id").GetString());
        Assert.Equal("province-admin", view.GetProperty("roles")[0].GetProperty("role").GetString());
        Assert.Equal("H56", view.GetProperty("roles")[0].GetProperty("agency").GetString());
        foreach (var refused in new[] { exchange, seal })
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains($"{id} (roles: province-admin) may not", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Bad_tokens_get_401_problem_details_saying_why()
    {
        var id = "ops-" + Tag();
        var disabled = "gone-" + Tag();
        await CreatePrincipalAsync(hub.Process.Client, id, [new { role = "operator" }]);
        await CreatePrincipalAsync(hub.Process.Client, disabled, [new { role = "operator" }]);
        using (var disable = await hub.Process.Client.PostAsync($"/api/principals/{disabled}/disable?reason=test", null))
        {
            Assert.Equal(HttpStatusCode.OK, disable.StatusCode);
        }

        using var otherKey = new TestIdentityProvider("file-key");
        var cases = new (string Name, string Token, string Why)[]
        {
            ("expired", hub.Provider.Token(id, expires: DateTime.UtcNow.AddMinutes(-5)), "the token expired at"),
            ("no expiry", hub.Provider.TokenWithoutExpiry(id), "the token has no expiry"),
            ("wrong audience", hub.Provider.Token(id, audience: "someone-else"), "the token's audience 'someone-else' is not 'hub-api'"),
            ("wrong issuer", hub.Provider.Token(id, issuer: "https://evil.example.test"), "the token's issuer 'https://evil.example.test' is not"),
            ("wrong key", otherKey.Token(id), "sign"),
            ("unsigned", hub.Provider.Token(id, signed: false), "signature is missing or not valid"),
            ("malformed", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "not a well-formed JWT"),
            ("unknown principal", hub.Provider.Token("nobody-" + Tag()), "is not a principal of the hub"),
            ("disabled principal", hub.Provider.Token(disabled), $"principal '{disabled}' is disabled"),
        };

        foreach (var (name, token, why) in cases)
        {
            using var client = hub.WithToken(token);
            using var response = await client.GetAsync("/api/me");
            var detail = await ProblemDetailAsync(response);
            Assert.True(detail.Contains(why, StringComparison.Ordinal), $"{name}: '{detail}' does not say '{why}'");
            Assert.DoesNotContain(token, detail, StringComparison.Ordinal);
        }

        // The same principal with a good token, and the hub's own API keys, still get in.
        using var good = hub.WithToken(hub.Provider.Token(id));
        using var ok = await good.GetAsync("/api/me");
        using var key = await hub.Process.Client.GetAsync("/api/me");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.OK, key.StatusCode);
    }

    [Fact]
    public async Task Api_keys_in_either_header_and_the_bootstrap_key_still_work_beside_tokens_and_a_call_without_either_is_told_both()
    {
        using var bootstrap = hub.WithToken(HubProcess.TestBootstrapKey);
        using var viaHeader = new HttpClient { BaseAddress = hub.Process.BaseAddress };
        viaHeader.DefaultRequestHeaders.Add("X-Api-Key", hub.Process.Client.DefaultRequestHeaders.Authorization!.Parameter);
        using var unknown = hub.WithToken("hub_aaaaaaaaaaaa_" + new string('A', 43));
        using var anonymous = new HttpClient { BaseAddress = hub.Process.BaseAddress };

        using var bootstrapMe = await bootstrap.GetAsync("/api/me");
        using var headerMe = await viaHeader.GetAsync("/api/me");
        using var unknownMe = await unknown.GetAsync("/api/me");
        using var nobody = await anonymous.GetAsync("/api/me");

        Assert.Equal(HttpStatusCode.OK, bootstrapMe.StatusCode);
        Assert.Equal(HttpStatusCode.OK, headerMe.StatusCode);
        Assert.Contains("the API key is not known", await ProblemDetailAsync(unknownMe), StringComparison.Ordinal);
        Assert.Contains("or a bearer token from the identity provider: no API key was presented", await ProblemDetailAsync(nobody), StringComparison.Ordinal);
    }
}

/// <summary>Authority mode against a real OpenID Connect discovery document and JWKS served on loopback; a hub without JWT; bad settings.</summary>
public sealed class JwtAuthorityTests
{
    [Fact]
    public async Task A_hub_with_an_authority_accepts_tokens_signed_with_a_key_from_the_providers_jwks()
    {
        using var provider = new TestIdentityProvider("jwks-key-1");
        await using var idp = await StartProviderAsync(provider);
        var authority = idp.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        await using var db = await TestDatabase.CreateSchemaAsync("jwt_authority");
        var work = Directory.CreateTempSubdirectory("hub-jwt-authority-").FullName;
        try
        {
            await using var hub = HubProcess.Start(work, new Dictionary<string, string>
            {
                ["ConnectionStrings__Hub"] = db.ConnectionString,
                ["Hub__Audit__SealInterval"] = "01:00:00",
                ["Hub__Identity__Jwt__Issuer"] = TestIdentityProvider.Issuer,
                ["Hub__Identity__Jwt__Audience"] = TestIdentityProvider.Audience,
                ["Hub__Identity__Jwt__Authority"] = authority,
                ["Hub__Identity__Jwt__RequireHttpsMetadata"] = "false",
            });
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(90));
            var id = "auditor-" + Guid.NewGuid().ToString("N")[..8];
            await JwtBearerTests.CreatePrincipalAsync(hub.Client, id, [new { role = "auditor" }]);
            using var stranger = new TestIdentityProvider("jwks-key-1");

            using var client = new HttpClient { BaseAddress = hub.BaseAddress };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", provider.Token(id));
            using var me = await client.GetAsync("/api/me");
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", stranger.Token(id));
            using var forged = await client.GetAsync("/api/me");

            Assert.True(me.StatusCode == HttpStatusCode.OK, await me.Content.ReadAsStringAsync() + hub.Output);
            Assert.Equal(id, (await me.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
            Assert.Contains("sign", await JwtBearerTests.ProblemDetailAsync(forged), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task Without_jwt_settings_a_token_gets_the_api_key_401_and_keys_work_as_before()
    {
        using var provider = new TestIdentityProvider("unused");
        await using var db = await TestDatabase.CreateSchemaAsync("jwt_off");
        var work = Directory.CreateTempSubdirectory("hub-jwt-off-").FullName;
        try
        {
            await using var hub = HubProcess.Start(work, new Dictionary<string, string> { ["ConnectionStrings__Hub"] = db.ConnectionString });
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(90));
            var id = "ops-" + Guid.NewGuid().ToString("N")[..8];
            await JwtBearerTests.CreatePrincipalAsync(hub.Client, id, [new { role = "operator" }]);

            using var client = new HttpClient { BaseAddress = hub.BaseAddress };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", provider.Token(id));
            using var token = await client.GetAsync("/api/me");
            using var key = await hub.Client.GetAsync("/api/me");

            Assert.Contains("needs an API key", await JwtBearerTests.ProblemDetailAsync(token), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, key.StatusCode);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task Bad_jwt_settings_stop_the_start_listing_every_problem()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("jwt_bad");
        var work = Directory.CreateTempSubdirectory("hub-jwt-bad-").FullName;
        try
        {
            using var rsa = RSA.Create(2048);
            var privateKey = Path.Combine(work, "private.pem");
            await File.WriteAllTextAsync(privateKey, rsa.ExportPkcs8PrivateKeyPem());
            await using var hub = HubProcess.Start(work, new Dictionary<string, string>
            {
                ["ConnectionStrings__Hub"] = db.ConnectionString,
                ["Hub__Identity__Jwt__Issuer"] = TestIdentityProvider.Issuer,
                ["Hub__Identity__Jwt__SigningKeyFile"] = privateKey,
                ["Hub__Identity__Jwt__ClockSkew"] = "00:10:00",
            });
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!hub.HasExited && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(200);
            }

            Assert.True(hub.HasExited, "the hub started with bad JWT settings:\n" + hub.Output);
            Assert.NotEqual(0, hub.ExitCode);
            Assert.Contains("Hub:Identity:Jwt:Audience is required", hub.Output, StringComparison.Ordinal);
            Assert.Contains("holds a 'PRIVATE KEY' block: only public keys", hub.Output, StringComparison.Ordinal);
            Assert.Contains("Hub:Identity:Jwt:ClockSkew must be between 0 and 5 minutes", hub.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>An identity provider's discovery document and JWKS on loopback, over plain HTTP.</summary>
    private static async Task<WebApplication> StartProviderAsync(TestIdentityProvider provider)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/.well-known/openid-configuration", (HttpContext http) => Results.Json(new
        {
            issuer = TestIdentityProvider.Issuer,
            jwks_uri = $"{http.Request.Scheme}://{http.Request.Host}/jwks",
            id_token_signing_alg_values_supported = new[] { "RS256" },
        }));
        app.MapGet("/jwks", () => Results.Json(provider.Jwks()));
        await app.StartAsync();
        return app;
    }
}
