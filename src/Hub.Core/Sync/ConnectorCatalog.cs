using System.Text.Json;
using Hub.Connectors.Mapping;
using Npgsql;
using NpgsqlTypes;

namespace Hub.Core.Sync;

/// <summary>The registered connectors, in the <c>connector</c> table.</summary>
public sealed class ConnectorCatalog(NpgsqlDataSource dataSource)
{
    /// <summary>How mappings, configurations and resilience settings are written in the table and in configuration.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Registers a connector or replaces its registration; its cursor is kept.</summary>
    public async Task SaveAsync(ConnectorRegistration registration, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            insert into connector (id, kind, source_system, display_name, configuration, mapping, schedule, time_zone,
                                   resilience, quarantine_threshold, active)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            on conflict (id) do update set
                kind = excluded.kind, source_system = excluded.source_system, display_name = excluded.display_name,
                configuration = excluded.configuration, mapping = excluded.mapping, schedule = excluded.schedule,
                time_zone = excluded.time_zone, resilience = excluded.resilience,
                quarantine_threshold = excluded.quarantine_threshold, active = excluded.active, updated_at = now()
            """);
        command.Parameters.Add(new() { Value = registration.Id });
        command.Parameters.Add(new() { Value = registration.Kind });
        command.Parameters.Add(new() { Value = registration.SourceSystem });
        command.Parameters.Add(new() { Value = registration.DisplayName });
        command.Parameters.Add(new() { Value = registration.Configuration.GetRawText(), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = JsonSerializer.Serialize(registration.Mapping, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = (object?)registration.Schedule ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = registration.TimeZone });
        command.Parameters.Add(new() { Value = JsonSerializer.Serialize(registration.Resilience, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = registration.QuarantineThreshold });
        command.Parameters.Add(new() { Value = registration.Active });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A connector and its cursor; <c>null</c> when no connector has the id.</summary>
    public async Task<ConnectorState?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"{SelectSql} where id = $1");
        command.Parameters.Add(new() { Value = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>Every registered connector, by id.</summary>
    public async Task<IReadOnlyList<ConnectorState>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"{SelectSql} order by id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<ConnectorState>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(Read(reader));
        }

        return list;
    }

    private const string SelectSql = """
        select id, kind, source_system, display_name, configuration::text, mapping::text, schedule, time_zone,
               resilience::text, quarantine_threshold, active, cursor, cursor_moved_at
        from connector
        """;

    private static ConnectorState Read(NpgsqlDataReader reader)
    {
        using var configuration = JsonDocument.Parse(reader.GetString(4));
        var registration = new ConnectorRegistration
        {
            Id = reader.GetString(0),
            Kind = reader.GetString(1),
            SourceSystem = reader.GetString(2),
            DisplayName = reader.GetString(3),
            Configuration = configuration.RootElement.Clone(),
            Mapping = JsonSerializer.Deserialize<MappingDefinition>(reader.GetString(5), Json)
                ?? throw new InvalidOperationException($"Connector '{reader.GetString(0)}' has no mapping."),
            Schedule = reader.IsDBNull(6) ? null : reader.GetString(6),
            TimeZone = reader.GetString(7),
            Resilience = JsonSerializer.Deserialize<ConnectorResilience>(reader.GetString(8), Json) ?? new(),
            QuarantineThreshold = reader.GetDouble(9),
            Active = reader.GetBoolean(10),
        };
        return new ConnectorState(
            registration,
            reader.IsDBNull(11) ? null : reader.GetString(11),
            reader.IsDBNull(12) ? null : reader.GetFieldValue<DateTimeOffset>(12));
    }
}
