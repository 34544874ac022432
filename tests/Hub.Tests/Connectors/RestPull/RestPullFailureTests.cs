using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Hub.Connectors;
using static Hub.Tests.Connectors.RestPull.RestPullKit;

namespace Hub.Tests.Connectors.RestPull;

public class RestPullFailureTests
{
    /// <summary>A loopback port nobody listens on: connections to it are refused.</summary>
    internal static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task A_refused_connection_is_a_retryable_unreachable_source()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 1);
        var config = Config(tenant).With("baseUrl", $"http://127.0.0.1:{ClosedPort()}/igate");

        var error = await FailsAsync(config);

        Assert.Equal(FailureSide.SourceUnreachable, error.Side);
        Assert.True(error.Retryable);
        Assert.Contains("/igate/paged", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_timeout_is_a_retryable_unreachable_source()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 1);
        using var http = new HttpClient { Timeout = TimeSpan.FromMilliseconds(300) };

        var error = await FailsAsync(Config(tenant, "/slow"), http: http);

        Assert.Equal(FailureSide.SourceUnreachable, error.Side);
        Assert.True(error.Retryable);
        Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_by_the_caller_propagates_as_cancellation()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 1);
        await using var source = Source(Config(tenant, "/slow"));
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => source.PullAsync(null, cancellation.Token));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(429)]
    [InlineData(408)]
    public async Task Server_errors_and_throttling_are_a_retryable_unreachable_source(int status)
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 1);

        var error = await FailsAsync(Config(tenant, $"/status/{status}"));

        Assert.Equal(FailureSide.SourceUnreachable, error.Side);
        Assert.True(error.Retryable);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(404)]
    [InlineData(400)]
    public async Task A_path_or_request_the_source_does_not_know_is_a_configuration_failure(int status)
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 1);

        var error = await FailsAsync(Config(tenant, $"/status/{status}"));

        Assert.Equal(FailureSide.Configuration, error.Side);
        Assert.False(error.Retryable);
    }

    [Fact]
    public async Task A_reply_that_is_not_JSON_is_a_non_retryable_data_failure()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 1);

        var error = await FailsAsync(Config(tenant, "/not-json"));

        Assert.Equal(FailureSide.SourceData, error.Side);
        Assert.False(error.Retryable);
        Assert.Contains("not JSON", error.Message, StringComparison.Ordinal);
        Assert.Contains("/not-json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Items_that_are_not_an_array_or_missing_are_a_non_retryable_data_failure()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 1);

        var notArray = await FailsAsync(Config(tenant, "/no-items"));
        var missing = await FailsAsync(Config(tenant, "/no-items").With("itemsPath", "data.items"));

        Assert.Equal(FailureSide.SourceData, notArray.Side);
        Assert.False(notArray.Retryable);
        Assert.Contains("'content' (itemsPath)", notArray.Message, StringComparison.Ordinal);
        Assert.Contains("not an array", notArray.Message, StringComparison.Ordinal);
        Assert.Equal(FailureSide.SourceData, missing.Side);
        Assert.Contains("has no 'data.items'", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_item_whose_cursor_field_is_not_a_date_is_passed_on_for_quarantine_and_does_not_move_the_cursor()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 1);

        var pages = await RunAsync(Config(tenant, "/bad-cursor-field").With("cursor", Cursor()));

        var item = Assert.Single(Assert.Single(pages).Records);
        Assert.Equal("X1", item.Payload.GetProperty("id").GetString());
        Assert.False(pages[0].HasMore);
        Assert.DoesNotContain("2025-11-18", pages[0].Cursor ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cursor_that_is_not_a_rest_pull_cursor_is_refused()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 1);

        var error = await FailsAsync(Config(tenant), cursor: "page=3");

        Assert.False(error.Retryable);
        Assert.Contains("not a rest-pull cursor", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cursor_of_another_paging_mode_restarts_the_runs_query()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 7);

        var pages = await RunAsync(Config(tenant, "/tokens"), "{\"page\":3}");

        Assert.Equal(tenant.AllIds, pages.Ids());
    }

    [Fact]
    public async Task Record_payloads_outlive_the_reply_they_came_in()
    {
        var tenant = (await RestSourceServer.SharedAsync()).NewTenant(items: 2);

        var pages = await RunAsync(Config(tenant));
        GC.Collect();

        var record = pages[0].Records[0];
        Assert.Equal("H56.14-251118-D000", record.Payload.GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Object, record.Payload.GetProperty("applicant").ValueKind);
    }
}
