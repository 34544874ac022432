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
}

/// <summary>That an entry is leaf <see cref="LeafIndex"/> of the tree of <see cref="TreeSize"/> leaves: the audit path to the root.</summary>
public sealed record InclusionProof(long EntryId, long LeafIndex, long TreeSize, byte[] LeafHash, IReadOnlyList<byte[]> Path)
{
    /// <summary>Whether the path leads from <paramref name="leafHash"/> to <paramref name="root"/>.</summary>
    public bool Verifies(ReadOnlySpan<byte> leafHash, ReadOnlySpan<byte> root) => MerkleTree.VerifyInclusion(LeafIndex, TreeSize, leafHash, Path, root);
}
