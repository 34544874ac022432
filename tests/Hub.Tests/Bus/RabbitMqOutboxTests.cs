using System.Net;
using System.Text.Json;
using Hub.Contracts;
using Hub.Core.Store;
using Hub.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Hub.Tests.Bus;

/// <summary>
/// A real hub process publishing its outbox on a real RabbitMQ node (the test run's own, one virtual host per test) to a
/// subscriber in the test process: the RabbitMQ counterpart of <see cref="OutboxDispatcherTests"/>.
/// </summary>
public class RabbitMqOutboxTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Stored_changes_reach_a_rabbitmq_subscriber_exactly_as_stored_with_their_event_ids()
    {
        var broker = await TestRabbitMq.CreateVirtualHostAsync("publish");
        output.WriteLine($"The test RabbitMQ node accepted connections {TestRabbitMq.StartedIn?.TotalSeconds:0.0} s after it was started.");
        await using var db = await TestDatabase.CreateSchemaAsync("rabbit_publish");
        var work = Directory.CreateTempSubdirectory("hub-rabbit-publish-").FullName;
        try
        {
            // The subscriber's queue is bound before anything is published: RabbitMQ drops what no queue is bound for.
            await using var subscriber = await BusSubscriber.StartAsync(broker);
            await using var hub = HubProcess.Start(work, broker.HubSettings(db));
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(90));

            var store = Changes.Store(db);
            await store.WriteAsync(new ChangeBatch
            {
                Dossiers = [.. Enumerable.Range(0, 10).SelectMany(i => new[]
                {
                    Changes.Change("H56", $"R{i}", 10, NationalStatus.Received),
                    Changes.Change("H56", $"R{i}", 20, NationalStatus.Processing),
                })],
            }, CancellationToken.None);

            var received = await subscriber.WaitForAsync(20, TimeSpan.FromSeconds(30), hub);
            Assert.All(received, r => Assert.Equal(r.Message.EventId, r.MessageId));
            var stored = new List<DossierChange>();
            for (var i = 0; i < 10; i++)
            {
                var dossier = (await store.GetByKeyAsync(new DossierKey("H56", $"R{i}"), CancellationToken.None))!;
                stored.AddRange(dossier.History.Select(h => h.Change));
                Assert.Contains(received, r => r.Message.Change == dossier.Current && r.Message.Current);
            }

            Assert.Equal(stored.OrderBy(c => c.NativeId).ThenBy(c => c.EventTime),
                received.Select(r => r.Message.Change).OrderBy(c => c.NativeId).ThenBy(c => c.EventTime));
            await WaitUntilAsync(async () => await new Outbox(db, TimeProvider.System).PendingAsync(CancellationToken.None) == 0,
                TimeSpan.FromSeconds(10));
            Assert.Equal(20L, await ScalarAsync(db, "select count(*) from outbox where sent_at is not null"));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task With_rabbitmq_unreachable_the_outbox_stays_pending_the_hub_is_not_ready_and_a_later_hub_publishes_it()
    {
        var broker = await TestRabbitMq.CreateVirtualHostAsync("outage");
        await using var db = await TestDatabase.CreateSchemaAsync("rabbit_outage");
        var work = Directory.CreateTempSubdirectory("hub-rabbit-outage-").FullName;
        try
        {
            await using var subscriber = await BusSubscriber.StartAsync(broker);
            var down = broker with { Port = TestRabbitMq.UnusedPort() };
            await using (var hub = HubProcess.Start(work, new Dictionary<string, string>(down.HubSettings(db))
            {
                ["Hub__Bus__PublishTimeout"] = "00:00:01",
            }))
            {
                // Not ready: the database answers, the bus does not.
                var health = await WaitForHealthAsync(hub, h => h.Checks.Count > 1 && h.Checks["database"] == "Healthy", TimeSpan.FromSeconds(90));
                Assert.Equal(HttpStatusCode.ServiceUnavailable, health.Code);
                Assert.Equal("Unhealthy", health.Checks["bus"]);
                Assert.All(health.Checks.Where(c => c.Key != "bus"), c => Assert.NotEqual("Unhealthy", c.Value));

                await Changes.Store(db).WriteAsync(new ChangeBatch
                {
                    Dossiers = [.. Enumerable.Range(0, 5).Select(i => Changes.Change("H56", $"O{i}", 10, NationalStatus.Received))],
                }, CancellationToken.None);

                // The dispatcher tried (its publish timed out, so it logged the failure) and marked nothing sent.
                await WaitUntilAsync(() => Task.FromResult(hub.Output.Contains("Publishing the outbox failed", StringComparison.Ordinal)),
                    TimeSpan.FromSeconds(30));
                Assert.Contains("did not publish 5 events within Hub:Bus:PublishTimeout", hub.Output, StringComparison.Ordinal);
                Assert.Equal(5L, await new Outbox(db, TimeProvider.System).PendingAsync(CancellationToken.None));
                Assert.Equal(0L, await ScalarAsync(db, "select count(*) from outbox where sent_at is not null"));
                Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ReadHealthAsync(hub)).Code);
                Assert.Empty(subscriber.Received);
                Assert.DoesNotContain(broker.Password, hub.Output, StringComparison.Ordinal);
            }

            // Nothing was lost: a hub that reaches the broker publishes every pending event.
            await using (var hub = HubProcess.Start(work, broker.HubSettings(db)))
            {
                await hub.WaitReadyAsync(TimeSpan.FromSeconds(90));
                var received = await subscriber.WaitForAsync(5, TimeSpan.FromSeconds(30), hub);
                Assert.Equal(["O0", "O1", "O2", "O3", "O4"], received.Select(r => r.Message.Change.NativeId).Order());
                await WaitUntilAsync(async () => await new Outbox(db, TimeProvider.System).PendingAsync(CancellationToken.None) == 0,
                    TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task A_hub_set_to_rabbitmq_without_its_broker_settings_does_not_start_and_names_each_missing_one()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("rabbit_settings");
        var work = Directory.CreateTempSubdirectory("hub-rabbit-settings-").FullName;
        try
        {
            await using var hub = HubProcess.Start(work, new Dictionary<string, string>
            {
                ["ConnectionStrings__Hub"] = db.ConnectionString,
                ["Hub__Bus__Transport"] = "RabbitMq",
                ["Hub__Bus__RabbitMq__Port"] = "70000",
            });
            var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
            while (!hub.HasExited && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            Assert.True(hub.HasExited, $"The hub started without its broker settings:\n{hub.Output}");
            Assert.NotEqual(0, hub.ExitCode);
            Assert.Contains("Hub:Bus:RabbitMq:Host is required", hub.Output, StringComparison.Ordinal);
            Assert.Contains("Hub:Bus:RabbitMq:Port must be between 1 and 65535 (it is 70000)", hub.Output, StringComparison.Ordinal);
            Assert.Contains("Hub:Bus:RabbitMq:Username is required", hub.Output, StringComparison.Ordinal);
            Assert.Contains("Hub:Bus:RabbitMq:Password is required", hub.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private sealed record Health(HttpStatusCode Code, Dictionary<string, string> Checks);

    private static async Task<Health> ReadHealthAsync(HubProcess hub)
    {
        using var response = await hub.Client.GetAsync("/health/ready");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return new Health(response.StatusCode,
            body.GetProperty("checks").EnumerateObject().ToDictionary(c => c.Name, c => c.Value.GetProperty("status").GetString()!));
    }

    private static async Task<Health> WaitForHealthAsync(HubProcess hub, Func<Health, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        Health? last = null;
        while (DateTimeOffset.UtcNow < deadline)
        {
            Assert.False(hub.HasExited, $"The hub exited:\n{hub.Output}");
            try
            {
                last = await ReadHealthAsync(hub);
                if (condition(last))
                {
                    return last;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"/health/ready did not answer as expected within {timeout}; last: {last?.Code} " +
            $"{string.Join(", ", last?.Checks.Select(c => $"{c.Key}={c.Value}") ?? [])}\n{hub.Output}");
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"Not true within {timeout}.");
            await Task.Delay(200);
        }
    }

    private static async Task<object?> ScalarAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        return await command.ExecuteScalarAsync();
    }
}
