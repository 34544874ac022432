using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hub.Contracts;
using Hub.Core.Audit;
using Hub.Tests.Infrastructure;
using Hub.Tests.Subscribers;
using Npgsql;

namespace Hub.Tests.Dashboard;

/// <summary>A hub process with subscriptions delivering quickly, for the subscription pages' tests.</summary>
public sealed class SubscriptionPagesHub : IAsyncLifetime
{
    private string _work = "";

    public NpgsqlDataSource Db { get; private set; } = null!;

    public HubProcess Process { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateSchemaAsync("subscription_pages");
        _work = Directory.CreateTempSubdirectory("hub-subscription-pages-").FullName;
        Process = HubProcess.Start(_work, SubscriberDeliveryTests.Settings(Db));
        await Process.WaitReadyAsync(TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        await Process.DisposeAsync();
        await Db.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }
}

/// <summary>
/// The subscription pages over plain HTTP with dashboard sessions, against a real hub delivering to real webhook
/// endpoints: operators see every subscription's delivery counts and a subscription's dead letters, and replay them
/// with a reason; other roles are refused; no page shows a subscription's configuration.
/// </summary>
public sealed partial class SubscriptionPagesTests(SubscriptionPagesHub hub) : IClassFixture<SubscriptionPagesHub>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_operator_sees_the_counts_and_dead_letters_and_replays_them_only_with_a_reason()
    {
        await using var failing = await WebhookSubscriber.StartAsync();
        await using var healthy = await WebhookSubscriber.StartAsync();
        failing.Status = 503;
        var (operatorClient, operatorId) = await hub.Process.PrincipalClientAsync("subs-page-operator", new { role = "operator" });
        using var _ = operatorClient;
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var ministry = "ministry-" + suffix;
        var copy = "copy-" + suffix;
        await SubscriberDeliveryTests.PutAsync(operatorClient, failing.Registration(ministry,
            delivery: new { maxAttempts = 2, retryBaseDelay = "00:00:00.200", maxRetryDelay = "00:00:00.400" },
            resilience: new { maxRetries = 0, circuitMinimumThroughput = 100000 }));
        await SubscriberDeliveryTests.PutAsync(operatorClient, healthy.Registration(copy,
            filter: new { agencies = new[] { "*.H56" }, statuses = new[] { 2 } }));

        // Three dossiers of H56, each with a change and a step: six events for each subscription.
        var system = "pages-" + suffix;
        var ids = new[] { "D1", "D2", "D3" };
        var batch = new ChangeBatch
        {
            Dossiers = [.. ids.Select((id, i) => Changes.Change(system, id, i, NationalStatus.Received))],
            Steps = [.. ids.Select((id, i) => Changes.Step(system, id, i, NationalStatus.Received, "Receive"))],
        };
        var codes = ids.Select(id => $"{system}-{id}").ToList();
        await Changes.Store(hub.Db).WriteAsync(batch, CancellationToken.None);
        const int events = 6;

        await SubscriberDeliveryTests.WaitUntilAsync(async () => Count(await SubscriberDeliveryTests.SubscriptionAsync(operatorClient, ministry), "dead") == events
            && Count(await SubscriberDeliveryTests.SubscriptionAsync(operatorClient, copy), "delivered") == events, Patience, "the dead letters and the healthy deliveries");

        using var session = await DashboardSession.SignInAsync(hub.Process.BaseAddress, DashboardSession.KeyOf(operatorClient));

