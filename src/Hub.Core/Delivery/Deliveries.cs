using System.Text.Json;
using Hub.Contracts;
using Hub.Core.Audit;
using Hub.Core.Store;
using Hub.Core.Sync;
using Npgsql;
using NpgsqlTypes;

namespace Hub.Core.Delivery;

/// <summary>The state of one event's delivery to one subscription.</summary>
public enum DeliveryStatus
{
    /// <summary>Not tried yet.</summary>
    Pending,

    /// <summary>Tried and failed; tried again at its next attempt time.</summary>
    Failed,

    /// <summary>The subscriber took it (or already had a later state of the dossier).</summary>
    Delivered,

    /// <summary>Failed past the subscription's retry budget, or refused for good: in the dead-letter list until replayed.</summary>
    Dead,
}

/// <summary>An event routed to a subscription.</summary>
public sealed record RoutedEvent(
    string SubscriptionId, Guid EventId, string EventKind, string SourceSystem, string NativeId, string DossierCode, string EventJson);

/// <summary>A delivery due now, with the event as published.</summary>
public sealed record DueDelivery(
    long Id, Guid EventId, string EventKind, string SourceSystem, string NativeId, string DossierCode, string EventJson, int Attempts);

/// <summary>What became of a delivery after an attempt.</summary>
/// <param name="Id">The delivery.</param>
/// <param name="Status">Its new state.</param>
/// <param name="Tried">Whether the sink was given the event (a superseded event is delivered without being sent).</param>
/// <param name="Error">Why it failed.</param>
/// <param name="RetryIn">When it is tried again, from now (failed only).</param>
/// <param name="Superseded">Delivered without being sent: the subscriber already has a later state of the dossier.</param>
public sealed record DeliveryUpdate(long Id, DeliveryStatus Status, bool Tried, string? Error, TimeSpan RetryIn, bool Superseded);

/// <summary>The order key of a dossier's latest change delivered to a latest-state subscriber, as the store orders changes.</summary>
public sealed record DeliveredState(string SourceSystem, string NativeId, DateTimeOffset EventTime, long? SourceVersion, byte[] ChangeHash)
{
    /// <summary>The order key of a change.</summary>
    public static DeliveredState Of(DossierChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return new(change.SourceSystem, change.NativeId, change.EventTime, change.SourceVersion, ChangeHashing.Hash(change));
    }

    /// <summary>Whether a change with this order key is later than <paramref name="other"/> (event time, source version, hash).</summary>
    public bool IsLaterThan(DeliveredState other)
    {
        var byTime = EventTime.CompareTo(other.EventTime);
        if (byTime != 0)
        {
            return byTime > 0;
        }

        var byVersion = (SourceVersion ?? long.MinValue).CompareTo(other.SourceVersion ?? long.MinValue);
        return byVersion != 0 ? byVersion > 0 : ChangeHash.AsSpan().SequenceCompareTo(other.ChangeHash) > 0;
    }
}

/// <summary>A delivery as operators see it.</summary>
public sealed record DeliveryView(
    long Id, Guid EventId, string EventKind, string DossierCode, DeliveryStatus Status, int Attempts,
    DateTimeOffset NextAttemptAt, DateTimeOffset? LastAttemptAt, string? LastError, DateTimeOffset? DeliveredAt, bool Superseded,
    DateTimeOffset CreatedAt);

