using System.Text;
using Hub.Core.Audit;
using Hub.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hub.Tests.Audit;

/// <summary>
/// The exchange log against a real PostgreSQL: append, seal, verify; and rows edited, deleted, inserted and reordered
/// directly in the database (as someone with the database's keys would), each caught and named.
/// </summary>
public class ExchangeLogTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly IReadOnlyCollection<System.Security.Cryptography.X509Certificates.X509Certificate2> Trusted = [TestSigning.Hub.Certificate];

    private static ExchangeRecord Message(int i) => new()
    {
        Kind = ExchangeRecord.MessageKind,
        ConnectorId = "c" + (i % 3),
        Direction = "inbound",
        Transport = "json-webhook",
        ReceivedAt = DateTimeOffset.UtcNow,
        ContentType = "application/json",
        Payload = Encoding.UTF8.GetBytes($$"""{"page":{{i % 7}}}"""),
        Outcome = i % 5 == 0 ? "rejected" : "stored",
        Reason = i % 5 == 0 ? "bad signature" : null,
        Dossiers = [$"G01.01-260101-{i:D4}", "G01.01-260101-0000"],
        MappingVersion = "v1",
        Detail = $$"""{"records":{{i}}}""",
    };

    private static ExchangeRecord Admin(int i) => new()
    {
        Kind = ExchangeRecord.AdminKind,
        ConnectorId = "c1",
        Outcome = "done",
        Actor = "operator-" + i,
        Action = "connector.changed",
        Reason = "new mapping",
    };

    /// <summary>A log of 30 entries sealed in two checkpoints (20 then 10), and the entry id of each leaf.</summary>
    private static async Task<(NpgsqlDataSource Db, long[] EntryAtLeaf)> SealedLogAsync(string schema)
    {
        var db = await TestDatabase.CreateSchemaAsync(schema);
        var log = new ExchangeLog(db, TimeProvider.System);
        var sealer = Sealer(db);
        for (var i = 0; i < 30; i++)
        {
            await log.AppendAsync(i % 4 == 3 ? Admin(i) : Message(i), None);
            if (i == 19)
            {
                await sealer.SealAsync(evenIfEmpty: false, None);
            }
        }

        await sealer.SealAsync(evenIfEmpty: false, None);
        await using var command = db.CreateCommand("select entry_id from exchange_leaf order by leaf_index");
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }

        return (db, [.. ids]);
    }

    private static ExchangeSealer Sealer(NpgsqlDataSource db) => new(db, TestSigning.Hub, TimeProvider.System, NullLogger<ExchangeSealer>.Instance);

    private static Task<ExchangeVerification> VerifyAsync(NpgsqlDataSource db, long? from = null, long? to = null) =>
        new ExchangeVerifier(db).VerifyAsync(Trusted, from, to, None);

    /// <summary>Runs SQL as someone who bypasses the append-only triggers.</summary>
    private static async Task TamperAsync(NpgsqlDataSource db, string sql)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var command = new NpgsqlCommand($"set session_replication_role = replica; {sql}; set session_replication_role = origin", connection);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_sealed_log_verifies_with_two_signed_checkpoints_and_nothing_left_unsealed()
    {
        var (db, leaves) = await SealedLogAsync("xlog_ok");
        await using var _ = db;
        var result = await VerifyAsync(db);
        Assert.True(result.Valid, result.FirstProblem?.Problem);
        Assert.Equal(30, result.TreeSize);
        Assert.Equal(2, result.Checkpoints);
        Assert.Equal(30, result.EntriesVerified);
        Assert.Equal(0, result.Unsealed);
        Assert.Equal(30, leaves.Distinct().Count());
        Assert.True(leaves.SequenceEqual(leaves.Order()), "entries are sealed in the order they were written");
    }

    [Fact]
    public async Task A_certificate_trusted_twice_still_verifies()
    {
        var (db, _) = await SealedLogAsync("xlog_trusted_twice");
        await using var __ = db;
        var result = await new ExchangeVerifier(db).VerifyAsync([.. Trusted, .. Trusted], null, null, None);
        Assert.True(result.Valid, result.FirstProblem?.Problem);
        Assert.Equal(30, result.EntriesVerified);
    }

    [Fact]
    public async Task The_log_refuses_updates_and_deletes_through_its_triggers()
    {
        var (db, _) = await SealedLogAsync("xlog_append_only");
        await using var __ = db;
        foreach (var sql in new[]
        {
            "update exchange_entry set outcome = 'stored'", "delete from exchange_entry", "update exchange_leaf set entry_id = entry_id",
            "delete from exchange_checkpoint", "update exchange_payload set content = ''::bytea", "truncate exchange_entry",
        })
        {
            var e = await Assert.ThrowsAsync<PostgresException>(async () =>
            {
                await using var command = db.CreateCommand(sql);
                await command.ExecuteNonQueryAsync();
            });
            Assert.Contains("append-only", e.MessageText, StringComparison.Ordinal);
        }

        Assert.True((await VerifyAsync(db)).Valid);
    }

    [Theory]
    [InlineData("outcome", "'rejected'")]
    [InlineData("reason", "'edited'")]
    [InlineData("dossiers", "array['X']")]
    [InlineData("recorded_at", "recorded_at + interval '1 microsecond'")]
    [InlineData("actor", "'someone else'")]
    public async Task An_edited_column_names_its_entry(string column, string value)
    {
        var (db, leaves) = await SealedLogAsync("xlog_edit_" + column);
        await using var _ = db;
        // Leaf 7 is an admin entry, 6 a message: edit the one that has the column set.
        var leaf = column == "actor" ? 7 : 6;
        await TamperAsync(db, $"update exchange_entry set {column} = {value} where id = {leaves[leaf]}");
        var result = await VerifyAsync(db);
        Assert.False(result.Valid);
        Assert.Equal(leaf, result.FirstProblem!.LeafIndex);
        Assert.Equal(leaves[leaf], result.FirstProblem.EntryId);
        Assert.Contains("does not match the sealed log", result.FirstProblem.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_edited_payload_names_the_first_entry_that_carries_it()
    {
        var (db, leaves) = await SealedLogAsync("xlog_edit_payload");
        await using var _ = db;
        // Payloads are shared by content: {"page":2} is first carried by the entry of i = 2 (leaf 2).
        await TamperAsync(db, """update exchange_payload set content = convert_to('{"page":9}', 'UTF8') where content = convert_to('{"page":2}', 'UTF8')""");
        var result = await VerifyAsync(db);
        Assert.Equal(2, result.FirstProblem!.LeafIndex);
        Assert.Equal(leaves[2], result.FirstProblem.EntryId);
        Assert.Contains("payload", result.FirstProblem.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deleted_entry_row_a_deleted_leaf_and_a_clean_delete_with_renumbering_are_each_named()
    {
        var (db, leaves) = await SealedLogAsync("xlog_delete");
        await using var _ = db;
        await TamperAsync(db, $"delete from exchange_entry where id = {leaves[12]}");
        var result = await VerifyAsync(db);
        Assert.Equal(12, result.FirstProblem!.LeafIndex);
        Assert.Contains("missing", result.FirstProblem.Problem, StringComparison.Ordinal);

        var (db2, leaves2) = await SealedLogAsync("xlog_delete_leaf");
        await using var __ = db2;
        await TamperAsync(db2, "delete from exchange_leaf where leaf_index = 4");
        result = await VerifyAsync(db2);
        Assert.Equal(4, result.FirstProblem!.LeafIndex);
        Assert.Contains("leaf 4 is missing", result.FirstProblem.Problem, StringComparison.Ordinal);

        // Someone careful: removes entry 9 and its leaf, and moves the later leaves down so that no index is missing.
        var (db3, leaves3) = await SealedLogAsync("xlog_delete_clean");
        await using var ___ = db3;
        await TamperAsync(db3, $"""
            delete from exchange_leaf where leaf_index = 9; delete from exchange_entry where id = {leaves3[9]};
            update exchange_leaf set leaf_index = leaf_index - 1001 where leaf_index > 9;
            update exchange_leaf set leaf_index = leaf_index + 1000 where leaf_index < 0
            """);
        result = await VerifyAsync(db3);
        Assert.Equal(9, result.FirstProblem!.LeafIndex);
        Assert.Equal(leaves3[10], result.FirstProblem.EntryId);
        Assert.NotNull(leaves2);
    }

    [Fact]
    public async Task An_inserted_entry_in_the_middle_at_the_end_or_outside_the_tree_is_named()
    {
        const string Insert = """
            insert into exchange_entry (recorded_at, kind, connector_id, outcome, dossiers) overriding system value
            values (now(), 'message', 'c1', 'stored', array['FORGED']) returning id
            """;

        // In the middle: later leaves move up by one to make room at leaf 5.
        var (db, leaves) = await SealedLogAsync("xlog_insert_middle");
        await using var _ = db;
        await TamperAsync(db, $"""
            update exchange_leaf set leaf_index = leaf_index + 1001 where leaf_index >= 5;
            update exchange_leaf set leaf_index = leaf_index - 1000 where leaf_index > 1000;
            with forged as ({Insert.Replace("overriding system value", "", StringComparison.Ordinal)}) insert into exchange_leaf select 5, id from forged
            """);
        var result = await VerifyAsync(db);
        Assert.Equal(5, result.FirstProblem!.LeafIndex);
        Assert.NotEqual(leaves[5], result.FirstProblem.EntryId);

        // After the last sealed leaf.
        var (db2, _) = await SealedLogAsync("xlog_insert_end");
        await using var __ = db2;
        await TamperAsync(db2, $"with forged as ({Insert.Replace("overriding system value", "", StringComparison.Ordinal)}) insert into exchange_leaf select 30, id from forged");
        result = await VerifyAsync(db2);
        Assert.Equal(30, result.FirstProblem!.LeafIndex);
        Assert.Contains("outside the sealed tree", result.FirstProblem.Problem, StringComparison.Ordinal);

        // A row that claims to be neither sealed nor waiting.
        var (db3, _) = await SealedLogAsync("xlog_insert_loose");
        await using var ___ = db3;
        await TamperAsync(db3, Insert.Replace("overriding system value", "", StringComparison.Ordinal));
        result = await VerifyAsync(db3);
        Assert.Null(result.FirstProblem!.LeafIndex);
        Assert.Contains("neither sealed nor waiting", result.FirstProblem.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_swapped_entries_are_named_at_the_first_of_them()
    {
        var (db, leaves) = await SealedLogAsync("xlog_reorder");
        await using var _ = db;
        await TamperAsync(db, $"""
            update exchange_leaf set entry_id = -1 where leaf_index = 14;
            update exchange_leaf set entry_id = {leaves[14]} where leaf_index = 21;
            update exchange_leaf set entry_id = {leaves[21]} where leaf_index = 14
            """);
        var result = await VerifyAsync(db);
        Assert.Equal(14, result.FirstProblem!.LeafIndex);
        Assert.Equal(leaves[21], result.FirstProblem.EntryId);
    }

    [Fact]
    public async Task Tampered_checkpoints_and_an_untrusted_signer_are_caught()
    {
        var (db, _) = await SealedLogAsync("xlog_checkpoints");
        await using var _ = db;
        Assert.False((await new ExchangeVerifier(db).VerifyAsync([TestSigning.Other.Certificate], null, null, None)).Valid);

        // Stored leaf hashes rewritten (to hide an edit): the checkpoint's signed root no longer matches.
        await TamperAsync(db, "update exchange_checkpoint set leaf_hashes = overlay(leaf_hashes placing '\\x00'::bytea from 40 for 1) where tree_size = 30");
        var result = await VerifyAsync(db);
        Assert.Equal(20, result.FirstProblem!.LeafIndex);
        Assert.Contains("do not give its signed root", result.FirstProblem.Problem, StringComparison.Ordinal);

        var (db2, _) = await SealedLogAsync("xlog_checkpoint_deleted");
        await using var __ = db2;
        await TamperAsync(db2, "delete from exchange_checkpoint where tree_size = 20");
        result = await VerifyAsync(db2);
        Assert.Equal(0, result.FirstProblem!.LeafIndex);
        Assert.Contains("a checkpoint was deleted or inserted", result.FirstProblem.Problem, StringComparison.Ordinal);

        var (db3, _) = await SealedLogAsync("xlog_checkpoint_document");
        await using var ___ = db3;
        await TamperAsync(db3, "update exchange_checkpoint set document = replace(document, '<TreeSize>30<', '<TreeSize>31<') where tree_size = 30");
        result = await VerifyAsync(db3);
        Assert.Equal(20, result.FirstProblem!.LeafIndex);
    }

    [Fact]
    public async Task A_range_is_verified_on_its_own_and_entries_written_after_the_last_seal_count_as_unsealed()
    {
        var (db, leaves) = await SealedLogAsync("xlog_range");
        await using var _ = db;
        await TamperAsync(db, $"update exchange_entry set reason = 'x' where id = {leaves[25]}");
        Assert.True((await VerifyAsync(db, 0, 25)).Valid);
        var bad = await VerifyAsync(db, 20, 30);
        Assert.Equal(25, bad.FirstProblem!.LeafIndex);
        Assert.Equal(5, bad.EntriesVerified);

        await new ExchangeLog(db, TimeProvider.System).AppendAsync(Message(1), None);
        Assert.Equal(1, (await VerifyAsync(db, 0, 10)).Unsealed);
    }

    [Fact]
    public async Task Inclusion_proofs_lead_to_the_signed_root_of_the_latest_checkpoint()
    {
        var (db, leaves) = await SealedLogAsync("xlog_proofs");
        await using var _ = db;
        var (checkpoint, proofs) = await new ExchangeProofs(db).ProveAsync([leaves[0], leaves[17], leaves[29]], Trusted, None);
        Assert.NotNull(checkpoint);
        var signed = Checkpoint.Read(Checkpoint.Parse(checkpoint!.Document).DocumentElement!);
        Assert.Null(Checkpoint.CheckSignature(Checkpoint.Parse(checkpoint.Document).DocumentElement!, TestSigning.Hub.Certificate));
        Assert.NotNull(Checkpoint.CheckSignature(Checkpoint.Parse(checkpoint.Document).DocumentElement!, TestSigning.Other.Certificate));
        Assert.Equal(3, proofs.Count);
        var log = new ExchangeLog(db, TimeProvider.System);
        foreach (var proof in proofs)
        {
            var entry = (await log.GetAsync(proof.EntryId, None))!;
            Assert.True(proof.Verifies(entry.LeafHash(), signed.RootHash));
            Assert.False(proof.Verifies((entry with { Reason = "changed" }).LeafHash(), signed.RootHash));
        }
    }

    [Fact]
    public async Task Concurrent_writers_and_sealers_seal_every_entry_exactly_once()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("xlog_concurrent");
        var log = new ExchangeLog(db, TimeProvider.System);
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await log.AppendAsync(Message((w * 50) + i), None);
            }
        }));
        var sealers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                await Sealer(db).SealAsync(evenIfEmpty: false, None);
            }
        }));
        await Task.WhenAll(writers.Concat(sealers));
        await Sealer(db).SealAsync(evenIfEmpty: false, None);
        var result = await VerifyAsync(db);
        Assert.True(result.Valid, result.FirstProblem?.Problem);
        Assert.Equal(200, result.TreeSize);
        Assert.Equal(200, result.EntriesVerified);
        Assert.Equal(0, result.Unsealed);
    }
}
