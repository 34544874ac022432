using System.Security.Cryptography.X509Certificates;
using Npgsql;

namespace Hub.Core.Audit;

/// <summary>Inclusion proofs of entries in the latest signed checkpoint.</summary>
public sealed class ExchangeProofs(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Proves that each of <paramref name="entryIds"/> is in the tree of the latest checkpoint that checks out. Entries
    /// not sealed yet (or unknown) have no proof.
    /// </summary>
    /// <returns>The checkpoint the proofs lead to (<c>null</c> when there is none) and a proof per sealed entry.</returns>
    public async Task<(StoredCheckpoint? Checkpoint, IReadOnlyList<InclusionProof> Proofs)> ProveAsync(
        IReadOnlyCollection<long> entryIds, IReadOnlyCollection<X509Certificate2> trusted, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var tree = await SealedTree.LoadAsync(connection, trusted, cancellationToken);
        if (tree.Checkpoints.Count == 0)
        {
            return (null, []);
        }

        var checkpoint = tree.Checkpoints[^1];
        var size = checked((int)checkpoint.TreeSize);
        var proofs = new List<InclusionProof>();
        await using var command = new NpgsqlCommand("select entry_id, leaf_index from exchange_leaf where entry_id = any($1) and leaf_index < $2 order by leaf_index", connection);
        command.Parameters.Add(new() { Value = entryIds.ToArray() });
        command.Parameters.Add(new() { Value = checkpoint.TreeSize });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var index = checked((int)reader.GetInt64(1));
            proofs.Add(new InclusionProof(reader.GetInt64(0), index, checkpoint.TreeSize, tree.LeafHashes[index], MerkleTree.InclusionProof(tree.LeafHashes, index, size)));
        }

        return (checkpoint, proofs);
    }

    /// <summary>
    /// Proves that the tree of the first <paramref name="oldSize"/> leaves is a prefix of the tree of checkpoint
    /// <paramref name="newSize"/> (the latest valid one when <c>null</c>): an auditor who kept an earlier root checks that
    /// nothing sealed since was rewritten.
    /// </summary>
    /// <returns>The proof, or why there is none.</returns>
    public async Task<(ConsistencyProof? Proof, string? Problem)> ProveConsistencyAsync(
        long oldSize, long? newSize, IReadOnlyCollection<X509Certificate2> trusted, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var tree = await SealedTree.LoadAsync(connection, trusted, cancellationToken);
        var checkpoint = newSize is { } size ? tree.Checkpoints.FirstOrDefault(c => c.TreeSize == size) : tree.Checkpoints.LastOrDefault();
        if (checkpoint is null)
        {
            return (null, newSize is { } missing
                ? $"no checkpoint of {missing} leaves checks out with the trusted certificates"
                : "no checkpoint checks out with the trusted certificates");
        }

        if (oldSize < 1 || oldSize > checkpoint.TreeSize)
        {
            return (null, $"the earlier tree size must be between 1 and {checkpoint.TreeSize}, the checkpoint's size; it is {oldSize}");
        }

        var n = checked((int)checkpoint.TreeSize);
        var m = checked((int)oldSize);
        return (new ConsistencyProof(oldSize, checkpoint.TreeSize, MerkleTree.Root(tree.LeafHashes, 0, m), checkpoint.RootHash,
            MerkleTree.ConsistencyProof(tree.LeafHashes, m, n), checkpoint), null);
    }
}

/// <summary>That the tree of <see cref="OldSize"/> leaves is a prefix of the checkpoint's tree of <see cref="NewSize"/>.</summary>
/// <param name="OldSize">The earlier tree size.</param>
/// <param name="NewSize">The checkpoint's tree size.</param>
/// <param name="OldRoot">The root of the earlier tree, as the hub computes it now; an auditor compares it with the one they kept.</param>
/// <param name="NewRoot">The checkpoint's signed root.</param>
/// <param name="Path">The RFC 9162 consistency path.</param>
/// <param name="Checkpoint">The signed checkpoint of <see cref="NewSize"/> leaves.</param>
public sealed record ConsistencyProof(long OldSize, long NewSize, byte[] OldRoot, byte[] NewRoot, IReadOnlyList<byte[]> Path, StoredCheckpoint Checkpoint)
{
    /// <summary>Whether the path links <paramref name="keptOldRoot"/> to the checkpoint's root.</summary>
    public bool Verifies(ReadOnlySpan<byte> keptOldRoot) => MerkleTree.VerifyConsistency(OldSize, NewSize, keptOldRoot, NewRoot, Path);
}

/// <summary>That an entry is leaf <see cref="LeafIndex"/> of the tree of <see cref="TreeSize"/> leaves: the audit path to the root.</summary>
public sealed record InclusionProof(long EntryId, long LeafIndex, long TreeSize, byte[] LeafHash, IReadOnlyList<byte[]> Path)
{
    /// <summary>Whether the path leads from <paramref name="leafHash"/> to <paramref name="root"/>.</summary>
    public bool Verifies(ReadOnlySpan<byte> leafHash, ReadOnlySpan<byte> root) => MerkleTree.VerifyInclusion(LeafIndex, TreeSize, leafHash, Path, root);
}
