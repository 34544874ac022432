using System.Text.Json;
using Hub.Core.Audit;
using Npgsql;
using NpgsqlTypes;

namespace Hub.Core.Sync;

/// <summary>
/// Registration through the API: a connector is created as a draft of its agency, changed by its owners, moved through
/// its lifecycle with a reason, and deleted only while it has never run (a connector with history is retired instead).
/// </summary>
public sealed partial class ConnectorCatalog
{
    /// <summary>A lifecycle step: the states it leaves, the state it reaches, whether only an operator may take it.</summary>
    /// <param name="Name">The step's name in the API, e.g. <c>submit</c>.</param>
    /// <param name="From">The states it applies to.</param>
    /// <param name="To">The state it reaches.</param>
    /// <param name="OperatorOnly">Whether only an operator may take it (approval).</param>
    /// <param name="Action">The exchange-log action recorded.</param>
    public sealed record LifecycleStep(string Name, IReadOnlyList<ConnectorLifecycle> From, ConnectorLifecycle To, bool OperatorOnly, string Action);

    /// <summary>Every lifecycle step, by name.</summary>
    public static IReadOnlyDictionary<string, LifecycleStep> Steps { get; } = new LifecycleStep[]
    {
        new("submit", [ConnectorLifecycle.Draft], ConnectorLifecycle.Submitted, false, "connector.submitted"),
        new("return", [ConnectorLifecycle.Submitted, ConnectorLifecycle.Approved], ConnectorLifecycle.Draft, false, "connector.returned"),
        new("approve", [ConnectorLifecycle.Submitted], ConnectorLifecycle.Approved, true, "connector.approved"),
        new("activate", [ConnectorLifecycle.Approved], ConnectorLifecycle.Active, false, "connector.activated"),
        new("pause", [ConnectorLifecycle.Active], ConnectorLifecycle.Paused, false, "connector.paused"),
        new("resume", [ConnectorLifecycle.Paused], ConnectorLifecycle.Active, false, "connector.resumed"),
        new("retire",
            [ConnectorLifecycle.Draft, ConnectorLifecycle.Submitted, ConnectorLifecycle.Approved, ConnectorLifecycle.Active, ConnectorLifecycle.Paused],
            ConnectorLifecycle.Retired, false, "connector.retired"),
    }.ToDictionary(s => s.Name, StringComparer.Ordinal);

    /// <summary>A lifecycle state's name as stored and shown: <c>draft</c>, <c>submitted</c>, …</summary>
    public static string Name(ConnectorLifecycle lifecycle) => lifecycle.ToString().ToLowerInvariant();

    private static ConnectorLifecycle ParseLifecycle(string name) =>
        Enum.TryParse<ConnectorLifecycle>(name, ignoreCase: true, out var lifecycle) && name == Name(lifecycle)
            ? lifecycle
            : throw new InvalidOperationException($"Unknown connector lifecycle '{name}' in the database.");

    /// <summary>Registers a new connector as a draft of its agency, and logs <c>connector.registered</c>.</summary>
    /// <exception cref="ConnectorConflictException">The id is taken, the mapping version is taken by another mapping, or the source system is another agency's.</exception>
    public async Task CreateAsync(ConnectorRegistration registration, string actor, string? reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        await WriteAsync(registration, WriteMode.Create, actor, reason, cancellationToken);
    }

    /// <summary>
    /// Changes a registration, keeping its lifecycle and cursor; a submitted or approved one that changes returns to
    /// draft. Logs what changed.
    /// </summary>
    /// <returns>The administrative actions logged (none when nothing changed).</returns>
    /// <exception cref="UnknownConnectorException">No connector has the id.</exception>
    /// <exception cref="ConnectorConflictException">It is retired, or the change conflicts (mapping version, source system).</exception>
    public async Task<IReadOnlyList<string>> UpdateAsync(ConnectorRegistration registration, string actor, string? reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        return await WriteAsync(registration, WriteMode.Update, actor, reason, cancellationToken);
    }

