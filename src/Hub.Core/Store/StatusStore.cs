using Hub.Contracts;
using Hub.Core.Model;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Hub.Core.Store;

/// <summary>
/// The central status store's write path: the one place that writes dossier state. A batch is applied in one
/// transaction: every distinct change enters the history, the newest change per dossier (by source event time,
/// then source version) becomes the current state unless a newer one is already stored, and steps are merged on
/// their natural key. Applying the same changes in any order, any number of times, gives the same state.
/// </summary>
/// <remarks>
/// Invalid records are reported in <see cref="WriteResult.Rejected"/> and the rest of the batch is stored: one
/// bad record from a province must not hold back thousands of good ones, and the caller keeps the rejected ones
/// (quarantine) with their reasons. Nothing of a rejected record is written. Concurrent writers take row locks in
/// key order, so two batches touching the same dossiers wait for each other instead of deadlocking; a deadlock or
/// a race on a new dossier code that slips through anyway is retried with the whole transaction.
/// </remarks>
public sealed partial class StatusStore(NpgsqlDataSource dataSource, TimeProvider timeProvider, ILogger<StatusStore> logger)
{
    private const int MaxAttempts = 5;

    /// <summary>How far in the future a source event time may be (clock skew) before the change is rejected.</summary>
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromHours(1);

    /// <summary>Applies a batch; returns what was stored and which records were rejected, and why.</summary>
    public Task<WriteResult> WriteAsync(ChangeBatch batch, CancellationToken cancellationToken) =>
        WriteAsync(batch, alsoInTransaction: null, cancellationToken);

