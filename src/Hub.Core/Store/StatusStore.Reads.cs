using Hub.Contracts;
using Npgsql;

namespace Hub.Core.Store;

public sealed partial class StatusStore
{
    /// <summary>A dossier by its national code (MaHoSo), with history, steps and due dates; null when unknown.</summary>
    public async Task<StoredDossier?> GetByCodeAsync(string dossierCode, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("select source_system, native_id from dossier where dossier_code = $1", connection)
        {
            Parameters = { new() { Value = dossierCode } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var key = new DossierKey(reader.GetString(0), reader.GetString(1));
        await reader.DisposeAsync();
        return await ReadAsync(connection, key, cancellationToken);
    }

    /// <summary>A dossier by its key (source system, native id), with history, steps and due dates; null when unknown.</summary>
    public async Task<StoredDossier?> GetByKeyAsync(DossierKey key, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadAsync(connection, key, cancellationToken);
    }

    private static async Task<StoredDossier?> ReadAsync(NpgsqlConnection connection, DossierKey key, CancellationToken cancellationToken)
    {
        // One snapshot for the four reads, so that current state and history agree.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var current = await ReadChangesAsync(connection,
            $"select {ChangeColumns}, first_stored_at, updated_at from dossier where source_system = $1 and native_id = $2", key, cancellationToken);
        if (current.Count == 0)
        {
            return null;
        }

        var history = await ReadChangesAsync(connection,
            $"""
            select {ChangeColumns}, recorded_at, recorded_at from dossier_change where source_system = $1 and native_id = $2
            order by event_time, coalesce(source_version, -9223372036854775808), change_hash
            """, key, cancellationToken);

        var steps = new List<StoredStep>();
        await using (var command = Command(connection,
            $"select {StepColumns}, recorded_at from dossier_step where source_system = $1 and native_id = $2 order by step_time, status_after nulls first, step_key", key))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                steps.Add(new StoredStep(ReadStep(reader, 0), reader.GetFieldValue<DateTimeOffset>(12)));
            }
        }

        var dueDates = new List<DueDateMove>();
        await using (var command = Command(connection,
            "select changed_at, due_at, previous_due_at from dossier_due_date_history where source_system = $1 and native_id = $2 order by changed_at", key))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                dueDates.Add(new DueDateMove(reader.GetFieldValue<DateTimeOffset>(0), reader.GetFieldValue<DateTimeOffset>(1), Time(reader, 2)));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return new StoredDossier(current[0].Change, current[0].First, current[0].Last, [.. history.Select(h => new StoredChange(h.Change, h.First))], steps, dueDates);
    }

    private static async Task<List<(DossierChange Change, DateTimeOffset First, DateTimeOffset Last)>> ReadChangesAsync(
        NpgsqlConnection connection, string sql, DossierKey key, CancellationToken cancellationToken)
    {
        var rows = new List<(DossierChange, DateTimeOffset, DateTimeOffset)>();
        await using var command = Command(connection, sql, key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((ReadChange(reader, 0), reader.GetFieldValue<DateTimeOffset>(24), reader.GetFieldValue<DateTimeOffset>(25)));
        }

        return rows;
    }

    /// <summary>A change from <see cref="ChangeColumns"/> read from column <paramref name="at"/> on.</summary>
    internal static DossierChange ReadChange(NpgsqlDataReader reader, int at) => new()
    {
        SourceSystem = reader.GetString(at),
        NativeId = reader.GetString(at + 1),
        DossierCode = reader.GetString(at + 3),
        EventTime = reader.GetFieldValue<DateTimeOffset>(at + 4),
        SourceVersion = reader.IsDBNull(at + 5) ? null : reader.GetInt64(at + 5),
        Status = (NationalStatus)reader.GetInt16(at + 6),
        SourceStatus = Text(reader, at + 7),
        MappingVersion = Text(reader, at + 8),
        ProcedureCode = Text(reader, at + 9),
        ProcedureBaseCode = Text(reader, at + 10),
        ProcedureName = Text(reader, at + 11),
        SectorCode = Text(reader, at + 12),
        AgencyCode = Text(reader, at + 13),
        HandlingUnit = Text(reader, at + 14),
        ApplicantType = reader.IsDBNull(at + 15) ? null : (ApplicantType)reader.GetInt16(at + 15),
        Channel = reader.IsDBNull(at + 16) ? null : (Channel)reader.GetInt16(at + 16),
        PaidOnline = reader.IsDBNull(at + 17) ? null : reader.GetBoolean(at + 17),
        SubmittedAt = Time(reader, at + 18),
        ReceivedAt = Time(reader, at + 19),
        DueAt = Time(reader, at + 20),
        ProcessingFinishedAt = Time(reader, at + 21),
        ResultReturnedAt = Time(reader, at + 22),
        RefusedAt = Time(reader, at + 23),
    };

    /// <summary>A step from <see cref="StepColumns"/> read from column <paramref name="at"/> on.</summary>
    internal static DossierStep ReadStep(NpgsqlDataReader reader, int at) => new()
    {
        SourceSystem = reader.GetString(at),
        NativeId = reader.GetString(at + 1),
        StepTime = reader.GetFieldValue<DateTimeOffset>(at + 4),
        StatusAfter = reader.IsDBNull(at + 5) ? null : (NationalStatus)reader.GetInt16(at + 5),
        Officer = Text(reader, at + 6),
        OfficerTitle = Text(reader, at + 7),
        Department = Text(reader, at + 8),
        Action = Text(reader, at + 9),
        StartedAt = Time(reader, at + 10),
        Deadline = Time(reader, at + 11),
    };

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, DossierKey key) =>
        new(sql, connection) { Parameters = { new() { Value = key.SourceSystem }, new() { Value = key.NativeId } } };

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static DateTimeOffset? Time(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}

/// <summary>A dossier as stored: the current state, every change in source order, its steps and due-date moves.</summary>
/// <param name="Current">The newest change, which is the current state.</param>
/// <param name="FirstStoredAt">When the hub first stored the dossier.</param>
/// <param name="UpdatedAt">When the current state last changed.</param>
/// <param name="History">Every distinct change, ordered by event time, then source version.</param>
/// <param name="Steps">Processing steps, by step time.</param>
/// <param name="DueDates">The first due date issued and every move to another one, in source order.</param>
public sealed record StoredDossier(
    DossierChange Current,
    DateTimeOffset FirstStoredAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<StoredChange> History,
    IReadOnlyList<StoredStep> Steps,
    IReadOnlyList<DueDateMove> DueDates);

/// <summary>One change of the history and when the hub recorded it.</summary>
public sealed record StoredChange(DossierChange Change, DateTimeOffset RecordedAt);

/// <summary>One step and when the hub recorded it.</summary>
public sealed record StoredStep(DossierStep Step, DateTimeOffset RecordedAt);

/// <summary>A due date set at <paramref name="ChangedAt"/> (source event time), and the one it replaced.</summary>
public sealed record DueDateMove(DateTimeOffset ChangedAt, DateTimeOffset DueAt, DateTimeOffset? PreviousDueAt);
