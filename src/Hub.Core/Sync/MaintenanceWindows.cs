using System.Text.Json;
using Hub.Core.Audit;
using Npgsql;
using NpgsqlTypes;

namespace Hub.Core.Sync;

/// <summary>A connector's maintenance window: while it covers now, the connector's alerts are muted.</summary>
/// <param name="Id">The window's id.</param>
/// <param name="ConnectorId">The connector.</param>
/// <param name="From">Its start.</param>
/// <param name="To">Its end (excluded).</param>
/// <param name="Reason">Why, as its author said.</param>
/// <param name="CreatedBy">Who set it.</param>
/// <param name="CreatedAt">When.</param>
public sealed record MaintenanceWindow(long Id, string ConnectorId, DateTimeOffset From, DateTimeOffset To, string Reason, string CreatedBy, DateTimeOffset CreatedAt);

/// <summary>
/// Maintenance windows per connector (table <c>maintenance_window</c>). Setting and cancelling one are administrative
/// entries of the exchange log (<c>maintenance.scheduled</c>, <c>maintenance.cancelled</c>) with the actor and the reason,
/// in the transaction of the change.
/// </summary>
public sealed class MaintenanceWindows(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    /// <summary>Sets a window on a connector and logs it.</summary>
    public async Task<MaintenanceWindow> AddAsync(
        string connectorId, DateTimeOffset from, DateTimeOffset to, string reason, string actor, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (to <= from)
        {
            throw new ArgumentException("A maintenance window must end after it starts.", nameof(to));
        }

        var now = timeProvider.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        MaintenanceWindow window;
        await using (var insert = new NpgsqlCommand("""
            insert into maintenance_window (connector_id, starts_at, ends_at, reason, created_by, created_at)
            values ($1, $2, $3, $4, $5, $6)
            returning id
            """, connection))
        {
            insert.Parameters.Add(new() { Value = connectorId });
            insert.Parameters.Add(new() { Value = from.ToUniversalTime() });
            insert.Parameters.Add(new() { Value = to.ToUniversalTime() });
            insert.Parameters.Add(new() { Value = reason });
            insert.Parameters.Add(new() { Value = actor });
            insert.Parameters.Add(new() { Value = now });
            var id = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
            window = new MaintenanceWindow(id, connectorId, from.ToUniversalTime(), to.ToUniversalTime(), reason, actor, now);
        }

        await LogAsync(connection, connectorId, "maintenance.scheduled", actor, reason, new { windowId = window.Id, from = window.From, to = window.To }, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return window;
    }

    /// <summary>A connector's windows that are not cancelled and have not ended, soonest first.</summary>
    public async Task<IReadOnlyList<MaintenanceWindow>> ListAsync(string connectorId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select id, connector_id, starts_at, ends_at, reason, created_by, created_at from maintenance_window
            where connector_id = $1 and cancelled_at is null and ends_at > $2
            order by starts_at, id
            """);
        command.Parameters.Add(new() { Value = connectorId });
        command.Parameters.Add(new() { Value = timeProvider.GetUtcNow() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<MaintenanceWindow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new(reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetString(4), reader.GetString(5), reader.GetFieldValue<DateTimeOffset>(6)));
        }

        return list;
    }

    /// <summary>Cancels a window of the connector and logs it; <c>false</c> when it has no such window (or it was cancelled).</summary>
    public async Task<bool> CancelAsync(string connectorId, long windowId, string actor, string? reason, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var update = new NpgsqlCommand("""
            update maintenance_window set cancelled_at = $3, cancelled_by = $4, cancel_reason = $5
            where id = $1 and connector_id = $2 and cancelled_at is null
            """, connection))
        {
            update.Parameters.Add(new() { Value = windowId });
            update.Parameters.Add(new() { Value = connectorId });
            update.Parameters.Add(new() { Value = now });
            update.Parameters.Add(new() { Value = actor });
            update.Parameters.Add(new() { Value = (object?)reason ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return false;
            }
        }

        await LogAsync(connection, connectorId, "maintenance.cancelled", actor, reason, new { windowId }, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The connectors that a window covers at <paramref name="now"/>.</summary>
    public async Task<IReadOnlySet<string>> CoveredAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select distinct connector_id from maintenance_window where cancelled_at is null and starts_at <= $1 and ends_at > $1
            """);
        command.Parameters.Add(new() { Value = now });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var set = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            set.Add(reader.GetString(0));
        }

        return set;
    }

    private static Task<long> LogAsync(
        NpgsqlConnection connection, string connectorId, string action, string actor, string? reason, object detail, DateTimeOffset now, CancellationToken cancellationToken) =>
        ExchangeLog.AppendAsync(connection, new ExchangeRecord
        {
            Kind = ExchangeRecord.AdminKind,
            ConnectorId = connectorId,
            ReceivedAt = now,
            Outcome = "done",
            Reason = reason,
            Actor = actor,
            Action = action,
            Detail = JsonSerializer.Serialize(detail),
        }, now, cancellationToken);
}
