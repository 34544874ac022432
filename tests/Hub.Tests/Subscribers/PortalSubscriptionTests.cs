using System.Globalization;
using Hub.Contracts;
using Hub.Core.Audit;
using Hub.Tests.Infrastructure;
using static Hub.Tests.Subscribers.SubscriberDeliveryTests;

namespace Hub.Tests.Subscribers;

/// <summary>
/// A real hub process publishing to a fake national portal through a <c>national-portal-client</c> subscription: what
/// the store holds reaches the portal through the whole path (outbox, bus, routing, delivery), a late older change
/// never moves the portal backwards, and an outage of the portal only delays it.
/// </summary>
public sealed class PortalSubscriptionTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_portal_ends_with_every_dossiers_current_state_and_steps_whatever_the_order_and_outages()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("portal_subscription");
        var work = Directory.CreateTempSubdirectory("hub-portal-subscription-").FullName;
        try
        {
            await using var portal = await FakeNationalPortal.StartAsync();
            await using var hub = HubProcess.Start(work, Settings(db));
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(90));
            var (operatorClient, _) = await hub.PrincipalClientAsync("portal-operator", new { role = "operator" });
            await PutAsync(operatorClient, new
            {
                id = "portal",
                kind = "national-portal-client",
                displayName = "National portal",
                configuration = new
                {
                    baseUrl = portal.BaseUrl.ToString(),
                    username = FakeNationalPortal.Username,
                    password = FakeNationalPortal.Password,
                    madonvi = "000.00.00.H56",
                    dstcode = "H56",
                    chunkSize = 2,
                },
                filter = new { agencies = new[] { "*.H56" } },
                delivery = new { retryBaseDelay = "00:00:00.200", maxRetryDelay = "00:00:01", maxAttempts = 20 },
                resilience = new { maxRetries = 0, circuitMinimumThroughput = 100000 },
            });

            // Six H56 dossiers received then processed, with their steps, and one H57 dossier the filter leaves out.
            var store = Changes.Store(db);
            var changes = new List<DossierChange>();
            var steps = new List<DossierStep>();
            for (var d = 0; d < 6; d++)
            {
                foreach (var (minute, status) in new[] { (10, NationalStatus.Received), (20, NationalStatus.Processing) })
                {
                    changes.Add(Change(d, minute, status));
                    steps.Add(Changes.Step("sim", $"D{d}", minute + d, status, $"Step at {minute}"));
                }
            }

            changes.Add(Change(9, 10, NationalStatus.Received) with { AgencyCode = "000.00.15.H57", DossierCode = "000.00.15.H57-251117-0009" });
            await store.WriteAsync(new ChangeBatch { Dossiers = changes, Steps = steps }, CancellationToken.None);
            await WaitForPortalAsync(portal, db, 6, 12);
            Assert.Null(portal.Dossier("000.00.15.H57-251117-0009"));

            // Inserted once, then updated on "đã tồn tại": the portal was never sent an insert it took twice.
            Assert.All(Enumerable.Range(0, 6), d => Assert.Equal("False", portal.Posts.First(p =>
                p.Service == "DongBoHoSoMC" && p.Rows.Any(r => r["MaHoSo"]!.GetValue<string>() == Code(d))).IsUpdating));

            // A late, older change of D0 is stored into the history, and is not sent: the portal keeps the newer state.
            var postsBefore = portal.Posts.Count;
            await store.WriteAsync(new ChangeBatch { Dossiers = [Change(0, 5, NationalStatus.Submitted)] }, CancellationToken.None);
            await WaitUntilAsync(async () => (await DeliveriesAsync(operatorClient, "portal", "delivered")).Any(d => d.GetProperty("superseded").GetBoolean()),
                Patience, "the late change to be superseded");
            Assert.Equal(postsBefore, portal.Posts.Count);
            Assert.Equal(((int)NationalStatus.Processing).ToString(CultureInfo.InvariantCulture), portal.Dossier(Code(0))!["TrangThaiHoSo"]!.GetValue<string>());

            // The portal fails for a while: the newer changes wait, are retried and arrive.
            portal.FailNextPosts(4);
            await store.WriteAsync(new ChangeBatch
            {
                Dossiers = [Change(1, 30, NationalStatus.Resolved), Change(2, 30, NationalStatus.Resolved)],
                Steps = [Changes.Step("sim", "D1", 31, NationalStatus.Resolved, "Resolved")],
            }, CancellationToken.None);
            await WaitForPortalAsync(portal, db, 6, 13);
            var failed = await DeliveriesAsync(operatorClient, "portal", "delivered");
            Assert.Contains(failed, d => d.GetProperty("attempts").GetInt32() > 1);

            // Every request and reply is in the exchange log; the log-in's credentials are not kept.
            var log = await new ExchangeLog(db, TimeProvider.System).SearchAsync(
                new ExchangeSearch { ConnectorId = "subscription:portal", Limit = 1000 }, CancellationToken.None);
            Assert.Contains(log, e => e.Action == "delivery.login" && e.PayloadWithheld is not null && e.PayloadSha256 is not null);
            Assert.Contains(log, e => e.Action == "delivery.DongBoHoSoMC" && e.Outcome == "done");
            Assert.Contains(log, e => e.Action == "receipt.CapNhatTienDoHoSoMC" && e.Outcome == "stored");
            Assert.Contains(log, e => e.Direction == "outbound" && e.Outcome == "failed");
            Assert.DoesNotContain(FakeNationalPortal.Password, await hub.Client.GetStringAsync("/health/live") + hub.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string Code(int d) => $"000.00.15.H56-251117-{d:0000}";

    private static DossierChange Change(int d, int minute, NationalStatus status) =>
        Changes.Change("sim", $"D{d}", minute, status) with { DossierCode = Code(d) };

    /// <summary>Waits until the portal holds each H56 dossier's current state as the store has it, and every stored step.</summary>
    private static async Task WaitForPortalAsync(FakeNationalPortal portal, Npgsql.NpgsqlDataSource db, int dossiers, int expectedSteps)
    {
        var store = Changes.Store(db);
        await WaitUntilAsync(async () =>
        {
            var steps = 0;
            for (var d = 0; d < dossiers; d++)
            {
                var current = (await store.GetByKeyAsync(new DossierKey("sim", $"D{d}"), CancellationToken.None))!;
                var row = portal.Dossier(Code(d));
                if (row is null
                    || row["TrangThaiHoSo"]!.GetValue<string>() != ((int)current.Current.Status).ToString(CultureInfo.InvariantCulture)
                    || row["NgayCapNhat"]!.GetValue<string>() != current.Current.EventTime.ToOffset(TimeSpan.FromHours(7)).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)
                    || portal.Steps(Code(d)).Count != current.Steps.Count)
                {
                    return false;
                }

                // Steps in the portal's arrival order are in step-time order.
                var times = portal.Steps(Code(d)).Select(s => s["ThoiDiemXuLy"]!.GetValue<string>()).ToList();
                Assert.Equal(times.Order(StringComparer.Ordinal), times);
                steps += current.Steps.Count;
            }

            return steps == expectedSteps;
        }, Patience, "the portal to hold the store's current state and steps");
    }
}