    /// <summary>
    /// Applies a batch and, in the same transaction, whatever must be stored with it (a connector's cursor, its
    /// quarantined records, the run's counters): either all of it is committed or none of it.
    /// </summary>
    /// <param name="batch">The changes and steps.</param>
    /// <param name="alsoInTransaction">
    /// Called after the batch is written and before the commit, with the open connection (its transaction is the
    /// ambient one) and the batch's result. It runs again if the transaction is retried after a deadlock, so it must
    /// only write through the connection it is given. Throwing rolls everything back.
    /// </param>
    /// <param name="cancellationToken">Cancels the write; nothing is committed.</param>
    public async Task<WriteResult> WriteAsync(
        ChangeBatch batch, Func<NpgsqlConnection, WriteResult, CancellationToken, Task>? alsoInTransaction, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var rejected = new List<RejectedRecord>();
        var changes = PrepareChanges(batch.Dossiers, now, rejected);
        var steps = PrepareSteps(batch.Steps, now, rejected);

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var attemptRejected = new List<RejectedRecord>(rejected);
                return await WriteOnceAsync(batch, changes, steps, attemptRejected, alsoInTransaction, cancellationToken);
            }
            catch (PostgresException e) when (attempt < MaxAttempts && IsTransient(e))
            {
                LogRetry(logger, e.SqlState, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt * Random.Shared.Next(1, 4)), timeProvider, cancellationToken);
            }
        }
    }

    private static bool IsTransient(PostgresException e) =>
        e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure
        || (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == "dossier_code_unique");

    private async Task<WriteResult> WriteOnceAsync(
        ChangeBatch batch,
        List<PreparedChange> changes,
        List<PreparedStep> steps,
        List<RejectedRecord> rejected,
        Func<NpgsqlConnection, WriteResult, CancellationToken, Task>? alsoInTransaction,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var accepted = await RejectCodeConflictsAsync(connection, changes, rejected, cancellationToken);
        MarkLatest(accepted);

        int historyAdded = 0, currentChanged = 0, stepsChanged = 0, irregular = 0;
        if (accepted.Count > 0)
        {
            await ExecuteAsync(connection, StageChangesSql, cancellationToken);
            await CopyChangesAsync(connection, accepted, cancellationToken);
            historyAdded = await ExecuteAsync(connection, InsertHistorySql, cancellationToken);
            irregular = await CountIrregularAsync(connection, cancellationToken);
            currentChanged = await ExecuteAsync(connection, UpsertCurrentSql, cancellationToken);
            await ExecuteAsync(connection, OutboxChangesSql, cancellationToken);
        }

        if (steps.Count > 0)
        {
            await ExecuteAsync(connection, StageStepsSql, cancellationToken);
            await CopyStepsAsync(connection, steps, cancellationToken);
            stepsChanged = await ExecuteAsync(connection, UpsertStepsSql, cancellationToken);
        }

        rejected.Sort((a, b) => a.Kind != b.Kind ? a.Kind.CompareTo(b.Kind) : a.Index.CompareTo(b.Index));
        var result = new WriteResult(
            DossierChangesReceived: batch.Dossiers.Count,
            HistoryRowsAdded: historyAdded,
            CurrentRowsChanged: currentChanged,
            StepsReceived: batch.Steps.Count,
            StepRowsChanged: stepsChanged,
            Rejected: rejected)
        {
            IrregularTransitions = irregular,
        };

        if (alsoInTransaction is not null)
        {
            await alsoInTransaction(connection, result, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>
    /// Counts the added changes whose move from the status before them in the history is not one the national
    /// lifecycle expects (irregular or correction), as the history stands after this batch.
    /// </summary>
    private static async Task<int> CountIrregularAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var count = 0;
        await using var command = new NpgsqlCommand(AddedTransitionsSql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            NationalStatus? previous = reader.IsDBNull(0) ? null : (NationalStatus)reader.GetInt16(0);
            if (StatusLifecycle.Classify(previous, (NationalStatus)reader.GetInt16(1)) != TransitionKind.Expected)
            {
                count++;
            }
        }

        return count;
    }

    private static List<PreparedChange> PrepareChanges(IReadOnlyList<DossierChange> input, DateTimeOffset now, List<RejectedRecord> rejected)
    {
        var byIdentity = new Dictionary<(string, string, HashKey), PreparedChange>();
        for (var i = 0; i < input.Count; i++)
        {
            var change = input[i];
            if (change is null)
            {
                rejected.Add(new RejectedRecord(RecordKind.DossierChange, i, null, null, null, "The record is empty (null)."));
                continue;
            }

            if (ChangeValidation.Check(change, now, FutureTolerance) is { } reason)
            {
                rejected.Add(new RejectedRecord(RecordKind.DossierChange, i, change.SourceSystem, change.NativeId, change.DossierCode, reason));
                continue;
            }

            var hash = ChangeHashing.Hash(change);
            byIdentity.TryAdd((change.SourceSystem, change.NativeId, new HashKey(hash)), new PreparedChange(i, change, hash));
        }

        // Order by key so that rows are locked in the same order by every writer.
        var list = byIdentity.Values.ToList();
        list.Sort(static (a, b) => CompareKeyThenNewest(a, b));
        return list;
    }

    private static List<PreparedStep> PrepareSteps(IReadOnlyList<DossierStep> input, DateTimeOffset now, List<RejectedRecord> rejected)
    {
        var byKey = new Dictionary<(string, string, HashKey), PreparedStep>();
        for (var i = 0; i < input.Count; i++)
        {
            var step = input[i];
            if (step is null)
            {
                rejected.Add(new RejectedRecord(RecordKind.Step, i, null, null, null, "The record is empty (null)."));
                continue;
            }

            if (ChangeValidation.Check(step, now, FutureTolerance) is { } reason)
            {
                rejected.Add(new RejectedRecord(RecordKind.Step, i, step.SourceSystem, step.NativeId, null, reason));
                continue;
            }

            var prepared = new PreparedStep(step, ChangeHashing.StepKey(step), ChangeHashing.Hash(step));
            var key = (step.SourceSystem, step.NativeId, new HashKey(prepared.StepKey));
            // Same natural key resent with other details: the greater content hash wins, as in the table.
            if (!byKey.TryGetValue(key, out var existing) || prepared.ContentHash.AsSpan().SequenceCompareTo(existing.ContentHash) > 0)
            {
                byKey[key] = prepared;
            }
        }

        return [.. byKey.Values];
    }

    /// <summary>
    /// MaHoSo is unique across the country: a change whose code belongs to another dossier (stored, or a smaller key
    /// in the same batch) is rejected. A concurrent writer can still claim a code between this check and the insert;
    /// the unique index then fails the transaction and it is retried, when this check sees the new owner.
    /// </summary>
    private static async Task<List<PreparedChange>> RejectCodeConflictsAsync(
        NpgsqlConnection connection, List<PreparedChange> changes, List<RejectedRecord> rejected, CancellationToken cancellationToken)
    {
        var owners = new Dictionary<string, (string System, string Id)>(StringComparer.Ordinal);
        if (changes.Count > 0)
        {
            await using var command = new NpgsqlCommand(
                "select dossier_code, source_system, native_id from dossier where dossier_code = any($1)", connection)
            {
                Parameters = { new() { Value = changes.Select(c => c.Change.DossierCode).Distinct().ToArray() } },
            };
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                owners[reader.GetString(0)] = (reader.GetString(1), reader.GetString(2));
            }
        }

        // Within the batch, the first key in key order claims a code that nobody owns yet.
        var accepted = new List<PreparedChange>(changes.Count);
        foreach (var prepared in changes)
        {
            var c = prepared.Change;
            if (!owners.TryGetValue(c.DossierCode, out var owner))
            {
                owners[c.DossierCode] = owner = (c.SourceSystem, c.NativeId);
            }

            if (owner.System == c.SourceSystem && owner.Id == c.NativeId)
            {
                accepted.Add(prepared);
                continue;
            }

            rejected.Add(new RejectedRecord(RecordKind.DossierChange, prepared.Index, c.SourceSystem, c.NativeId, c.DossierCode,
                $"DossierCode '{c.DossierCode}' already belongs to dossier '{owner.Id}' of source system '{owner.System}'; a dossier code is unique across the country."));
        }

        return accepted;
    }

    /// <summary>The list is in key order, newest first within a key: the first of each key is its candidate for the current state.</summary>
    private static void MarkLatest(List<PreparedChange> changes)
    {
        for (var i = 0; i < changes.Count; i++)
        {
            changes[i].IsLatest = i == 0
                || !string.Equals(changes[i].Change.SourceSystem, changes[i - 1].Change.SourceSystem, StringComparison.Ordinal)
                || !string.Equals(changes[i].Change.NativeId, changes[i - 1].Change.NativeId, StringComparison.Ordinal);
        }
    }

    private static int CompareKeyThenNewest(PreparedChange a, PreparedChange b)
    {
        var byKey = string.CompareOrdinal(a.Change.SourceSystem, b.Change.SourceSystem);
        if (byKey == 0)
        {
            byKey = string.CompareOrdinal(a.Change.NativeId, b.Change.NativeId);
        }

        return byKey != 0 ? byKey : -CompareNewness(a, b);
    }

    /// <summary>The order that decides the current state; the SQL of <see cref="UpsertCurrentSql"/> is the same.</summary>
    internal static int CompareNewness(PreparedChange a, PreparedChange b)
    {
        var byTime = ChangeHashing.ToMicroseconds(a.Change.EventTime).CompareTo(ChangeHashing.ToMicroseconds(b.Change.EventTime));
        if (byTime != 0)
        {
            return byTime;
        }

        var byVersion = (a.Change.SourceVersion ?? long.MinValue).CompareTo(b.Change.SourceVersion ?? long.MinValue);
        return byVersion != 0 ? byVersion : a.Hash.AsSpan().SequenceCompareTo(b.Hash);
    }

    private static async Task CopyChangesAsync(NpgsqlConnection connection, List<PreparedChange> changes, CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync(
            $"copy stage_change ({ChangeColumns}, is_latest) from stdin (format binary)", cancellationToken);
        foreach (var p in changes)
        {
            var c = p.Change;
            importer.StartRow();
            importer.Write(c.SourceSystem, NpgsqlDbType.Text);
            importer.Write(c.NativeId, NpgsqlDbType.Text);
            importer.Write(p.Hash, NpgsqlDbType.Bytea);
            importer.Write(c.DossierCode, NpgsqlDbType.Text);
            importer.Write(ChangeHashing.ToMicroseconds(c.EventTime), NpgsqlDbType.TimestampTz);
            Write(importer, c.SourceVersion, NpgsqlDbType.Bigint);
            importer.Write((short)c.Status, NpgsqlDbType.Smallint);
            Write(importer, c.SourceStatus);
            Write(importer, c.MappingVersion);
            Write(importer, c.ProcedureCode);
            Write(importer, c.ProcedureBaseCode);
            Write(importer, c.ProcedureName);
            Write(importer, c.SectorCode);
            Write(importer, c.AgencyCode);
            Write(importer, c.HandlingUnit);
            Write(importer, (short?)c.ApplicantType, NpgsqlDbType.Smallint);
            Write(importer, (short?)c.Channel, NpgsqlDbType.Smallint);
            Write(importer, c.PaidOnline, NpgsqlDbType.Boolean);
            Write(importer, c.SubmittedAt);
            Write(importer, c.ReceivedAt);
            Write(importer, c.DueAt);
            Write(importer, c.ProcessingFinishedAt);
            Write(importer, c.ResultReturnedAt);
            Write(importer, c.RefusedAt);
            importer.Write(p.IsLatest, NpgsqlDbType.Boolean);
        }

        await importer.CompleteAsync(cancellationToken);
    }

    private static async Task CopyStepsAsync(NpgsqlConnection connection, List<PreparedStep> steps, CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync(
            $"copy stage_step ({StepColumns}) from stdin (format binary)", cancellationToken);
        foreach (var p in steps)
        {
            var s = p.Step;
            importer.StartRow();
            importer.Write(s.SourceSystem, NpgsqlDbType.Text);
            importer.Write(s.NativeId, NpgsqlDbType.Text);
            importer.Write(p.StepKey, NpgsqlDbType.Bytea);
            importer.Write(p.ContentHash, NpgsqlDbType.Bytea);
            importer.Write(ChangeHashing.ToMicroseconds(s.StepTime), NpgsqlDbType.TimestampTz);
            Write(importer, (short?)s.StatusAfter, NpgsqlDbType.Smallint);
            Write(importer, s.Officer);
            Write(importer, s.OfficerTitle);
            Write(importer, s.Department);
            Write(importer, s.Action);
            Write(importer, s.StartedAt);
            Write(importer, s.Deadline);
        }

        await importer.CompleteAsync(cancellationToken);
    }

    // Synchronous writes only encode into the importer's buffer and flush when it is full; awaiting each of the
    // 25 fields of a million rows costs more than the encoding itself.
    private static void Write(NpgsqlBinaryImporter importer, string? value)
    {
        if (value is null)
        {
            importer.WriteNull();
        }
        else
        {
            importer.Write(value, NpgsqlDbType.Text);
        }
    }

    private static void Write(NpgsqlBinaryImporter importer, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            importer.Write(ChangeHashing.ToMicroseconds(v), NpgsqlDbType.TimestampTz);
        }
        else
        {
            importer.WriteNull();
        }
    }

    private static void Write<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type)
        where T : struct
    {
        if (value is { } v)
        {
            importer.Write(v, type);
        }
        else
        {
            importer.WriteNull();
        }
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Status batch hit a transient conflict ({SqlState}); retrying, attempt {Attempt}")]
    private static partial void LogRetry(ILogger logger, string sqlState, int attempt);

    internal sealed class PreparedChange(int index, DossierChange change, byte[] hash)
    {
        public int Index { get; } = index;
        public DossierChange Change { get; } = change;
        public byte[] Hash { get; } = hash;
        public bool IsLatest { get; set; }
    }

    private sealed record PreparedStep(DossierStep Step, byte[] StepKey, byte[] ContentHash);

    /// <summary>A hash usable as a dictionary key (value equality over the bytes).</summary>
    private readonly struct HashKey(byte[] bytes) : IEquatable<HashKey>
    {
        private readonly byte[] _bytes = bytes;

        public bool Equals(HashKey other) => _bytes.AsSpan().SequenceEqual(other._bytes);

        public override bool Equals(object? obj) => obj is HashKey other && Equals(other);

        public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);
    }
}

