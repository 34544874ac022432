using System.Text.Json.Nodes;
using Hub.Connectors;
using static Hub.Tests.Connectors.RestPull.RestPullKit;

namespace Hub.Tests.Connectors.RestPull;

public class RestPullAuthTests
{
    private static JsonObject OAuth2(string secret = SourceTenant.ClientSecret) => new()
    {
        ["type"] = "oauth2ClientCredentials",
        ["tokenUrl"] = "/oauth/token",
        ["clientId"] = SourceTenant.ClientId,
        ["clientSecret"] = secret,
        ["scope"] = "dossier.read",
    };

    private static JsonObject SessionLogin(string password = SourceTenant.Password) => new()
    {
        ["type"] = "sessionLogin",
        ["loginUrl"] = "/login",
        ["username"] = SourceTenant.Username,
        ["password"] = password,
        ["tokenPath"] = "result.session",
    };

    [Fact]
    public async Task The_OAuth2_token_is_requested_once_and_reused_for_every_page()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);
        tenant.Auth = SourceAuth.OAuth2;

        var pages = await RunAsync(Config(tenant).With("auth", OAuth2()));

        Assert.Equal(tenant.AllIds, pages.Ids());
        Assert.Equal(1, tenant.TokenRequestCount);
        Assert.All(tenant.Requests, r => Assert.StartsWith("Bearer at-", r.Headers["Authorization"], StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_OAuth2_token_is_renewed_shortly_before_it_expires()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);
        tenant.Auth = SourceAuth.OAuth2;
        tenant.TokenLifetimeSeconds = 300;
        var time = new ManualTime(new DateTimeOffset(2025, 11, 18, 8, 0, 0, TimeSpan.Zero));
        await using var source = Source(Config(tenant).With("auth", OAuth2()), time: time);

        var page = await source.PullAsync(null, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(260));
        page = await source.PullAsync(page.Cursor, CancellationToken.None);
        Assert.Equal(1, tenant.TokenRequestCount);

        // 300 s of lifetime, renewed 30 s early: at 275 s the token is renewed before the call.
        time.Advance(TimeSpan.FromSeconds(15));
        await source.PullAsync(page.Cursor, CancellationToken.None);
        Assert.Equal(2, tenant.TokenRequestCount);
        var authorizations = tenant.Requests.Select(r => r.Headers["Authorization"]).ToList();
        Assert.Equal(authorizations[0], authorizations[1]);
        Assert.NotEqual(authorizations[1], authorizations[2]);
    }

    [Fact]
    public async Task A_401_drops_the_OAuth2_token_and_the_call_is_retried_once_with_a_new_one()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);
        tenant.Auth = SourceAuth.OAuth2;
        await using var source = Source(Config(tenant).With("auth", OAuth2()));
        var first = await source.PullAsync(null, CancellationToken.None);

        tenant.RevokeCredentials();
        var second = await source.PullAsync(first.Cursor, CancellationToken.None);

        Assert.Equal(5, second.Records.Count);
        Assert.Equal(2, tenant.TokenRequestCount);
        Assert.Equal(3, tenant.Requests.Count);
    }

    [Fact]
    public async Task A_401_with_a_fresh_token_is_a_non_retryable_auth_failure()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 3);
        tenant.Auth = SourceAuth.ApiKey;

        // OAuth2 tokens are valid at the token endpoint but the data route wants an API key: every token is refused.
        var error = await FailsAsync(Config(tenant).With("auth", OAuth2()));

        Assert.Equal(FailureSide.SourceAuth, error.Side);
        Assert.False(error.Retryable);
        Assert.Equal(2, tenant.TokenRequestCount);
        Assert.Equal(2, tenant.Requests.Count);
        Assert.Contains("401", error.Message, StringComparison.Ordinal);
        Assert.Contains($"/t/{tenant.Id}/paged", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refused_client_credentials_are_a_non_retryable_auth_failure_that_does_not_show_the_secret()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 3);
        tenant.Auth = SourceAuth.OAuth2;

        var error = await FailsAsync(Config(tenant).With("auth", OAuth2(secret: "wrong-secret-value")));

        Assert.Equal(FailureSide.SourceAuth, error.Side);
        Assert.False(error.Retryable);
        Assert.Contains("invalid_client", error.Message, StringComparison.Ordinal);
        Assert.Contains("/oauth/token", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret-value", error.Message, StringComparison.Ordinal);
        Assert.Empty(tenant.Requests);
    }

    [Fact]
    public async Task A_token_endpoint_that_is_down_is_a_retryable_unreachable_source()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 3);
        tenant.Auth = SourceAuth.OAuth2;
        tenant.TokenEndpointStatus = 503;

        var error = await FailsAsync(Config(tenant).With("auth", OAuth2()));

        Assert.Equal(FailureSide.SourceUnreachable, error.Side);
        Assert.True(error.Retryable);
    }

    [Fact]
    public async Task Session_login_sends_the_session_as_a_bearer_token_and_logs_in_again_after_a_401()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);
        tenant.Auth = SourceAuth.SessionBearer;
        await using var source = Source(Config(tenant).With("auth", SessionLogin()));

        var first = await source.PullAsync(null, CancellationToken.None);
        var second = await source.PullAsync(first.Cursor, CancellationToken.None);
        Assert.Equal(1, tenant.LoginCount);

        tenant.RevokeCredentials();
        await source.PullAsync(second.Cursor, CancellationToken.None);
        Assert.Equal(2, tenant.LoginCount);
        Assert.Equal(4, tenant.Requests.Count);
    }

    [Fact]
    public async Task Session_login_can_use_other_field_names_and_send_the_session_in_a_header_of_its_own()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 7);
        tenant.Auth = SourceAuth.SessionHeader;
        tenant.LoginUserField = "user";
        tenant.LoginPasswordField = "pass";
        var auth = SessionLogin();
        auth["usernameField"] = "user";
        auth["passwordField"] = "pass";
        auth["tokenHeader"] = "X-Session";

        var pages = await RunAsync(Config(tenant).With("auth", auth));

        Assert.Equal(tenant.AllIds, pages.Ids());
        Assert.All(tenant.Requests, r => Assert.False(r.Headers.ContainsKey("Authorization")));
    }

    [Fact]
    public async Task Session_login_can_send_the_session_as_a_query_parameter_and_keeps_it_out_of_messages()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 7);
        tenant.Auth = SourceAuth.SessionQuery;
        var auth = SessionLogin();
        auth["tokenQuery"] = "session";

        var pages = await RunAsync(Config(tenant).With("auth", auth));
        Assert.Equal(tenant.AllIds, pages.Ids());

        tenant.ForbidData = true;
        var error = await FailsAsync(Config(tenant).With("auth", auth.DeepClone()));
        Assert.Equal(FailureSide.SourceAuth, error.Side);
        Assert.DoesNotContain("session=", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("?", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_login_that_answers_no_session_is_a_non_retryable_auth_failure()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 3);
        tenant.Auth = SourceAuth.SessionBearer;

        var error = await FailsAsync(Config(tenant).With("auth", SessionLogin(password: "wrong-password-value")));

        Assert.Equal(FailureSide.SourceAuth, error.Side);
        Assert.False(error.Retryable);
        Assert.Contains("result.session", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password-value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_API_key_goes_in_its_header_with_the_static_headers()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 7);
        tenant.Auth = SourceAuth.ApiKey;
        var config = Config(tenant)
            .With("auth", new JsonObject { ["type"] = "apiKey", ["header"] = "X-API-Key", ["key"] = SourceTenant.ApiKey })
            .With("headers", new JsonObject { ["X-Tenant"] = "H56" });

        var pages = await RunAsync(config);

        Assert.Equal(tenant.AllIds, pages.Ids());
        Assert.All(tenant.Requests, r => Assert.Equal(SourceTenant.ApiKey, r.Headers["X-API-Key"]));
        Assert.All(tenant.Requests, r => Assert.Equal("H56", r.Headers["X-Tenant"]));
    }

    [Fact]
    public async Task A_wrong_API_key_is_a_non_retryable_auth_failure_and_a_403_too()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 3);
        tenant.Auth = SourceAuth.ApiKey;
        var config = Config(tenant).With("auth", new JsonObject { ["type"] = "apiKey", ["key"] = "wrong-key-value" });

        var unauthorized = await FailsAsync(config);
        Assert.Equal(FailureSide.SourceAuth, unauthorized.Side);
        Assert.False(unauthorized.Retryable);
        Assert.Single(tenant.Requests);
        Assert.DoesNotContain("wrong-key-value", unauthorized.Message, StringComparison.Ordinal);

        tenant.Auth = SourceAuth.None;
        tenant.ForbidData = true;
        var forbidden = await FailsAsync(config);
        Assert.Equal(FailureSide.SourceAuth, forbidden.Side);
        Assert.False(forbidden.Retryable);
        Assert.Contains("403", forbidden.Message, StringComparison.Ordinal);
    }
}
