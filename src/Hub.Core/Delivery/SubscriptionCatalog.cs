using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Contracts;
using Hub.Core.Audit;
using Hub.Core.Sync;
using Npgsql;
using NpgsqlTypes;

namespace Hub.Core.Delivery;

/// <summary>What saving a registration did.</summary>
public enum SubscriptionSave
{
    /// <summary>A new subscription.</summary>
    Created,

    /// <summary>The registration replaced a different one.</summary>
    Changed,

    /// <summary>The registration equals the stored one: nothing was written.</summary>
    Unchanged,
}

/// <summary>
/// The registered subscriptions (table <c>subscription</c>): saved with their secrets encrypted as connectors' are,
/// each change an administrative entry of the exchange log written in the same transaction.
/// </summary>
public sealed class SubscriptionCatalog(NpgsqlDataSource dataSource, ConnectorSecrets secrets, TimeProvider timeProvider)
{
    /// <summary>The exchange log's connector id of a subscription's entries: subscriptions and connectors are told apart.</summary>
    public static string LogId(string subscriptionId) => "subscription:" + subscriptionId;

    private const string Columns =
        "id, kind, display_name, configuration, agencies, procedures, statuses, max_attempts, retry_base, retry_max, batch_size, resilience, active, created_at, updated_at";

    /// <summary>Registers a subscription or replaces its registration; a registration equal to the stored one changes nothing and is not logged.</summary>
    public async Task<SubscriptionSave> SaveAsync(SubscriptionRegistration registration, string actor, string? reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        if (await GetAsync(registration.Id, cancellationToken) is { } existing && SameAs(existing.Registration, registration))
        {
            return SubscriptionSave.Unchanged;
        }

        var stored = secrets.Protect(LogId(registration.Id), registration.Kind, registration.Configuration);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var now = timeProvider.GetUtcNow();
        await using var command = new NpgsqlCommand($"""
            insert into subscription ({Columns})
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
            on conflict (id) do update set kind = excluded.kind, display_name = excluded.display_name,
                configuration = excluded.configuration, agencies = excluded.agencies, procedures = excluded.procedures,
                statuses = excluded.statuses, max_attempts = excluded.max_attempts, retry_base = excluded.retry_base,
                retry_max = excluded.retry_max, batch_size = excluded.batch_size, resilience = excluded.resilience,
                active = excluded.active, updated_at = excluded.updated_at
            returning (xmax = 0)
            """, connection);
        var filter = registration.Filter;
        command.Parameters.Add(new() { Value = registration.Id });
        command.Parameters.Add(new() { Value = registration.Kind });
        command.Parameters.Add(new() { Value = registration.DisplayName });
        command.Parameters.Add(new() { Value = stored });
        command.Parameters.Add(new() { Value = (object?)Empty(filter.Agencies)?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)Empty(filter.Procedures)?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new()
        {
            Value = (object?)Empty(filter.Statuses)?.Select(s => (short)s).ToArray() ?? DBNull.Value,
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Smallint,
        });
        command.Parameters.Add(new() { Value = registration.Delivery.MaxAttempts });
        command.Parameters.Add(new() { Value = registration.Delivery.RetryBaseDelay });
        command.Parameters.Add(new() { Value = registration.Delivery.MaxRetryDelay });
        command.Parameters.Add(new() { Value = registration.Delivery.BatchSize });
        command.Parameters.Add(new() { Value = JsonSerializer.Serialize(registration.Resilience, ConnectorCatalog.Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = registration.Active });
        command.Parameters.Add(new() { Value = now });
        var created = (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
        await ExchangeLog.AppendAsync(connection, new ExchangeRecord
        {
            Kind = ExchangeRecord.AdminKind,
            ConnectorId = LogId(registration.Id),
            Outcome = "done",
            Actor = actor,
            Action = created ? "subscription.registered" : "subscription.changed",
            Reason = reason,
            Detail = JsonSerializer.Serialize(new
            {
                registration.Kind,
                registration.DisplayName,
                registration.Filter,
                registration.Delivery,
                registration.Active,
            }, ConnectorCatalog.Json),
        }, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return created ? SubscriptionSave.Created : SubscriptionSave.Changed;
    }

    private bool SameAs(SubscriptionRegistration stored, SubscriptionRegistration given) =>
        JsonSerializer.Serialize(Comparable(stored), ConnectorCatalog.Json) == JsonSerializer.Serialize(Comparable(given), ConnectorCatalog.Json)
        && JsonNode.DeepEquals(JsonNode.Parse(Configuration(stored).GetRawText()), JsonNode.Parse(given.Configuration.GetRawText()));

    private static object Comparable(SubscriptionRegistration r) => new
    {
        r.Kind,
        r.DisplayName,
        Agencies = Empty(r.Filter.Agencies),
        Procedures = Empty(r.Filter.Procedures),
        Statuses = Empty(r.Filter.Statuses),
        r.Delivery,
        r.Resilience,
        r.Active,
    };

    /// <summary>One subscription, configuration as stored (secrets encrypted); null when there is none.</summary>
    public async Task<SubscriptionState?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"select {Columns} from subscription where id = $1");
        command.Parameters.Add(new() { Value = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>Every subscription, by id.</summary>
    public async Task<IReadOnlyList<SubscriptionState>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"select {Columns} from subscription order by id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<SubscriptionState>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(Read(reader));
        }

        return list;
    }

    /// <summary>The configuration with its secrets decrypted, as the kind reads it.</summary>
    public JsonElement Configuration(SubscriptionRegistration stored) =>
        secrets.Unprotect(LogId(stored.Id), stored.Configuration.GetRawText());

    private static SubscriptionState Read(NpgsqlDataReader reader)
    {
        var registration = new SubscriptionRegistration
        {
            Id = reader.GetString(0),
            Kind = reader.GetString(1),
            DisplayName = reader.GetString(2),
            Configuration = JsonDocument.Parse(reader.GetString(3)).RootElement.Clone(),
            Filter = new SubscriptionFilter
            {
                Agencies = reader.IsDBNull(4) ? null : reader.GetFieldValue<string[]>(4),
                Procedures = reader.IsDBNull(5) ? null : reader.GetFieldValue<string[]>(5),
                Statuses = reader.IsDBNull(6) ? null : [.. reader.GetFieldValue<short[]>(6).Select(s => (NationalStatus)s)],
            },
            Delivery = new DeliverySettings
            {
                MaxAttempts = reader.GetInt32(7),
                RetryBaseDelay = reader.GetFieldValue<TimeSpan>(8),
                MaxRetryDelay = reader.GetFieldValue<TimeSpan>(9),
                BatchSize = reader.GetInt32(10),
            },
            Resilience = JsonSerializer.Deserialize<ConnectorResilience>(reader.GetString(11), ConnectorCatalog.Json) ?? new(),
            Active = reader.GetBoolean(12),
        };
        return new SubscriptionState(registration, reader.GetFieldValue<DateTimeOffset>(13), reader.GetFieldValue<DateTimeOffset>(14));
    }

    private static IReadOnlyList<T>? Empty<T>(IReadOnlyList<T>? list) => list is { Count: > 0 } ? list : null;
}
