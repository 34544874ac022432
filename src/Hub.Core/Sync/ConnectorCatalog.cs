using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hub.Connectors.Mapping;
using Npgsql;
using NpgsqlTypes;

namespace Hub.Core.Sync;

/// <summary>The registered connectors, in the <c>connector</c> table.</summary>
/// <remarks>
/// Every change of a registration is an administrative entry of the exchange log, in the transaction of the change:
/// <c>connector.registered</c>, <c>connector.changed</c> (naming the fields that changed, never configuration values,
/// which hold secrets), <c>connector.paused</c>, <c>connector.resumed</c> and <c>mapping.changed</c>, each with who did it
/// and why. Saving a registration unchanged (a file read again at start-up) writes nothing to the log.
/// The secret settings of configurations (those the kind's schema marks <c>x-secret</c>) are stored encrypted by
/// <see cref="ConnectorSecrets"/> and decrypted when a registration is loaded (docs/decisions/0008).
/// </remarks>
public sealed partial class ConnectorCatalog(NpgsqlDataSource dataSource, ConnectorSecrets secrets, TimeProvider? timeProvider = null)
{
    /// <summary>How mappings, configurations and resilience settings are written in the table and in configuration.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The actor of a save that names none (tests, tools).</summary>
    public const string DefaultActor = "hub";

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>Registers a connector or replaces its registration; its cursor is kept. Logged with actor <see cref="DefaultActor"/>.</summary>
    /// <returns>The administrative actions logged (none when nothing changed).</returns>
    public Task<IReadOnlyList<string>> SaveAsync(ConnectorRegistration registration, CancellationToken cancellationToken) =>
        SaveAsync(registration, DefaultActor, null, cancellationToken);

    /// <summary>Registers a connector or replaces its registration (its cursor is kept), and logs what changed.</summary>
    /// <param name="registration">The registration.</param>
    /// <param name="actor">Who did it: <c>file:&lt;path&gt;</c> for a registration file, the API caller otherwise.</param>
    /// <param name="reason">Why, when the actor said.</param>
    /// <param name="cancellationToken">Cancels; nothing is saved.</param>
    /// <returns>The administrative actions logged (none when nothing changed).</returns>
    public async Task<IReadOnlyList<string>> SaveAsync(ConnectorRegistration registration, string actor, string? reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        return await WriteAsync(registration, WriteMode.File, actor, reason, cancellationToken);
    }

    /// <summary>How a write treats the connector's existence and lifecycle.</summary>
    private enum WriteMode
    {
        /// <summary>A registration file or a tool: creates or replaces; <c>active</c> sets the lifecycle (active or paused).</summary>
        File,

        /// <summary>The API's register: creates a draft; an existing id is a conflict.</summary>
        Create,

        /// <summary>The API's update: replaces an existing, unretired registration and keeps its lifecycle.</summary>
        Update,
    }