/// <summary>
/// Delivery tracking (table <c>delivery</c>): one row per event and subscription that wants it, unique by event id,
/// so an event published twice is delivered once. A subscription is delivered by one node at a time (a lease on its
/// row), oldest event first; a dossier's later events wait while an earlier one waits for its retry.
/// </summary>
public sealed class Deliveries(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    private const string Waiting = "('pending', 'failed')";

    /// <summary>
    /// Adds the deliveries of routed events, in the order given (the order they are delivered in); an event a
    /// subscription already has is left as it is. Returns how many were added.
    /// </summary>
    public async Task<int> AddAsync(IReadOnlyList<RoutedEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return 0;
        }

        await using var command = dataSource.CreateCommand("""
            insert into delivery (subscription_id, event_id, event_kind, source_system, native_id, dossier_code, event)
            select u.subscription_id, u.event_id, u.event_kind, u.source_system, u.native_id, u.dossier_code, u.event
            from unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[]) with ordinality
                 as u(subscription_id, event_id, event_kind, source_system, native_id, dossier_code, event, position)
            where exists (select 1 from subscription s where s.id = u.subscription_id)
            order by u.position
            on conflict (subscription_id, event_id) do nothing
            """);
        command.Parameters.Add(new() { Value = events.Select(e => e.SubscriptionId).ToArray() });
        command.Parameters.Add(new() { Value = events.Select(e => e.EventId).ToArray() });
        command.Parameters.Add(new() { Value = events.Select(e => e.EventKind).ToArray() });
        command.Parameters.Add(new() { Value = events.Select(e => e.SourceSystem).ToArray() });
        command.Parameters.Add(new() { Value = events.Select(e => e.NativeId).ToArray() });
        command.Parameters.Add(new() { Value = events.Select(e => e.DossierCode).ToArray() });
        command.Parameters.Add(new() { Value = events.Select(e => e.EventJson).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The active subscriptions with a delivery due that no other node holds.</summary>
    public async Task<IReadOnlyList<string>> DueSubscriptionsAsync(string node, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            select s.id from subscription s
            where s.active and (s.lease_until is null or s.lease_until < now() or s.lease_owner = $1)
              and exists (select 1 from delivery d
                          where d.subscription_id = s.id and d.status in {Waiting} and d.next_attempt_at <= now())
            order by s.id
            """);
        command.Parameters.Add(new() { Value = node });
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    /// <summary>Takes or renews the lease on a subscription's deliveries for <paramref name="duration"/>; false when another node holds it or it is paused.</summary>
    public async Task<bool> LeaseAsync(string subscriptionId, string node, TimeSpan duration, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            update subscription set lease_owner = $2, lease_until = now() + $3
            where id = $1 and active and (lease_until is null or lease_until < now() or lease_owner = $2)
            """);
        command.Parameters.Add(new() { Value = subscriptionId });
        command.Parameters.Add(new() { Value = node });
        command.Parameters.Add(new() { Value = duration });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Gives the lease up, so another node may take the subscription at once.</summary>
    public async Task ReleaseAsync(string subscriptionId, string node, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "update subscription set lease_owner = null, lease_until = null where id = $1 and lease_owner = $2");
        command.Parameters.Add(new() { Value = subscriptionId });
        command.Parameters.Add(new() { Value = node });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The oldest deliveries due now, at most <paramref name="max"/>; a delivery waits while an earlier one of its dossier
    /// waits for a retry, so a dossier's events reach the subscriber in order.
    /// </summary>
    public async Task<IReadOnlyList<DueDelivery>> DueAsync(string subscriptionId, int max, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            select d.id, d.event_id, d.event_kind, d.source_system, d.native_id, d.dossier_code, d.event::text, d.attempts
            from delivery d
            where d.subscription_id = $1 and d.status in {Waiting} and d.next_attempt_at <= now()
              and not exists (select 1 from delivery o
                              where o.subscription_id = d.subscription_id and o.source_system = d.source_system
                                and o.native_id = d.native_id and o.id < d.id and o.status in {Waiting}
                                and o.next_attempt_at > now())
            order by d.id
            limit $2
            """);
        command.Parameters.Add(new() { Value = subscriptionId });
        command.Parameters.Add(new() { Value = max });
        var due = new List<DueDelivery>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add(new DueDelivery(reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetString(6), reader.GetInt32(7)));
        }

        return due;
    }

    /// <summary>The latest change delivered to a latest-state subscriber for each of these dossiers that has one.</summary>
    public async Task<IReadOnlyDictionary<(string SourceSystem, string NativeId), DeliveredState>> DeliveredStatesAsync(
        string subscriptionId, IReadOnlyCollection<(string SourceSystem, string NativeId)> dossiers, CancellationToken cancellationToken)
    {
        var states = new Dictionary<(string, string), DeliveredState>();
        if (dossiers.Count == 0)
        {
            return states;
        }

        await using var command = dataSource.CreateCommand("""
            select p.source_system, p.native_id, p.event_time, p.source_version, p.change_hash
            from subscriber_dossier p
            join unnest($2::text[], $3::text[]) as k(source_system, native_id)
              on p.source_system = k.source_system and p.native_id = k.native_id
            where p.subscription_id = $1
            """);
        command.Parameters.Add(new() { Value = subscriptionId });
        command.Parameters.Add(new() { Value = dossiers.Select(d => d.SourceSystem).ToArray() });
        command.Parameters.Add(new() { Value = dossiers.Select(d => d.NativeId).ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var state = new DeliveredState(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                reader.IsDBNull(3) ? null : reader.GetInt64(3), reader.GetFieldValue<byte[]>(4));
            states[(state.SourceSystem, state.NativeId)] = state;
        }

        return states;
    }

    /// <summary>
    /// Records a batch's outcome in one transaction: each delivery's new state, the latest states delivered to a
    /// latest-state subscriber, and the exchange-log entries of the requests and replies; nothing when the node no
    /// longer holds the subscription's lease (another node delivers it now, and records its own attempt).
    /// </summary>
    /// <returns>False when the lease was lost and nothing was recorded.</returns>
    public async Task<bool> RecordAsync(
        string subscriptionId, string node, IReadOnlyList<DeliveryUpdate> updates, IReadOnlyList<DeliveredState> delivered,
        IReadOnlyList<ExchangeRecord> exchanges, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lease = new NpgsqlCommand("select 1 from subscription where id = $1 and lease_owner = $2 for update", connection))
        {
            lease.Parameters.Add(new() { Value = subscriptionId });
            lease.Parameters.Add(new() { Value = node });
            if (await lease.ExecuteScalarAsync(cancellationToken) is null)
            {
                return false;
            }
        }

        var now = timeProvider.GetUtcNow();
        if (updates.Count > 0)
        {
            await using var update = new NpgsqlCommand("""
                update delivery d set status = u.status, attempts = d.attempts + case when u.tried then 1 else 0 end,
                    last_attempt_at = case when u.tried then $7 else d.last_attempt_at end,
                    last_error = coalesce(u.error, d.last_error),
                    next_attempt_at = now() + u.retry_in,
                    delivered_at = case when u.status = 'delivered' then $7 end,
                    superseded = u.superseded
                from unnest($1::bigint[], $2::text[], $3::boolean[], $4::text[], $5::interval[], $6::boolean[])
                     as u(id, status, tried, error, retry_in, superseded)
                where d.id = u.id
                """, connection);
            update.Parameters.Add(new() { Value = updates.Select(u => u.Id).ToArray() });
            update.Parameters.Add(new() { Value = updates.Select(u => Name(u.Status)).ToArray() });
            update.Parameters.Add(new() { Value = updates.Select(u => u.Tried).ToArray() });
            update.Parameters.Add(new() { Value = updates.Select(u => u.Error).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            update.Parameters.Add(new() { Value = updates.Select(u => u.RetryIn).ToArray() });
            update.Parameters.Add(new() { Value = updates.Select(u => u.Superseded).ToArray() });
            update.Parameters.Add(new() { Value = now });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        if (delivered.Count > 0)
        {
            await using var states = new NpgsqlCommand("""
                insert into subscriber_dossier (subscription_id, source_system, native_id, event_time, source_version, change_hash)
                select $1, u.source_system, u.native_id, u.event_time, u.source_version, u.change_hash
                from unnest($2::text[], $3::text[], $4::timestamptz[], $5::bigint[], $6::bytea[])
                     as u(source_system, native_id, event_time, source_version, change_hash)
                on conflict (subscription_id, source_system, native_id) do update
                    set event_time = excluded.event_time, source_version = excluded.source_version, change_hash = excluded.change_hash
                    where (excluded.event_time, coalesce(excluded.source_version, -9223372036854775808), excluded.change_hash)
                        > (subscriber_dossier.event_time, coalesce(subscriber_dossier.source_version, -9223372036854775808), subscriber_dossier.change_hash)
                """, connection);
            states.Parameters.Add(new() { Value = subscriptionId });
            states.Parameters.Add(new() { Value = delivered.Select(d => d.SourceSystem).ToArray() });
            states.Parameters.Add(new() { Value = delivered.Select(d => d.NativeId).ToArray() });
            states.Parameters.Add(new() { Value = delivered.Select(d => d.EventTime.ToUniversalTime()).ToArray() });
            states.Parameters.Add(new() { Value = delivered.Select(d => d.SourceVersion).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            states.Parameters.Add(new() { Value = delivered.Select(d => d.ChangeHash).ToArray() });
            await states.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var exchange in exchanges)
        {
            await ExchangeLog.AppendAsync(connection, exchange, now, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>A subscription's deliveries, newest first, optionally of one state, before an id (paging).</summary>
    public async Task<IReadOnlyList<DeliveryView>> ListAsync(
        string subscriptionId, DeliveryStatus? status, long? beforeId, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select id, event_id, event_kind, dossier_code, status, attempts, next_attempt_at, last_attempt_at, last_error,
                   delivered_at, superseded, created_at
            from delivery
            where subscription_id = $1 and ($2::text is null or status = $2) and ($3::bigint is null or id < $3)
            order by id desc
            limit $4
            """);
        command.Parameters.Add(new() { Value = subscriptionId });
        command.Parameters.Add(new() { Value = status is { } s ? Name(s) : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)beforeId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new() { Value = limit });
        var list = new List<DeliveryView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new DeliveryView(reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), Parse(reader.GetString(4)),
                reader.GetInt32(5), reader.GetFieldValue<DateTimeOffset>(6),
                reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7), reader.IsDBNull(8) ? null : reader.GetString(8),
                reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9), reader.GetBoolean(10), reader.GetFieldValue<DateTimeOffset>(11)));
        }

        return list;
    }

    /// <summary>How many deliveries of a subscription are in each state.</summary>
    public async Task<IReadOnlyDictionary<DeliveryStatus, long>> CountsAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        var counts = Enum.GetValues<DeliveryStatus>().ToDictionary(s => s, _ => 0L);
        await using var command = dataSource.CreateCommand("select status, count(*) from delivery where subscription_id = $1 group by status");
        command.Parameters.Add(new() { Value = subscriptionId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[Parse(reader.GetString(0))] = reader.GetInt64(1);
        }

        return counts;
    }

    /// <summary>
    /// Puts dead-lettered deliveries back to pending with a fresh retry budget (all of the subscription's, or those
    /// listed), in one transaction with an administrative exchange-log entry naming who and why. Returns how many.
    /// </summary>
    public async Task<int> ReplayAsync(string subscriptionId, IReadOnlyList<long>? ids, string actor, string? reason, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            update delivery set status = 'pending', attempts = 0, next_attempt_at = now()
            where subscription_id = $1 and status = 'dead' and ($2::bigint[] is null or id = any($2))
            returning dossier_code
            """, connection);
        command.Parameters.Add(new() { Value = subscriptionId });
        command.Parameters.Add(new() { Value = (object?)ids?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        var dossiers = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                dossiers.Add(reader.GetString(0));
            }
        }

        await ExchangeLog.AppendAsync(connection, new ExchangeRecord
        {
            Kind = ExchangeRecord.AdminKind,
            ConnectorId = SubscriptionCatalog.LogId(subscriptionId),
            Outcome = "done",
            Actor = actor,
            Action = "deliveries.replayed",
            Reason = reason,
            Dossiers = [.. dossiers.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(1000)],
            Detail = JsonSerializer.Serialize(new { replayed = dossiers.Count, ids }, ConnectorCatalog.Json),
        }, timeProvider.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return dossiers.Count;
    }

    /// <summary>Deletes deliveries delivered before <paramref name="before"/>; never one waiting or dead. Returns how many.</summary>
    public async Task<int> PurgeDeliveredAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("delete from delivery where status = 'delivered' and delivered_at < $1");
        command.Parameters.Add(new() { Value = before });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The state's name as stored.</summary>
    public static string Name(DeliveryStatus status) => status switch
    {
        DeliveryStatus.Pending => "pending",
        DeliveryStatus.Failed => "failed",
        DeliveryStatus.Delivered => "delivered",
        DeliveryStatus.Dead => "dead",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    /// <summary>The state of a stored name.</summary>
    public static DeliveryStatus Parse(string name) => name switch
    {
        "pending" => DeliveryStatus.Pending,
        "failed" => DeliveryStatus.Failed,
        "delivered" => DeliveryStatus.Delivered,
        "dead" => DeliveryStatus.Dead,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a delivery state"),
    };
}
