using System.Text;
using System.Text.Json;
using Hub.Simulator;
using Hub.Simulator.Portal;
using Hub.Tests.Audit;
using Hub.Tests.Infrastructure;
using Hub.Tests.Sync;
using static Hub.Tests.Portal.PortalKit;

namespace Hub.Tests.Portal;

/// <summary>
/// The acceptance test of the portal adapter: a simulated province's own sync client, unchanged protocol, pushes every
/// revision and step through the real hub process (insert, "already exists", update; steps in chunks of 10) with
/// duplicate posts, out-of-order delivery, stale snapshots and corrupted rows, and the store ends up equal to the truth
/// as the protocol can carry it.
/// </summary>
public class PortalSyncEndToEndTests
{
    /// <summary>Dossiers of the simulated province (about 4.5 revisions and 6 steps each).</summary>
    public const int DossierCount = 3000;

    [Fact]
    public async Task A_portal_style_client_pushes_a_province_through_the_adapter_with_faults_and_the_store_equals_the_portal_truth()
    {
        var window = new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero);
        var province = new SimulatedProvince(new ProvinceOptions
        {
            SourceSystem = "sim-portal",
            AgencyPrefix = "H92",
            Dossiers = DossierCount,
            Seed = 2027,
            Start = window,
            End = window.AddDays(30),
            RollbackShare = 0.05,
            WholeSecondTimes = true,
        });
        const string username = "h92_motcua", password = "portal-e2e-secret";
        await using var db = await TestDatabase.CreateSchemaAsync("e2e_portal");
        var folder = Directory.CreateTempSubdirectory("hub-portal-e2e-");
        try
        {
            // Registered by configuration alone, from the simulator's ready-made file.
            var template = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Connectors", "national-portal.connector.json"));
            File.WriteAllText(Path.Combine(folder.FullName, "portal.json"), template
                .Replace("{{sourceSystem}}", province.SourceSystem, StringComparison.Ordinal)
                .Replace("{{username}}", username, StringComparison.Ordinal)
                .Replace("{{password}}", password, StringComparison.Ordinal));
            await using var hub = HubProcess.Start(Path.GetTempPath(), new Dictionary<string, string>
            {
                ["ConnectionStrings__Hub"] = db.ConnectionString,
                ["Hub__Connectors__Directory"] = folder.FullName,
            });
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(60));

            using var client = new PortalSyncClient(province, hub.BaseAddress, username, password, new PortalSyncOptions
            {
                RowsPerPost = 25,
                StepsPerPost = 10,
                DuplicateRate = 0.05,
                ReorderWindow = 40,
                StaleResendRate = 0.05,
                MalformedRate = 0.01,
                Seed = 7,
            });
            await client.RunAsync(CancellationToken.None);

            var expected = await RestSyncEndToEndTests.TruthSnapshotAsync(PortalTruth.Of(province), PortalTruth.MappingVersion, "e2e_portal_truth");
            var actual = await StoreSnapshot.TakeAsync(db);
            Assert.True(expected == actual, FirstDifference(expected, actual));

            // Every path of the protocol and every fault really happened.
            var stats = client.Stats;
            Assert.Equal(province.RevisionCount, stats.RevisionsSent);
            Assert.True(stats.SwitchedToUpdate > 0 && stats.RowsAlreadyExisting > 0, "no insert met an existing dossier");
            Assert.True(stats.DuplicatePosts > 0 && stats.StaleSnapshots > 0 && stats.RevisionsSentLate > stats.StaleSnapshots, "faults missing");
            Assert.All(stats.MalformedInjected, m => Assert.True(m.Value > 0, $"no {m.Key} row injected"));
            Assert.Equal(1, stats.Logins);

            // Each corrupted row is in quarantine once, however often it was sent, with a reason naming the field.
            var malformed = stats.MalformedInjected.Values.Sum();
            Assert.Equal((long)malformed, await ScalarAsync<long>(db, "select count(*) from quarantined_record"));
            Assert.True(stats.RowsReportedQuarantined >= malformed);
            Assert.Equal((long)stats.MalformedInjected[PortalMalformedKind.UnknownStatus],
                await ScalarAsync<long>(db, "select count(*) from quarantined_record where reason like 'unmapped code 99 (Status at path ''TrangThaiHoSo'')%'"));
            Assert.Equal((long)stats.MalformedInjected[PortalMalformedKind.UnparseableUpdateTime],
                await ScalarAsync<long>(db, "select count(*) from quarantined_record where reason like 'EventTime at path ''_eventTime''%'"));
            Assert.Equal((long)stats.MalformedInjected[PortalMalformedKind.MissingCode],
                await ScalarAsync<long>(db, "select count(*) from quarantined_record where reason like 'DossierCode at path ''MaHoSo'' is missing%'"));
            Assert.Equal((long)stats.MalformedInjected[PortalMalformedKind.UnparseableStepTime],
                await ScalarAsync<long>(db, "select count(*) from quarantined_record where record_kind = 'step' and reason like 'StepTime at path ''ThoiDiemXuLy''%'"));

            // Every message of the exchange is in the log: each log-in (bytes withheld), each post, each reply.
            var entries = await LogCheck.EntriesAsync(db, new Core.Audit.ExchangeSearch());
            bool IsLogin(Core.Audit.ExchangeEntry e) => e.Detail?.Contains("\"request\":\"login\"", StringComparison.Ordinal) == true;
            var logins = entries.Where(IsLogin).ToList();
            Assert.Equal(stats.Logins, logins.Count);
            Assert.All(logins, e => Assert.Equal((null, true, "stored"), (e.PayloadSha256, e.PayloadWithheld is not null, e.Outcome)));
            var posts = entries.Where(e => e.Direction == "inbound" && !IsLogin(e)).ToList();
            Assert.Equal(stats.Posts, posts.Count);
            var replies = entries.Where(e => e.Direction == "outbound").ToList();
            Assert.Equal(stats.Posts + stats.Logins, replies.Count);
            Assert.Equal(stats.Logins, replies.Count(r => r.PayloadWithheld is not null));

            // The stored posts name every dossier of the truth; no logged post keeps an applicant's name or id.
            var stored = posts.Where(p => p.Outcome == "stored").ToList();
            Assert.Equal(
                PortalTruth.Of(province).Changes.Select(c => c.DossierCode).ToHashSet(StringComparer.Ordinal),
                stored.SelectMany(p => p.Dossiers).ToHashSet(StringComparer.Ordinal));
            foreach (var post in posts.Where(p => p.PayloadWithheld is null))
            {
                var text = Encoding.UTF8.GetString(await LogCheck.PayloadAsync(db, post));
                Assert.DoesNotContain("\"ChuHoSo\"", text, StringComparison.Ordinal);
                Assert.DoesNotContain("\"DinhDanhCHS\"", text, StringComparison.Ordinal);
                Assert.True(JsonDocument.Parse(text).RootElement.TryGetProperty("data", out _));
            }

            foreach (var reply in replies.Where(r => r.PayloadWithheld is null).Take(50))
            {
                Assert.True(JsonDocument.Parse(await LogCheck.PayloadAsync(db, reply)).RootElement.TryGetProperty("error_code", out _));
            }

            await LogCheck.SealAndVerifyAsync(hub.Client, db);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (var i = 0; i < Math.Min(e.Length, a.Length); i++)
        {
            if (e[i] != a[i])
            {
                return $"The store differs from the portal truth at line {i}:\n expected {e[i]}\n actual   {a[i]}";
            }
        }

        return $"The store differs from the portal truth: {e.Length} lines expected, {a.Length} stored.";
    }
}
