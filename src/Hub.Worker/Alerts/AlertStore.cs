using Npgsql;
using NpgsqlTypes;

namespace Hub.Worker.Alerts;

/// <summary>An alert as kept in the <c>alert</c> table.</summary>
public sealed record AlertRecord(
    long Id, string Rule, string ConnectorId, string State, DateTimeOffset? Since, string Message, DateTimeOffset FiredAt,
    DateTimeOffset? DeliveredAt, DateTimeOffset? ResolvedAt, DateTimeOffset? ResolvedDeliveredAt);

/// <summary>
/// The open alerts and their deliveries, in PostgreSQL so that every hub process and a restarted one agree on what has
/// fired: a firing is claimed by an insert that does nothing on conflict with the open alert of the same rule and
/// connector, a resolution by an update of the open row, and a delivery under a row lock that other processes skip.
/// </summary>
public sealed class AlertStore(NpgsqlDataSource dataSource)
{
    /// <summary>The open alerts (not resolved).</summary>
    public async Task<IReadOnlyList<AlertRecord>> OpenAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"{Select} where resolved_at is null order by id");
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>Opens an alert for the condition unless one is open; <c>null</c> when it was (here or in another process).</summary>
    public async Task<AlertRecord?> TryFireAsync(AlertCondition condition, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(condition);
        await using var command = dataSource.CreateCommand($"""
            insert into alert (rule, connector_id, state, since, message, fired_at)
            values ($1, $2, $3, $4, $5, $6)
            on conflict (rule, connector_id) where resolved_at is null do nothing
            returning {Columns}
            """);
        command.Parameters.Add(new() { Value = condition.Rule });
        command.Parameters.Add(new() { Value = condition.ConnectorId });
        command.Parameters.Add(new() { Value = condition.State });
        command.Parameters.Add(new() { Value = (object?)condition.Since?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = condition.Message });
        command.Parameters.Add(new() { Value = now.ToUniversalTime() });
        return (await ReadAsync(command, cancellationToken)).SingleOrDefault();
    }

    /// <summary>Resolves an open alert; <c>null</c> when it was resolved already (here or in another process).</summary>
    public async Task<AlertRecord?> TryResolveAsync(long id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"update alert set resolved_at = $2 where id = $1 and resolved_at is null returning {Columns}");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = now });
        return (await ReadAsync(command, cancellationToken)).SingleOrDefault();
    }

    /// <summary>Ids of the alerts with a firing or a resolution not yet delivered, oldest first.</summary>
    public async Task<IReadOnlyList<long>> UndeliveredAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "select id from alert where delivered_at is null or (resolved_at is not null and resolved_delivered_at is null) order by id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var ids = new List<long>();
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    /// <summary>
    /// Delivers what is undelivered of one alert under its row lock: <paramref name="deliver"/> is called with the alert
    /// and whether it is the resolution; it returns <c>null</c> on success or the failure. Another process delivering the
    /// same alert holds the lock, and this one skips it.
    /// </summary>
    public async Task DeliverAsync(long id, Func<AlertRecord, bool, Task<string?>> deliver, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deliver);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var select = new NpgsqlCommand($"""
            {Select} where id = $1 and (delivered_at is null or (resolved_at is not null and resolved_delivered_at is null))
            for update skip locked
            """, connection);
        select.Parameters.Add(new() { Value = id });
        if ((await ReadAsync(select, cancellationToken)).SingleOrDefault() is not { } alert)
        {
            return;
        }

        string? failure = null;
        var fired = alert.DeliveredAt;
        if (fired is null)
        {
            failure = await deliver(alert, false);
            fired = failure is null ? now : null;
        }

        DateTimeOffset? resolved = alert.ResolvedDeliveredAt;
        if (failure is null && alert.ResolvedAt is not null && resolved is null)
        {
            failure = await deliver(alert, true);
            resolved = failure is null ? now : null;
        }

        await using var update = new NpgsqlCommand("""
            update alert set delivered_at = $2, resolved_delivered_at = $3, delivery_attempts = delivery_attempts + 1,
                             last_delivery_at = $4, last_delivery_error = $5
            where id = $1
            """, connection);
        update.Parameters.Add(new() { Value = id });
        update.Parameters.Add(new() { Value = (object?)fired ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        update.Parameters.Add(new() { Value = (object?)resolved ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        update.Parameters.Add(new() { Value = now });
        update.Parameters.Add(new() { Value = (object?)failure ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await update.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private const string Columns = "id, rule, connector_id, state, since, message, fired_at, delivered_at, resolved_at, resolved_delivered_at";

    private const string Select = $"select {Columns} from alert";

    private static async Task<IReadOnlyList<AlertRecord>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<AlertRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5), reader.GetFieldValue<DateTimeOffset>(6),
                reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7), reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8),
                reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9)));
        }

        return list;
    }
}