        // The list: both subscriptions with their kind, state, filters and counts; the dead count links to the subscription's page.
        var list = await PageAsync(session, "/ui/subscriptions");
        Assert.Contains("href=\"/ui/subscriptions\" id=\"subscriptions\"", list, StringComparison.Ordinal);
        Assert.Equal(("0", "0", "0", "6"), CountsOf(list, ministry));
        Assert.Equal(("0", "0", "6", "0"), CountsOf(list, copy));
        var copyRow = RowOf(list, copy);
        Assert.Contains("*.H56", copyRow, StringComparison.Ordinal);
        Assert.Contains("2 Received", copyRow, StringComparison.Ordinal);
        Assert.Contains("signed-webhook", copyRow, StringComparison.Ordinal);
        Assert.Contains("<td class=\"state active\">active</td>", copyRow, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/ui/subscriptions/{ministry}#dead\">6</a>", RowOf(list, ministry), StringComparison.Ordinal);

        // The subscription's page: its dead letters with their dossiers and why they failed.
        var page = await PageAsync(session, $"/ui/subscriptions/{ministry}");
        var dead = DeadRows(page);
        Assert.Equal(events, dead.Count);
        Assert.Equal(codes, dead.Select(d => d.Dossier).Distinct().Order(StringComparer.Ordinal));
        foreach (var code in codes)
        {
            Assert.Contains($"<a href=\"/ui/dossiers/{code}\">{code}</a>", page, StringComparison.Ordinal);
        }

        Assert.All(dead, d => Assert.Contains("HTTP 503", d.Html, StringComparison.Ordinal));
        Assert.Equal(dead.Select(d => d.Id).OrderDescending(), dead.Select(d => d.Id));
        Assert.Contains("<tr data-status=\"dead\"><th>dead</th><td>6</td></tr>", page, StringComparison.Ordinal);

        // A replay without a reason shows the form again with the error and replays nothing.
        var token = Token().Match(page).Groups[1].Value;
        Assert.NotEmpty(token);
        using (var noReason = await session.PostAsync($"/ui/subscriptions/{ministry}?handler=Replay", Form(token, "  ")))
        {
            var html = await noReason.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
            Assert.Contains("id=\"reason-error\"", html, StringComparison.Ordinal);
            Assert.Contains("Nothing was replayed", html, StringComparison.Ordinal);
            Assert.Equal(events, DeadRows(html).Count);
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(events, Count(await SubscriberDeliveryTests.SubscriptionAsync(operatorClient, ministry), "dead"));
        Assert.Empty(failing.Events);
        var log = new ExchangeLog(hub.Db, TimeProvider.System);
        Assert.DoesNotContain(await LogAsync(log, ministry), e => e.Action == "deliveries.replayed");

        // Repaired, then replayed with a reason: the page confirms the count, and every event reaches the endpoint.
        failing.Status = 200;
        using (var replay = await session.PostAsync($"/ui/subscriptions/{ministry}?handler=Replay", Form(token, "ministry endpoint repaired")))
        {
            Assert.Equal(HttpStatusCode.Redirect, replay.StatusCode);
            Assert.Equal($"/ui/subscriptions/{ministry}", replay.Headers.Location!.OriginalString);
            var confirmed = await PageAsync(session, replay.Headers.Location.OriginalString);
            Assert.Contains("6 dead letter(s) replayed", confirmed, StringComparison.Ordinal);
        }

        await SubscriberDeliveryTests.WaitUntilAsync(async () => Count(await SubscriberDeliveryTests.SubscriptionAsync(operatorClient, ministry), "delivered") == events,
            Patience, "the replayed events to be delivered");
        Assert.Equal(healthy.EventIds, failing.EventIds);
        Assert.Equal(events, failing.EventIds.Count);
        var after = await PageAsync(session, $"/ui/subscriptions/{ministry}");
        Assert.Contains("<tr data-status=\"dead\"><th>dead</th><td>0</td></tr>", after, StringComparison.Ordinal);
        Assert.Contains("<tr data-status=\"delivered\"><th>delivered</th><td>6</td></tr>", after, StringComparison.Ordinal);
        Assert.Empty(DeadRows(after));
        var listAfter = await PageAsync(session, "/ui/subscriptions");
        Assert.Equal(("0", "0", "6", "0"), CountsOf(listAfter, ministry));

        var replayed = Assert.Single(await LogAsync(log, ministry), e => e.Action == "deliveries.replayed");
        Assert.Equal(operatorId, replayed.Actor);
        Assert.Equal("ministry endpoint repaired", replayed.Reason);
        Assert.Equal(codes, replayed.Dossiers.ToList());

        // No page shows a subscription's secret, and the settings shown are not its configuration (a delivery's last
        // error may name the endpoint it posted to, as the API's delivery list does).
        foreach (var html in new[] { list, page, after, listAfter, await PageAsync(session, $"/ui/subscriptions/{copy}") })
        {
            Assert.DoesNotContain(failing.Secret, html, StringComparison.Ordinal);
            Assert.DoesNotContain(healthy.Secret, html, StringComparison.Ordinal);
            var settings = Regex.Match(html, "<table class=\"facts\" id=\"settings\">.*?</table>", RegexOptions.Singleline).Value;
            Assert.DoesNotContain("127.0.0.1", settings, StringComparison.Ordinal);
            Assert.DoesNotContain("127.0.0.1", Regex.Match(html, "<table id=\"subscriptions\">.*?</table>", RegexOptions.Singleline).Value, StringComparison.Ordinal);
        }

        Assert.Contains("id=\"settings\"", page, StringComparison.Ordinal);

        // An unknown subscription is not found, to read or to replay.
        using var unknown = await session.GetAsync("/ui/subscriptions/no-such-subscription");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var unknownReplay = await session.PostAsync("/ui/subscriptions/no-such-subscription?handler=Replay", Form(token, "nothing there"));
        Assert.Equal(HttpStatusCode.NotFound, unknownReplay.StatusCode);
    }

    [Fact]
    public async Task Province_admins_and_auditors_are_refused_the_pages_and_the_replay_and_see_no_link()
    {
        await using var subscriber = await WebhookSubscriber.StartAsync();
        var (operatorClient, _) = await hub.Process.PrincipalClientAsync("subs-page-op", new { role = "operator" });
        var (provinceClient, _) = await hub.Process.PrincipalClientAsync("subs-page-h56", new { role = "province-admin", agency = "H56" });
        var (auditorClient, _) = await hub.Process.PrincipalClientAsync("subs-page-auditor", new { role = "auditor" });
        using var _1 = operatorClient;
        using var _2 = provinceClient;
        using var _3 = auditorClient;
        var id = "refused-" + Guid.NewGuid().ToString("N")[..6];
        await SubscriberDeliveryTests.PutAsync(operatorClient, subscriber.Registration(id, filter: new { agencies = new[] { "H99" } }));

        foreach (var client in new[] { provinceClient, auditorClient })
        {
            using var session = await DashboardSession.SignInAsync(hub.Process.BaseAddress, DashboardSession.KeyOf(client));
            var lookup = await PageAsync(session, "/ui/dossiers");
            Assert.DoesNotContain("/ui/subscriptions", lookup, StringComparison.Ordinal);
            var token = Token().Match(lookup).Groups[1].Value;
            Assert.NotEmpty(token);

            foreach (var url in new[] { "/ui/subscriptions", $"/ui/subscriptions/{id}" })
            {
                using var refused = await session.GetAsync(url);
                Assert.True(refused.StatusCode == HttpStatusCode.Redirect, $"{url}: {(int)refused.StatusCode}");
                Assert.StartsWith("/ui/denied", refused.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
                using var denied = await session.GetAsync(refused.Headers.Location.PathAndQuery);
                Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
                var html = await denied.Content.ReadAsStringAsync();
                Assert.Contains("Your roles do not open this page", html, StringComparison.Ordinal);
                Assert.DoesNotContain(id, html, StringComparison.Ordinal);
            }

            using var replay = await session.PostAsync($"/ui/subscriptions/{id}?handler=Replay", Form(token, "not mine to replay"));
            Assert.Equal(HttpStatusCode.Redirect, replay.StatusCode);
            Assert.StartsWith("/ui/denied", replay.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(await LogAsync(new ExchangeLog(hub.Db, TimeProvider.System), id), e => e.Action == "deliveries.replayed");

        // The same requests of an operator's session are served.
        using var operatorSession = await DashboardSession.SignInAsync(hub.Process.BaseAddress, DashboardSession.KeyOf(operatorClient));
        Assert.Contains(id, await PageAsync(operatorSession, "/ui/subscriptions"), StringComparison.Ordinal);
        Assert.Contains("id=\"replay\"", await PageAsync(operatorSession, $"/ui/subscriptions/{id}"), StringComparison.Ordinal);
    }

    private static long Count(JsonElement subscription, string status) => subscription.GetProperty("deliveries").GetProperty(status).GetInt64();

    private static FormUrlEncodedContent Form(string token, string reason) =>
        new(new Dictionary<string, string> { ["reason"] = reason, ["__RequestVerificationToken"] = token });

    private static async Task<string> PageAsync(HttpClient session, string url)
    {
        using var response = await session.GetAsync(url);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {html}");
        return html;
    }

    private static async Task<IReadOnlyList<ExchangeEntry>> LogAsync(ExchangeLog log, string subscriptionId) =>
        await log.SearchAsync(new ExchangeSearch { ConnectorId = "subscription:" + subscriptionId, Kind = ExchangeRecord.AdminKind, Limit = 100 }, CancellationToken.None);

    /// <summary>The list's row of a subscription, whole.</summary>
    private static string RowOf(string html, string id)
    {
        var match = Regex.Match(html, $"<tr data-subscription-id=\"{Regex.Escape(id)}\".*?</tr>", RegexOptions.Singleline);
        Assert.True(match.Success, $"no row of {id}");
        return match.Value;
    }

    /// <summary>The list's counts of a subscription: pending, failed, delivered, dead.</summary>
    private static (string, string, string, string) CountsOf(string html, string id)
    {
        var m = Counts().Match(RowOf(html, id));
        Assert.True(m.Success);
        return (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value, m.Groups[4].Value);
    }

    /// <summary>The dead-letter table's rows: delivery id, dossier code and the row's markup.</summary>
    private static List<(long Id, string Dossier, string Html)> DeadRows(string html)
    {
        var table = Regex.Match(html, "<table id=\"dead\">.*?</table>", RegexOptions.Singleline);
        Assert.True(table.Success, "no dead-letter table");
        return [.. DeadRow().Matches(table.Value).Select(m => (long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), m.Groups[2].Value, m.Value))];
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();

    [GeneratedRegex("data-pending=\"(\\d+)\" data-failed=\"(\\d+)\"\\s+data-delivered=\"(\\d+)\" data-dead=\"(\\d+)\"")]
    private static partial Regex Counts();

    [GeneratedRegex("<tr data-delivery-id=\"(\\d+)\" data-dossier=\"([^\"]+)\">.*?</tr>", RegexOptions.Singleline)]
    private static partial Regex DeadRow();
}
