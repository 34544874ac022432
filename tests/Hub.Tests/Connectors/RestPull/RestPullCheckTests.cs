using System.Text.Json.Nodes;
using Hub.Connectors;
using static Hub.Tests.Connectors.RestPull.RestPullKit;

namespace Hub.Tests.Connectors.RestPull;

public class RestPullCheckTests
{
    private static JsonObject OAuth2(string secret) => new()
    {
        ["type"] = "oauth2ClientCredentials",
        ["tokenUrl"] = "/oauth/token",
        ["clientId"] = SourceTenant.ClientId,
        ["clientSecret"] = secret,
    };

    private static async Task<CheckResult> CheckAsync(JsonObject config)
    {
        await using var source = Source(config);
        return await source.CheckAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_working_configuration_reads_one_page_and_moves_no_cursor()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 23);
        tenant.Auth = SourceAuth.OAuth2;

        var result = await CheckAsync(Config(tenant).With("auth", OAuth2(SourceTenant.ClientSecret)).With("cursor", Cursor()));

        Assert.True(result.Succeeded);
        Assert.Equal(CheckStage.Read, result.Stage);
        Assert.Equal(5, result.RecordsRead);
        Assert.Contains("more pages follow", result.Message, StringComparison.Ordinal);
        Assert.Single(tenant.Requests);
        Assert.DoesNotContain(SourceTenant.ClientSecret, result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_source_that_cannot_be_reached_fails_at_the_reach_stage()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 1);
        var closed = $"http://127.0.0.1:{RestPullFailureTests.ClosedPort()}";

        var noAuth = await CheckAsync(Config(tenant).With("baseUrl", closed));
        var withToken = await CheckAsync(Config(tenant).With("baseUrl", closed).With("auth", OAuth2(SourceTenant.ClientSecret)));

        Assert.Equal((false, CheckStage.Reach), (noAuth.Succeeded, noAuth.Stage));
        Assert.Equal((false, CheckStage.Reach), (withToken.Succeeded, withToken.Stage));
    }

    [Fact]
    public async Task Refused_credentials_fail_at_the_authenticate_stage()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 1);
        tenant.Auth = SourceAuth.ApiKey;

        var badSecret = await CheckAsync(Config(tenant).With("auth", OAuth2("wrong-secret-value")));
        var badKey = await CheckAsync(Config(tenant).With("auth", new JsonObject { ["type"] = "apiKey", ["key"] = "wrong-key-value" }));

        Assert.Equal((false, CheckStage.Authenticate), (badSecret.Succeeded, badSecret.Stage));
        Assert.Equal((false, CheckStage.Authenticate), (badKey.Succeeded, badKey.Stage));
        Assert.DoesNotContain("wrong-secret-value", badSecret.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-key-value", badKey.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reply_the_connector_cannot_read_fails_at_the_read_stage()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 1);

        var notJson = await CheckAsync(Config(tenant, "/not-json"));
        var noItems = await CheckAsync(Config(tenant, "/no-items"));

        Assert.Equal((false, CheckStage.Read), (notJson.Succeeded, notJson.Stage));
        Assert.Equal((false, CheckStage.Read), (noItems.Succeeded, noItems.Stage));
        Assert.Contains("itemsPath", noItems.Message, StringComparison.Ordinal);
    }
}