    /// <summary>Takes a lifecycle step, logged with who and why.</summary>
    /// <param name="id">The connector.</param>
    /// <param name="step">One of <see cref="Steps"/>.</param>
    /// <param name="actor">Who.</param>
    /// <param name="isOperator">Whether the actor is an operator (approval is theirs).</param>
    /// <param name="reason">Why; required.</param>
    /// <param name="cancellationToken">Cancels; nothing changes.</param>
    /// <exception cref="UnknownConnectorException">No connector has the id.</exception>
    /// <exception cref="ConnectorConflictException">The step does not apply to the connector's state.</exception>
    /// <exception cref="UnauthorizedAccessException">The step is an operator's, or the approver is who submitted it.</exception>
    public async Task<ConnectorLifecycle> StepAsync(
        string id, LifecycleStep step, string actor, bool isOperator, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var stored = await StoredAsync(connection, id, forUpdate: true, cancellationToken) ?? throw new UnknownConnectorException(id);
        if (!step.From.Contains(stored.Lifecycle))
        {
            throw new ConnectorConflictException(
                $"Connector '{id}' is {Name(stored.Lifecycle)}: '{step.Name}' applies to a connector that is {string.Join(" or ", step.From.Select(Name))}.");
        }

        if (step.OperatorOnly && !isOperator)
        {
            throw new UnauthorizedAccessException($"Only an operator may {step.Name} a connector.");
        }

        // Four eyes: whoever submitted a connector does not approve it.
        if (step.To == ConnectorLifecycle.Approved && string.Equals(stored.LifecycleChangedBy, actor, StringComparison.Ordinal))
        {
            throw new UnauthorizedAccessException($"'{actor}' submitted connector '{id}'; another operator must approve it.");
        }

        await SetLifecycleAsync(connection, id, step.To, actor, reason, cancellationToken);
        await LogAdminAsync(connection, id, step.Action, actor, reason, stored.MappingVersion, new { from = Name(stored.Lifecycle), to = Name(step.To) }, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return step.To;
    }

    /// <summary>
    /// Deletes a connector that has never run: no run, no quarantined record, no cursor, no webhook delivery or portal session.
    /// One with history is retired instead, so that what it brought stays explained. Logs <c>connector.deleted</c>.
    /// </summary>
    /// <exception cref="UnknownConnectorException">No connector has the id.</exception>
    /// <exception cref="ConnectorConflictException">It is active or paused, or it has history.</exception>
    public async Task DeleteAsync(string id, string actor, string? reason, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var stored = await StoredAsync(connection, id, forUpdate: true, cancellationToken) ?? throw new UnknownConnectorException(id);
        if (stored.Lifecycle is ConnectorLifecycle.Active or ConnectorLifecycle.Paused)
        {
            throw new ConnectorConflictException($"Connector '{id}' is {Name(stored.Lifecycle)}: retire it instead of deleting it; its history stays.");
        }

        await using (var history = new NpgsqlCommand(
            "select exists (select 1 from sync_run where connector_id = $1) or exists (select 1 from quarantined_record where connector_id = $1) or (select cursor is not null from connector where id = $1)",
            connection))
        {
            history.Parameters.Add(new() { Value = id });
            if (await history.ExecuteScalarAsync(cancellationToken) is true)
            {
                throw new ConnectorConflictException($"Connector '{id}' has run before: retire it instead of deleting it; its history stays.");
            }
        }

        await using (var delete = new NpgsqlCommand("delete from connector where id = $1", connection))
        {
            delete.Parameters.Add(new() { Value = id });
            try
            {
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                throw new ConnectorConflictException($"Connector '{id}' has history ({e.TableName}): retire it instead of deleting it.", e);
            }
        }

        await LogAdminAsync(connection, id, "connector.deleted", actor, reason, stored.MappingVersion, new { kind = stored.Kind, agency = stored.Agency, lifecycle = Name(stored.Lifecycle) }, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>A version of a connector's mapping, as kept.</summary>
    /// <param name="Version">Its version.</param>
    /// <param name="Sha256">The SHA-256 of the mapping as stored.</param>
    /// <param name="CreatedAt">When it was first saved.</param>
    /// <param name="CreatedBy">Who saved it.</param>
    /// <param name="Reason">Why, when said.</param>
    /// <param name="Current">Whether the connector uses it now.</param>
    /// <param name="Mapping">The mapping (holds no secrets).</param>
    public sealed record MappingVersionRecord(
        string Version, string Sha256, DateTimeOffset CreatedAt, string CreatedBy, string? Reason, bool Current, JsonElement Mapping);

    /// <summary>Every mapping version of a connector, newest first.</summary>
    public async Task<IReadOnlyList<MappingVersionRecord>> MappingVersionsAsync(string id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select v.version, v.sha256, v.created_at, v.created_by, v.reason, c.mapping->>'version' = v.version, v.mapping::text
            from connector_mapping_version v join connector c on c.id = v.connector_id
            where v.connector_id = $1 order by v.created_at desc, v.version desc
            """);
        command.Parameters.Add(new() { Value = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<MappingVersionRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            using var mapping = JsonDocument.Parse(reader.GetString(6));
            list.Add(new(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetBoolean(5), mapping.RootElement.Clone()));
        }

        return list;
    }

    /// <summary>An administrative entry of the exchange log about a connector, in the caller's transaction.</summary>
    private async Task LogAdminAsync(
        NpgsqlConnection connection, string id, string action, string actor, string? reason, string? mappingVersion, object detail,
        CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        await ExchangeLog.AppendAsync(connection, new ExchangeRecord
        {
            Kind = ExchangeRecord.AdminKind,
            ConnectorId = id,
            ReceivedAt = now,
            Outcome = "done",
            Reason = reason,
            MappingVersion = mappingVersion,
            Actor = actor,
            Action = action,
            Detail = JsonSerializer.Serialize(detail),
        }, now, cancellationToken);
    }

    private static async Task SetLifecycleAsync(
        NpgsqlConnection connection, string id, ConnectorLifecycle lifecycle, string actor, string? reason, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            update connector set lifecycle = $2, active = $2 = 'active', lifecycle_changed_at = now(), lifecycle_changed_by = $3,
                                 lifecycle_reason = $4, updated_at = now()
            where id = $1
            """, connection);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = Name(lifecycle) });
        command.Parameters.Add(new() { Value = actor });
        command.Parameters.Add(new() { Value = (object?)reason ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// A source system's dossiers belong to one agency: a connector of another agency (or a central one) may not write
    /// them. Serialised per source system, so two agencies registering the same one at once cannot both pass.
    /// </summary>
    private static async Task CheckSourceSystemAsync(NpgsqlConnection connection, ConnectorRegistration registration, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            select exists (select 1 from connector where source_system = $1 and id <> $2 and agency is distinct from $3)
            from (select pg_advisory_xact_lock(hashtextextended('connector-source-system:' || $1, 0))) locked
            """, connection);
        command.Parameters.Add(new() { Value = registration.SourceSystem });
        command.Parameters.Add(new() { Value = registration.Id });
        command.Parameters.Add(new() { Value = (object?)registration.Agency ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        if (await command.ExecuteScalarAsync(cancellationToken) is true)
        {
            throw new ConnectorConflictException(
                $"Source system '{registration.SourceSystem}' is connected by a connector of another agency; a source system's dossiers have one owner.");
        }
    }

    /// <summary>
    /// Keeps every mapping version; a version once saved always means the same mapping, so a changed mapping needs a new
    /// version (records and quarantine entries name the version that mapped them).
    /// </summary>
    private static async Task RecordMappingVersionAsync(
        NpgsqlConnection connection, string id, StoredRegistration stored, string actor, string? reason, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            with inserted as (
                insert into connector_mapping_version (connector_id, version, mapping, sha256, created_by, reason)
                select c.id, c.mapping->>'version', c.mapping, encode(sha256(convert_to(c.mapping::text, 'UTF8')), 'hex'), $2, $3
                from connector c where c.id = $1
                on conflict (connector_id, version) do nothing
                returning 1)
            select exists (select 1 from inserted)
                or (select v.mapping = c.mapping from connector_mapping_version v join connector c on c.id = v.connector_id
                    where v.connector_id = $1 and v.version = c.mapping->>'version')
            """, connection);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = actor });
        command.Parameters.Add(new() { Value = (object?)reason ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        if (await command.ExecuteScalarAsync(cancellationToken) is not true)
        {
            throw new ConnectorConflictException(
                $"Mapping version '{stored.MappingVersion}' of connector '{id}' was saved before with other content; give the changed mapping a new version.");
        }
    }
}

/// <summary>A registration change that conflicts with what is stored; nothing was changed.</summary>
public sealed class ConnectorConflictException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ConnectorConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConnectorConflictException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConnectorConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>No connector has the id.</summary>
public sealed class UnknownConnectorException : Exception
{
    /// <summary>Creates the exception for an id.</summary>
    public UnknownConnectorException(string connectorId)
        : base($"No connector is registered with id '{connectorId}'.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public UnknownConnectorException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public UnknownConnectorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