    private async Task<IReadOnlyList<string>> WriteAsync(
        ConnectorRegistration registration, WriteMode mode, string actor, string? reason, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Writers of one connector id take turns from here: a row lock alone does not cover a connector not registered
        // yet, so two writers (nodes starting with the same registration files) would both see none and both log it as
        // registered, and one that found the row locked it before the source system's lock, the other after: a deadlock.
        await using (var turn = new NpgsqlCommand("select pg_advisory_xact_lock(hashtextextended('connector-id:' || $1, 0))", connection))
        {
            turn.Parameters.Add(new() { Value = registration.Id });
            await turn.ExecuteNonQueryAsync(cancellationToken);
        }

        var storedBefore = await StoredAsync(connection, registration.Id, forUpdate: true, cancellationToken);
        var before = Readable(registration.Id, storedBefore);
        var lifecycle = mode switch
        {
            WriteMode.Create when before is not null => throw new ConnectorConflictException(
                $"A connector with id '{registration.Id}' is already registered; update it (PUT) or choose another id."),
            WriteMode.Create => ConnectorLifecycle.Draft,
            WriteMode.Update when before is null => throw new UnknownConnectorException(registration.Id),
            WriteMode.Update when before.Lifecycle == ConnectorLifecycle.Retired => throw new ConnectorConflictException(
                $"Connector '{registration.Id}' is retired and can no longer be changed; register a new one."),
            WriteMode.Update => before.Lifecycle,
            _ => registration.Active ? ConnectorLifecycle.Active : ConnectorLifecycle.Paused,
        };

        await CheckSourceSystemAsync(connection, registration, cancellationToken);
        var configuration = secrets.Protect(registration.Id, registration.Kind, registration.Configuration);
        await using (var command = new NpgsqlCommand("""
            insert into connector (id, kind, source_system, display_name, configuration, mapping, schedule, time_zone,
                                   resilience, quarantine_threshold, active, agency, lifecycle, lifecycle_changed_at, lifecycle_changed_by, lifecycle_reason)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12 = 'active', $11, $12, now(), $13, $14)
            on conflict (id) do update set
                kind = excluded.kind, source_system = excluded.source_system, display_name = excluded.display_name,
                configuration = excluded.configuration, mapping = excluded.mapping, schedule = excluded.schedule,
                time_zone = excluded.time_zone, resilience = excluded.resilience,
                quarantine_threshold = excluded.quarantine_threshold, active = excluded.active, agency = excluded.agency,
                lifecycle = excluded.lifecycle,
                lifecycle_changed_at = case when connector.lifecycle = excluded.lifecycle then connector.lifecycle_changed_at else now() end,
                lifecycle_changed_by = case when connector.lifecycle = excluded.lifecycle then connector.lifecycle_changed_by else excluded.lifecycle_changed_by end,
                lifecycle_reason = case when connector.lifecycle = excluded.lifecycle then connector.lifecycle_reason else excluded.lifecycle_reason end,
                updated_at = now()
            """, connection))
        {
            command.Parameters.Add(new() { Value = registration.Id });
            command.Parameters.Add(new() { Value = registration.Kind });
            command.Parameters.Add(new() { Value = registration.SourceSystem });
            command.Parameters.Add(new() { Value = registration.DisplayName });
            command.Parameters.Add(new() { Value = configuration, NpgsqlDbType = NpgsqlDbType.Jsonb });
            command.Parameters.Add(new() { Value = JsonSerializer.Serialize(registration.Mapping, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
            command.Parameters.Add(new() { Value = (object?)registration.Schedule ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new() { Value = registration.TimeZone });
            command.Parameters.Add(new() { Value = JsonSerializer.Serialize(registration.Resilience, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
            command.Parameters.Add(new() { Value = registration.QuarantineThreshold });
            command.Parameters.Add(new() { Value = (object?)registration.Agency ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new() { Value = Name(lifecycle) });
            command.Parameters.Add(new() { Value = actor });
            command.Parameters.Add(new() { Value = (object?)reason ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        // Compared as PostgreSQL stores them (jsonb normalised), so a file written differently but meaning the same is no change.
        var after = Readable(registration.Id, await StoredAsync(connection, registration.Id, forUpdate: false, cancellationToken))!;
        await RecordMappingVersionAsync(connection, registration.Id, after, actor, reason, cancellationToken);
        var actions = Actions(before, after);

        // A submitted or approved registration that changes goes back to draft: what was reviewed is no longer what runs.
        if (mode == WriteMode.Update && actions.Count > 0 && after.Lifecycle is ConnectorLifecycle.Submitted or ConnectorLifecycle.Approved)
        {
            await SetLifecycleAsync(connection, registration.Id, ConnectorLifecycle.Draft, actor, "changed after it was " + Name(after.Lifecycle), cancellationToken);
            actions.Add(("connector.returned", new { from = Name(after.Lifecycle), to = Name(ConnectorLifecycle.Draft), why = "changed after review" }));
        }

        foreach (var (action, detail) in actions)
        {
            await LogAdminAsync(connection, registration.Id, action, actor, reason, after.MappingVersion, detail, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return [.. actions.Select(a => a.Action)];
    }

    /// <summary>
    /// A stored registration with its secrets decrypted, so that a configuration saved again unchanged compares equal
    /// (each encryption gives another payload). One that does not decrypt any more compares unequal to anything.
    /// </summary>
    private StoredRegistration? Readable(string id, StoredRegistration? stored)
    {
        if (stored is null)
        {
            return null;
        }

        try
        {
            return stored with { Configuration = secrets.Unprotect(id, stored.Configuration).GetRawText() };
        }
        catch (CryptographicException)
        {
            return stored with { Configuration = "unreadable:" + Guid.NewGuid().ToString("N") };
        }
    }

    /// <summary>
    /// Encrypts the secrets that an earlier version of the hub stored in plaintext, each connector in a transaction of its
    /// own with an administrative entry <c>connector.secrets-encrypted</c> naming the settings (never their values). Rows of
    /// kinds unknown here are left as they are and returned.
    /// </summary>
    /// <returns>The ids of the connectors encrypted, and those of unknown kinds that could not be checked.</returns>
    public async Task<(IReadOnlyList<string> Encrypted, IReadOnlyList<string> UnknownKind)> ProtectPlaintextSecretsAsync(CancellationToken cancellationToken)
    {
        var candidates = new List<(string Id, string Kind)>();
        var unknown = new List<string>();
        await using (var list = dataSource.CreateCommand("select id, kind, configuration::text from connector order by id"))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var (id, kind) = (reader.GetString(0), reader.GetString(1));
                if (!secrets.Knows(kind))
                {
                    unknown.Add(id);
                }
                else if (secrets.HasPlaintext(kind, reader.GetString(2)))
                {
                    candidates.Add((id, kind));
                }
            }
        }

        var encrypted = new List<string>();
        foreach (var (id, kind) in candidates)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            string stored;
            string? mappingVersion;
            await using (var read = new NpgsqlCommand("select configuration::text, mapping->>'version' from connector where id = $1 and kind = $2 for update", connection))
            {
                read.Parameters.Add(new() { Value = id });
                read.Parameters.Add(new() { Value = kind });
                await using var reader = await read.ExecuteReaderAsync(cancellationToken);
                if (!await reader.ReadAsync(cancellationToken))
                {
                    continue;
                }

                (stored, mappingVersion) = (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1));
            }

            using var document = JsonDocument.Parse(stored);
            var configuration = secrets.Protect(id, kind, document.RootElement, out var fields);
            if (fields.Count == 0)
            {
                continue;
            }

            await using (var update = new NpgsqlCommand("update connector set configuration = $2 where id = $1", connection))
            {
                update.Parameters.Add(new() { Value = id });
                update.Parameters.Add(new() { Value = configuration, NpgsqlDbType = NpgsqlDbType.Jsonb });
                await update.ExecuteNonQueryAsync(cancellationToken);
            }

            await LogAdminAsync(connection, id, "connector.secrets-encrypted", DefaultActor, "secrets stored in plaintext by an earlier version of the hub", mappingVersion, new { fields }, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            encrypted.Add(id);
        }

        return (encrypted, unknown);
    }

    /// <summary>The administrative actions that turn <paramref name="before"/> into <paramref name="after"/>, with their details.</summary>
    private static List<(string Action, object Detail)> Actions(StoredRegistration? before, StoredRegistration after)
    {
        if (before is null)
        {
            return [("connector.registered", new
            {
                kind = after.Kind,
                sourceSystem = after.SourceSystem,
                displayName = after.DisplayName,
                mappingVersion = after.MappingVersion,
                schedule = after.Schedule,
                active = after.Active,
                agency = after.Agency,
                lifecycle = Name(after.Lifecycle),
            })];
        }

        var actions = new List<(string, object)>();
        if (before.Active != after.Active)
        {
            actions.Add((after.Active ? "connector.resumed" : "connector.paused", new { active = after.Active }));
        }
        else if (before.Lifecycle != after.Lifecycle)
        {
            actions.Add(("connector." + Name(after.Lifecycle), new { from = Name(before.Lifecycle), to = Name(after.Lifecycle) }));
        }

        if (before.Mapping != after.Mapping)
        {
            actions.Add(("mapping.changed", new
            {
                versionBefore = before.MappingVersion,
                versionAfter = after.MappingVersion,
                sha256Before = Sha(before.Mapping),
                sha256After = Sha(after.Mapping),
            }));
        }

        // Configuration values hold secrets: only the fact that it changed is logged. The other fields are shown.
        var changed = new List<string>();
        var was = new Dictionary<string, object?>(StringComparer.Ordinal);
        var now = new Dictionary<string, object?>(StringComparer.Ordinal);
        void Compare(string name, object? a, object? b, bool show = true)
        {
            if (!Equals(a, b))
            {
                changed.Add(name);
                if (show)
                {
                    was[name] = a;
                    now[name] = b;
                }
            }
        }

        Compare("kind", before.Kind, after.Kind);
        Compare("sourceSystem", before.SourceSystem, after.SourceSystem);
        Compare("displayName", before.DisplayName, after.DisplayName);
        Compare("agency", before.Agency, after.Agency);
        Compare("configuration", before.Configuration, after.Configuration, show: false);
        Compare("schedule", before.Schedule, after.Schedule);
        Compare("timeZone", before.TimeZone, after.TimeZone);
        Compare("resilience", before.Resilience, after.Resilience);
        Compare("quarantineThreshold", before.QuarantineThreshold, after.QuarantineThreshold);
        if (changed.Count > 0)
        {
            actions.Add(("connector.changed", new { changed, before = was, after = now }));
        }

        return actions;
    }

    private static string Sha(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static async Task<StoredRegistration?> StoredAsync(NpgsqlConnection connection, string id, bool forUpdate, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            select kind, source_system, display_name, configuration::text, mapping::text, schedule, time_zone, resilience::text,
                   quarantine_threshold, active, mapping->>'version', agency, lifecycle, lifecycle_changed_by
            from connector where id = $1 {(forUpdate ? "for update" : "")}
            """, connection);
        command.Parameters.Add(new() { Value = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new StoredRegistration(
            reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetDouble(8), reader.GetBoolean(9),
            reader.IsDBNull(10) ? null : reader.GetString(10),
            reader.IsDBNull(11) ? null : reader.GetString(11),
            ParseLifecycle(reader.GetString(12)),
            reader.IsDBNull(13) ? null : reader.GetString(13));
    }

    /// <summary>A registration's columns as stored, JSON as PostgreSQL writes jsonb back.</summary>
    private sealed record StoredRegistration(
        string Kind, string SourceSystem, string DisplayName, string Configuration, string Mapping, string? Schedule, string TimeZone,
        string Resilience, double QuarantineThreshold, bool Active, string? MappingVersion, string? Agency, ConnectorLifecycle Lifecycle,
        string? LifecycleChangedBy);

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

    /// <summary>
    /// Who owns what, without reading configurations (no secret is decrypted): each connector's id, source system and
    /// agency. A dossier belongs to the agency owning the connectors of its source system (one owner per source system).
    /// </summary>
    public async Task<IReadOnlyList<ConnectorOwner>> OwnersAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select id, source_system, agency from connector order by id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<ConnectorOwner>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new ConnectorOwner(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        return list;
    }

    private const string SelectSql = """
        select id, kind, source_system, display_name, configuration::text, mapping::text, schedule, time_zone,
               resilience::text, quarantine_threshold, active, cursor, cursor_moved_at, agency, lifecycle,
               lifecycle_reason, lifecycle_changed_at, lifecycle_changed_by
        from connector
        """;

    private ConnectorState Read(NpgsqlDataReader reader)
    {
        JsonElement configuration;
        try
        {
            configuration = secrets.Unprotect(reader.GetString(0), reader.GetString(4));
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException(
                $"The secrets of connector '{reader.GetString(0)}' do not decrypt with the hub's key ring (table data_protection_key): {e.Message}", e);
        }

        var registration = new ConnectorRegistration
        {
            Id = reader.GetString(0),
            Kind = reader.GetString(1),
            SourceSystem = reader.GetString(2),
            DisplayName = reader.GetString(3),
            Configuration = configuration,
            Mapping = JsonSerializer.Deserialize<MappingDefinition>(reader.GetString(5), Json)
                ?? throw new InvalidOperationException($"Connector '{reader.GetString(0)}' has no mapping."),
            Schedule = reader.IsDBNull(6) ? null : reader.GetString(6),
            TimeZone = reader.GetString(7),
            Resilience = JsonSerializer.Deserialize<ConnectorResilience>(reader.GetString(8), Json) ?? new(),
            QuarantineThreshold = reader.GetDouble(9),
            Active = reader.GetBoolean(10),
            Agency = reader.IsDBNull(13) ? null : reader.GetString(13),
        };
        return new ConnectorState(
            registration,
            reader.IsDBNull(11) ? null : reader.GetString(11),
            reader.IsDBNull(12) ? null : reader.GetFieldValue<DateTimeOffset>(12))
        {
            Lifecycle = ParseLifecycle(reader.GetString(14)),
            LifecycleReason = reader.IsDBNull(15) ? null : reader.GetString(15),
            LifecycleChangedAt = reader.IsDBNull(16) ? null : reader.GetFieldValue<DateTimeOffset>(16),
            LifecycleChangedBy = reader.IsDBNull(17) ? null : reader.GetString(17),
        };
    }
}

/// <summary>A connector's owner: its agency (<c>null</c> for a central connector) and the source system it writes.</summary>
public sealed record ConnectorOwner(string Id, string SourceSystem, string? Agency);
