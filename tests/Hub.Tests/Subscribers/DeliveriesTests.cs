using Hub.Contracts;
using Hub.Core.Delivery;
using Hub.Core.Store;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Subscribers;

/// <summary>Delivery tracking against a real PostgreSQL: idempotent routing, order within a dossier, leases, and the rules behind them.</summary>
public sealed class DeliveriesTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task An_event_routed_twice_is_one_delivery_and_an_unknown_subscription_gets_none()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("deliveries_idempotent");
        await SubscribeAsync(db, "a");
        var deliveries = new Deliveries(db, TimeProvider.System);
        var e = Routed("a", "D1");
        Assert.Equal(1, await deliveries.AddAsync([e], None));
        Assert.Equal(0, await deliveries.AddAsync([e, e with { SubscriptionId = "gone" }], None));
        var counts = await deliveries.CountsAsync("a", None);
        Assert.Equal(1, counts[DeliveryStatus.Pending]);
        Assert.Equal(1L, await CountAsync(db, "select count(*) from delivery"));
    }

    [Fact]
    public async Task A_dossiers_later_events_wait_while_an_earlier_one_waits_for_its_retry_and_other_dossiers_go_on()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("deliveries_order");
        await SubscribeAsync(db, "a");
        var deliveries = new Deliveries(db, TimeProvider.System);
        await deliveries.AddAsync([Routed("a", "X"), Routed("a", "X"), Routed("a", "Y")], None);
        Assert.True(await deliveries.LeaseAsync("a", "node-1", TimeSpan.FromSeconds(30), None));
        var due = await deliveries.DueAsync("a", 10, None);
        Assert.Equal(["X", "X", "Y"], due.Select(d => d.NativeId));

        // The first event of X fails and waits a minute: X's second waits behind it, Y does not.
        Assert.True(await deliveries.RecordAsync("a", "node-1",
            [new DeliveryUpdate(due[0].Id, DeliveryStatus.Failed, true, "HTTP 503", TimeSpan.FromMinutes(1), false),
             new DeliveryUpdate(due[2].Id, DeliveryStatus.Delivered, true, null, TimeSpan.Zero, false)], [], [], None));
        Assert.Empty(await deliveries.DueAsync("a", 10, None));

        // Once it is due again, both of X come, oldest first; a dead one holds nothing back.
        await ExecuteAsync(db, $"update delivery set next_attempt_at = now() where id = {due[0].Id}");
        Assert.Equal([due[0].Id, due[1].Id], (await deliveries.DueAsync("a", 10, None)).Select(d => d.Id));
        Assert.True(await deliveries.RecordAsync("a", "node-1",
            [new DeliveryUpdate(due[0].Id, DeliveryStatus.Dead, true, "refused", TimeSpan.Zero, false)], [], [], None));
        Assert.Equal([due[1].Id], (await deliveries.DueAsync("a", 10, None)).Select(d => d.Id));
        var dead = Assert.Single(await deliveries.ListAsync("a", DeliveryStatus.Dead, null, 10, None));
        Assert.Equal(2, dead.Attempts);
        Assert.Equal("refused", dead.LastError);
    }

    [Fact]
    public async Task One_node_at_a_time_holds_a_subscription_and_a_node_that_lost_its_lease_records_nothing()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("deliveries_lease");
        await SubscribeAsync(db, "a");
        var deliveries = new Deliveries(db, TimeProvider.System);
        await deliveries.AddAsync([Routed("a", "X")], None);
        Assert.Equal(["a"], await deliveries.DueSubscriptionsAsync("node-1", None));
        Assert.True(await deliveries.LeaseAsync("a", "node-1", TimeSpan.FromSeconds(30), None));
        Assert.True(await deliveries.LeaseAsync("a", "node-1", TimeSpan.FromSeconds(30), None));
        Assert.False(await deliveries.LeaseAsync("a", "node-2", TimeSpan.FromSeconds(30), None));
        Assert.Empty(await deliveries.DueSubscriptionsAsync("node-2", None));

        // node-1 dies: once its lease runs out, node-2 takes over, and node-1's late outcome is not recorded.
        var due = Assert.Single(await deliveries.DueAsync("a", 10, None));
        await ExecuteAsync(db, "update subscription set lease_until = now() - interval '1 second'");
        Assert.True(await deliveries.LeaseAsync("a", "node-2", TimeSpan.FromSeconds(30), None));
        Assert.False(await deliveries.RecordAsync("a", "node-1",
            [new DeliveryUpdate(due.Id, DeliveryStatus.Delivered, true, null, TimeSpan.Zero, false)], [], [], None));
        Assert.Equal(1, (await deliveries.CountsAsync("a", None))[DeliveryStatus.Pending]);

        // A released lease is free at once; a paused subscription is leased by nobody.
        await deliveries.ReleaseAsync("a", "node-2", None);
        Assert.True(await deliveries.LeaseAsync("a", "node-1", TimeSpan.FromSeconds(30), None));
        await deliveries.ReleaseAsync("a", "node-1", None);
        await ExecuteAsync(db, "update subscription set active = false");
        Assert.False(await deliveries.LeaseAsync("a", "node-1", TimeSpan.FromSeconds(30), None));
        Assert.Empty(await deliveries.DueSubscriptionsAsync("node-1", None));
    }

    [Fact]
    public async Task A_latest_state_is_only_ever_moved_forward_by_the_stores_order()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("deliveries_latest");
        await SubscribeAsync(db, "a");
        var deliveries = new Deliveries(db, TimeProvider.System);
        Assert.True(await deliveries.LeaseAsync("a", "n", TimeSpan.FromSeconds(30), None));
        var later = DeliveredState.Of(Changes.Change("S", "X", 20, NationalStatus.Processing));
        var earlier = DeliveredState.Of(Changes.Change("S", "X", 10, NationalStatus.Received));
        Assert.True(later.IsLaterThan(earlier));
        Assert.False(earlier.IsLaterThan(later));
        Assert.False(later.IsLaterThan(later));
        await deliveries.RecordAsync("a", "n", [], [later], [], None);
        await deliveries.RecordAsync("a", "n", [], [earlier], [], None);
        var known = (await deliveries.DeliveredStatesAsync("a", [("S", "X"), ("S", "Y")], None)).Values.Single();
        Assert.Equal(later.EventTime, known.EventTime);
        Assert.Equal(later.ChangeHash, known.ChangeHash);

        // Same time: the source version decides, then the hash, as in the store.
        var versioned = DeliveredState.Of(Changes.Change("S", "X", 20, NationalStatus.Resolved, version: 2));
        Assert.True(versioned.IsLaterThan(later));
    }

    [Theory]
    [InlineData(null, null, null, "000.00.15.H56", "1.001612.000.00.00.H56", 4, true)]
    [InlineData("*.H56", null, null, "000.00.15.H56", null, 4, true)]
    [InlineData("*.H56", null, null, "000.00.15.H57", null, 4, false)]
    [InlineData("000.00.15.*", null, null, "000.00.15.H57", null, 4, true)]
    [InlineData("000.00.15.H56", null, null, "000.00.15.H56", null, 4, true)]
    [InlineData("000.00.15.H56", null, null, null, null, 4, false)]
    [InlineData(null, "1.001612", null, null, "1.001612.000.00.00.H56", 4, true)]
    [InlineData(null, "1.001612.000.00.00.H56", null, null, "1.001612.000.00.00.H56", 4, true)]
    [InlineData(null, "2.000001", null, null, "1.001612.000.00.00.H56", 4, false)]
    [InlineData(null, null, 9, null, null, 9, true)]
    [InlineData(null, null, 9, null, null, 4, false)]
    [InlineData("*.H56", "1.001612", 4, "000.00.15.H56", "1.001612.000.00.00.H56", 4, true)]
    [InlineData("*.H56", "1.001612", 9, "000.00.15.H56", "1.001612.000.00.00.H56", 4, false)]
    public void Filters_match_agency_patterns_procedure_or_base_code_and_status(
        string? agency, string? procedure, int? status, string? dossierAgency, string? dossierProcedure, int dossierStatus, bool expected)
    {
        var filter = new SubscriptionFilter
        {
            Agencies = agency is null ? null : [agency],
            Procedures = procedure is null ? null : [procedure],
            Statuses = status is null ? null : [(NationalStatus)status],
        };
        var baseCode = dossierProcedure?.Split('.').Take(2) is { } parts ? string.Join('.', parts) : null;
        Assert.Equal(expected, filter.Matches(dossierAgency, dossierProcedure, baseCode, (NationalStatus)dossierStatus));
    }

    [Fact]
    public void Backoff_doubles_from_the_base_is_capped_and_jitters_down_by_at_most_a_fifth()
    {
        var settings = new DeliverySettings { RetryBaseDelay = TimeSpan.FromSeconds(10), MaxRetryDelay = TimeSpan.FromMinutes(1) };
        Assert.Equal(TimeSpan.FromSeconds(10), settings.Backoff(1, 0));
        Assert.Equal(TimeSpan.FromSeconds(20), settings.Backoff(2, 0));
        Assert.Equal(TimeSpan.FromSeconds(40), settings.Backoff(3, 0));
        Assert.Equal(TimeSpan.FromMinutes(1), settings.Backoff(4, 0));
        Assert.Equal(TimeSpan.FromMinutes(1), settings.Backoff(60, 0));
        Assert.Equal(TimeSpan.FromSeconds(32), settings.Backoff(3, 1));
    }

    private static RoutedEvent Routed(string subscription, string nativeId) =>
        new(subscription, Guid.NewGuid(), Outbox.ChangeKind, "S", nativeId, "S-" + nativeId, "{}");

    private static async Task SubscribeAsync(NpgsqlDataSource db, string id) => await ExecuteAsync(db, $"""
        insert into subscription (id, kind, display_name, configuration, max_attempts, retry_base, retry_max, batch_size, resilience)
        values ('{id}', 'signed-webhook', 'Test', '{"{}"}', 3, interval '1 second', interval '1 minute', 100, '{"{}"}')
        """);

    private static async Task ExecuteAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> CountAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