/// <summary>What a batch did: counts, and every rejected record with its reason.</summary>
/// <param name="DossierChangesReceived">Dossier changes in the batch.</param>
/// <param name="HistoryRowsAdded">Changes not seen before, now in the history.</param>
/// <param name="CurrentRowsChanged">Dossiers whose current state was created or replaced by a newer change.</param>
/// <param name="StepsReceived">Steps in the batch.</param>
/// <param name="StepRowsChanged">Steps stored or replaced.</param>
/// <param name="Rejected">Records left out, each with its reason; nothing of them was written.</param>
public sealed record WriteResult(
    int DossierChangesReceived,
    int HistoryRowsAdded,
    int CurrentRowsChanged,
    int StepsReceived,
    int StepRowsChanged,
    IReadOnlyList<RejectedRecord> Rejected)
{
    /// <summary>
    /// Added changes whose move from the status before them in the dossier's history (as it stands after the batch)
    /// is irregular or a correction (<see cref="Model.StatusLifecycle"/>). Operators look at these.
    /// </summary>
    public int IrregularTransitions { get; init; }
}

/// <summary>Which list of the batch a rejected record came from.</summary>
public enum RecordKind
{
    /// <summary>A dossier header change (<see cref="ChangeBatch.Dossiers"/>).</summary>
    DossierChange,

    /// <summary>A processing step (<see cref="ChangeBatch.Steps"/>).</summary>
    Step,
}

/// <summary>A record the store did not accept.</summary>
/// <param name="Kind">The list it came from.</param>
/// <param name="Index">Its position in that list.</param>
/// <param name="SourceSystem">Its source system, when it had one.</param>
/// <param name="NativeId">Its native id, when it had one.</param>
/// <param name="DossierCode">Its dossier code, when it had one.</param>
/// <param name="Reason">What is wrong, naming the field.</param>
public sealed record RejectedRecord(RecordKind Kind, int Index, string? SourceSystem, string? NativeId, string? DossierCode, string Reason);
