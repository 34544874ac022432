using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors;
using Hub.Connectors.Mapping;
using Hub.Core.Sync;
using Hub.Tests.Connectors.RestPull;
using Hub.Tests.Infrastructure;
using Hub.Tests.Sync;
using Hub.Worker.Sync;

namespace Hub.Tests.Audit;

/// <summary>
/// What a pull run leaves in the exchange log: each stored page as an inbound entry in its transaction, the requests
/// that fetched it as outbound entries (never a credential), and a page the source failed to deliver as a rejected
/// entry with the reason and whatever the source answered.
/// </summary>
public class PullExchangeTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static ConnectorRegistration RestConnector(string id, JsonObject configuration) => new()
    {
        Id = id,
        Kind = "rest-pull",
        SourceSystem = "sys-" + id,
        DisplayName = id,
        Configuration = JsonSerializer.SerializeToElement(configuration),
        Mapping = new MappingDefinition
        {
            Version = "rest-test/1",
            StatusCodes = new Dictionary<string, int> { ["2"] = 4 },
            Dossier = new Dictionary<string, FieldMapping>
            {
                ["NativeId"] = "id",
                ["DossierCode"] = "code",
                ["EventTime"] = "updatedDate",
                ["Status"] = "dossierStatus.id",
            },
        },
        QuarantineThreshold = 1,
    };

    [Fact]
    public async Task A_scripted_source_that_fails_at_its_second_page_leaves_the_first_page_stored_and_the_failure_rejected()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("pull_exchange_fail");
        using var hub = new SyncHarness(db, new ScriptedPullKind());
        var feed = new ScriptedFeed { FailAtPage = 1 };
        feed.Pages.Add([SyncHarness.Record("A", 1, 2), SyncHarness.Record("B", 2, 2)]);
        feed.Pages.Add([SyncHarness.Record("C", 3, 2)]);
        ScriptedPullKind.Feeds["px-fail"] = feed;
        await hub.Catalog.SaveAsync(SyncHarness.Scripted("px-fail", "px-fail"), None);

        var run = await hub.Runner.RunAsync("px-fail", SyncTrigger.Manual, None);

        Assert.Equal(RunOutcome.Failed, run.Outcome);
        var entries = (await LogCheck.EntriesAsync(db, "px-fail")).Where(e => e.Kind == "message").ToList();
        Assert.Equal(["stored", "rejected"], entries.Select(e => e.Outcome));
        var (page, rejected) = (entries[0], entries[1]);

        // A connector that cannot hand over the bytes it read: the records' JSON, marked by its media type.
        Assert.Equal(SyncRunner.RecordsContentType, page.ContentType);
        Assert.Equal(["C-A", "C-B"], page.Dossiers);
        Assert.Equal((run.Id, "simple/1"), (page.RunId!.Value, page.MappingVersion));
        using (var records = JsonDocument.Parse(await LogCheck.PayloadAsync(db, page)))
        {
            Assert.Equal(["A", "B"], records.RootElement.EnumerateArray().Select(r => r.GetProperty("record").GetProperty("id").GetString()));
        }

        Assert.Equal("scripted failure at page 1", rejected.Reason);
        Assert.Equal(run.Id, rejected.RunId);
        Assert.Null(rejected.PayloadSha256);
        Assert.Contains("\"side\":\"SourceUnreachable\"", rejected.Detail, StringComparison.Ordinal);
        await LogCheck.SealAndVerifyAsync(db);
    }

    [Fact]
    public async Task A_rest_page_is_logged_as_the_bytes_received_and_its_requests_keep_neither_the_password_nor_the_session()
    {
        var server = await RestSourceServer.SharedAsync();
        var tenant = server.NewTenant(items: 12);
        tenant.Auth = SourceAuth.SessionQuery;
        var auth = new JsonObject
        {
            ["type"] = "sessionLogin",
            ["loginUrl"] = "/login",
            ["username"] = SourceTenant.Username,
            ["password"] = SourceTenant.Password,
            ["tokenPath"] = "result.session",
            ["tokenQuery"] = "session",
        };
        await using var db = await TestDatabase.CreateSchemaAsync("pull_exchange_rest");
        using var hub = new SyncHarness(db, RestPullKit.Kind);
        await hub.Catalog.SaveAsync(RestConnector("px-rest", RestPullKit.Config(tenant, pageSize: 5).With("auth", auth)), None);

        var run = await hub.Runner.RunAsync("px-rest", SyncTrigger.Manual, None);

        Assert.Equal(3, run.Counts.Pages);
        var entries = (await LogCheck.EntriesAsync(db, "px-rest")).Where(e => e.Kind == "message").ToList();
        var pages = entries.Where(e => e.Direction == "inbound").ToList();
        Assert.Equal(3, pages.Count);
        var ids = new List<string>();
        foreach (var page in pages)
        {
            Assert.StartsWith("application/json", page.ContentType, StringComparison.Ordinal);
            using var json = JsonDocument.Parse(await LogCheck.PayloadAsync(db, page));
            ids.AddRange(json.RootElement.GetProperty("content").EnumerateArray().Select(i => i.GetProperty("id").GetString()!));
        }

        Assert.Equal(tenant.Items().Select(i => i.Id), ids);

        // Sent: one log-in (withheld, no hash) and one search per page, logged before the page, without the session.
        var sent = entries.Where(e => e.Direction == "outbound").ToList();
        var login = Assert.Single(sent, e => e.PayloadWithheld is not null);
        Assert.Null(login.PayloadSha256);
        Assert.Contains("\"method\":\"POST\"", login.Detail, StringComparison.Ordinal);
        var searches = sent.Where(e => e.PayloadWithheld is null).ToList();
        Assert.Equal(3, searches.Count);
        Assert.All(searches, s => Assert.True(entries.IndexOf(s) < entries.IndexOf(pages[searches.IndexOf(s)])));
        var sessions = tenant.Sessions.Keys.ToList();
        Assert.NotEmpty(sessions);
        var everything = string.Join("\n", entries.Select(e => e.Detail + e.Reason));
        Assert.All(sessions, session => Assert.DoesNotContain(session, everything, StringComparison.Ordinal));
        Assert.DoesNotContain(SourceTenant.Password, everything, StringComparison.Ordinal);
        Assert.Contains("page=0", searches[0].Detail, StringComparison.Ordinal);
        await LogCheck.SealAndVerifyAsync(db);
    }

    [Fact]
    public async Task A_page_that_is_not_json_is_rejected_with_the_reason_and_the_bytes_the_source_sent()
    {
        var server = await RestSourceServer.SharedAsync();
        var tenant = server.NewTenant();
        await using var db = await TestDatabase.CreateSchemaAsync("pull_exchange_notjson");
        using var hub = new SyncHarness(db, RestPullKit.Kind);
        await hub.Catalog.SaveAsync(RestConnector("px-html", RestPullKit.Config(tenant, "/not-json")), None);

        var run = await hub.Runner.RunAsync("px-html", SyncTrigger.Manual, None);

        Assert.Equal((RunOutcome.Failed, FailureSide.SourceData), (run.Outcome, run.Failure!.Side));
        var rejected = Assert.Single(await LogCheck.EntriesAsync(db, "px-html"), e => e.Direction == "inbound");
        Assert.Equal("rejected", rejected.Outcome);
        Assert.Equal(run.Failure.Reason, rejected.Reason);
        Assert.Contains("with a body that is not JSON", rejected.Reason, StringComparison.Ordinal);
        Assert.StartsWith("text/html", rejected.ContentType, StringComparison.Ordinal);
        Assert.Equal("<html><body>Maintenance</body></html>", Encoding.UTF8.GetString(await LogCheck.PayloadAsync(db, rejected)));
        await LogCheck.SealAndVerifyAsync(db);
    }
}
