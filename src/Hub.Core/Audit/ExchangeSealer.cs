using System.Security.Cryptography;
using Hub.Core.Xml;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Hub.Core.Audit;

/// <summary>
/// Seals the exchange log: takes the entries waiting in <c>exchange_pending</c> in entry order, makes them the next
/// leaves of the Merkle tree, and stores a checkpoint signed by the hub's certificate, all in one transaction under an
/// advisory lock (one sealer at a time across hub processes; an entry is sealed once).
/// </summary>
public sealed partial class ExchangeSealer(
    NpgsqlDataSource dataSource, IHubSigningCertificate signing, TimeProvider timeProvider, ILogger<ExchangeSealer> logger, string origin = ExchangeSealer.DefaultOrigin)
{
    /// <summary>The log's name in checkpoints when none is configured.</summary>
    public const string DefaultOrigin = "hub";

    /// <summary>Entries sealed into one checkpoint at most; a longer queue is sealed in several.</summary>
    public int MaxEntriesPerCheckpoint { get; init; } = 50_000;

    /// <summary>
    /// Seals every entry waiting, in one or more checkpoints. With nothing waiting, seals nothing unless the log has no
    /// checkpoint yet and <paramref name="evenIfEmpty"/> is set (an empty tree's checkpoint).
    /// </summary>
    /// <returns>The latest checkpoint afterwards (<c>null</c> when the log has none).</returns>
    public async Task<StoredCheckpoint?> SealAsync(bool evenIfEmpty, CancellationToken cancellationToken)
    {
        while (true)
        {
            var (checkpoint, more) = await SealOnceAsync(evenIfEmpty, cancellationToken);
            if (!more)
            {
                return checkpoint;
            }
        }
    }

    private async Task<(StoredCheckpoint? Checkpoint, bool More)> SealOnceAsync(bool evenIfEmpty, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("select pg_advisory_xact_lock(hashtext(current_schema() || '/hub-exchange-seal'))", connection))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        var latest = await ExchangeCheckpoints.LatestAsync(connection, cancellationToken);
        var frontier = latest is null ? new MerkleFrontier() : MerkleFrontier.Load(latest.TreeSize, latest.Frontier);
        var previousRoot = latest?.RootHash ?? SHA256.HashData([]);
        if (!frontier.Root().AsSpan().SequenceEqual(previousRoot))
        {
            throw new InvalidOperationException(
                $"The stored frontier of checkpoint {latest!.TreeSize} does not give its root hash: the exchange log's checkpoint table was altered. Run a verification; nothing was sealed.");
        }

        var entries = new List<ExchangeEntry>();
        var orphans = new List<long>();
        await using (var command = new NpgsqlCommand($"""
            select p.entry_id, e.id is not null, {ExchangeLog.Columns}
            from exchange_pending p left join exchange_entry e on e.id = p.entry_id
            order by p.entry_id
            limit $1
            """, connection))
        {
            command.Parameters.Add(new() { Value = MaxEntriesPerCheckpoint + 1 });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (!reader.GetBoolean(1))
                {
                    orphans.Add(reader.GetInt64(0));
                }
                else
                {
                    entries.Add(ExchangeLog.Read(reader, 2));
                }
            }
        }

        var more = entries.Count + orphans.Count > MaxEntriesPerCheckpoint;
        if (more)
        {
            if (entries.Count > MaxEntriesPerCheckpoint)
            {
                entries.RemoveAt(entries.Count - 1);
            }
            else
            {
                orphans.RemoveAt(orphans.Count - 1);
            }
        }

        foreach (var orphan in orphans)
        {
            LogOrphan(logger, orphan);
        }

        if (entries.Count == 0 && !(evenIfEmpty && latest is null))
        {
            if (orphans.Count > 0)
            {
                await DeletePendingAsync(connection, [.. orphans], cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }

            return (latest, false);
        }

        var leafHashes = new byte[entries.Count * MerkleTree.HashSize];
        var leafIndexes = new long[entries.Count];
        var entryIds = new long[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            var hash = entries[i].LeafHash();
            hash.CopyTo(leafHashes, i * MerkleTree.HashSize);
            leafIndexes[i] = frontier.Size;
            entryIds[i] = entries[i].Id;
            frontier.Append(hash);
        }

        var certificate = signing.Certificate;
        var checkpoint = new Checkpoint(
            origin, frontier.Size, frontier.Root(), latest?.TreeSize ?? 0, previousRoot,
            ExchangeEntry.ToMicroseconds(timeProvider.GetUtcNow()), Checkpoint.ThumbprintOf(certificate));
        var document = checkpoint.Sign(certificate);

        await using (var batch = new NpgsqlBatch(connection))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("insert into exchange_leaf (leaf_index, entry_id) select * from unnest($1::bigint[], $2::bigint[])")
            {
                Parameters = { new() { Value = leafIndexes }, new() { Value = entryIds } },
            });
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                insert into exchange_checkpoint (tree_size, previous_size, root_hash, sealed_at, signer, leaf_hashes, frontier, document)
                values ($1, $2, $3, $4, $5, $6, $7, $8)
                """)
            {
                Parameters =
                {
                    new() { Value = checkpoint.TreeSize }, new() { Value = checkpoint.PreviousTreeSize }, new() { Value = checkpoint.RootHash },
                    new() { Value = checkpoint.SealedAt }, new() { Value = checkpoint.Signer }, new() { Value = leafHashes },
                    new() { Value = frontier.ToBytes() }, new() { Value = document },
                },
            });
            batch.BatchCommands.Add(new NpgsqlBatchCommand("insert into exchange_signer (thumbprint, certificate) values ($1, $2) on conflict do nothing")
            {
                Parameters = { new() { Value = checkpoint.Signer }, new() { Value = certificate.ExportCertificatePem() } },
            });
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        await DeletePendingAsync(connection, [.. entryIds, .. orphans], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogSealed(logger, checkpoint.TreeSize, entries.Count, Convert.ToHexStringLower(checkpoint.RootHash));
        return (new StoredCheckpoint(checkpoint.TreeSize, checkpoint.PreviousTreeSize, checkpoint.RootHash, checkpoint.SealedAt, checkpoint.Signer, frontier.ToBytes(), document), more);
    }

    private static async Task DeletePendingAsync(NpgsqlConnection connection, long[] ids, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("delete from exchange_pending where entry_id = any($1)", connection);
        command.Parameters.Add(new() { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Exchange log sealed: checkpoint of {TreeSize} entries ({Added} new), root {RootHash}")]
    private static partial void LogSealed(ILogger logger, long treeSize, int added, string rootHash);

    [LoggerMessage(Level = LogLevel.Error, Message = "Exchange log: entry {EntryId} was waiting to be sealed but its row is gone; it cannot be sealed")]
    private static partial void LogOrphan(ILogger logger, long entryId);
}

/// <summary>A checkpoint as stored.</summary>
public sealed record StoredCheckpoint(long TreeSize, long PreviousSize, byte[] RootHash, DateTimeOffset SealedAt, string Signer, byte[] Frontier, string Document);

/// <summary>Reads checkpoints and the leaf hashes they hold.</summary>
public static class ExchangeCheckpoints
{
    /// <summary>The latest checkpoint, or <c>null</c>.</summary>
    public static async Task<StoredCheckpoint?> LatestAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "select tree_size, previous_size, root_hash, sealed_at, signer, frontier, document from exchange_checkpoint order by tree_size desc limit 1", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new StoredCheckpoint(reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<byte[]>(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetString(4), reader.GetFieldValue<byte[]>(5), reader.GetString(6))
            : null;
    }

    /// <summary>Checkpoints as stored (not verified), newest first, from below <paramref name="beforeSize"/> when given.</summary>
    public static async Task<IReadOnlyList<StoredCheckpoint>> ListAsync(NpgsqlConnection connection, int limit, long? beforeSize, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            select tree_size, previous_size, root_hash, sealed_at, signer, frontier, document from exchange_checkpoint
            where tree_size < $1 order by tree_size desc limit $2
            """, connection);
        command.Parameters.Add(new() { Value = beforeSize ?? long.MaxValue });
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<StoredCheckpoint>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new StoredCheckpoint(reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<byte[]>(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetString(4), reader.GetFieldValue<byte[]>(5), reader.GetString(6)));
        }

        return list;
    }

    /// <summary>The checkpoint of a tree of <paramref name="treeSize"/> leaves as stored, or <c>null</c>.</summary>
    public static async Task<StoredCheckpoint?> GetAsync(NpgsqlConnection connection, long treeSize, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "select tree_size, previous_size, root_hash, sealed_at, signer, frontier, document from exchange_checkpoint where tree_size = $1", connection);
        command.Parameters.Add(new() { Value = treeSize });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new StoredCheckpoint(reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<byte[]>(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetString(4), reader.GetFieldValue<byte[]>(5), reader.GetString(6))
            : null;
    }

    /// <summary>Every checkpoint with its segment of leaf hashes, by size.</summary>
    public static async Task<IReadOnlyList<(StoredCheckpoint Checkpoint, byte[] LeafHashes)>> AllAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "select tree_size, previous_size, root_hash, sealed_at, signer, frontier, document, leaf_hashes from exchange_checkpoint order by tree_size", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<(StoredCheckpoint, byte[])>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add((new StoredCheckpoint(reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<byte[]>(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetString(4), reader.GetFieldValue<byte[]>(5), reader.GetString(6)), reader.GetFieldValue<byte[]>(7)));
        }

        return list;
    }
}
