using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Npgsql;

namespace Hub.Core.Audit;

/// <summary>
/// Verifies the exchange log from what is stored, trusting only the signing certificates it is given: every
/// checkpoint's signature, the chain of checkpoints, the leaf hashes each checkpoint holds against its signed root, and
/// then every entry of the range, recomputed from its columns and payload, against the signed leaf hashes. Names the
/// first entry that does not match (edited, deleted, inserted or moved rows all show as one).
/// </summary>
public sealed class ExchangeVerifier(NpgsqlDataSource dataSource)
{
    /// <summary>Verifies leaves [<paramref name="fromLeaf"/>, <paramref name="toLeaf"/>) (all when not given).</summary>
    /// <param name="trusted">The certificates the hub's checkpoints may be signed with.</param>
    /// <param name="fromLeaf">First leaf to check.</param>
    /// <param name="toLeaf">Leaf after the last to check.</param>
    /// <param name="cancellationToken">Cancels.</param>
    public async Task<ExchangeVerification> VerifyAsync(
        IReadOnlyCollection<X509Certificate2> trusted, long? fromLeaf, long? toLeaf, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot for the whole check, so that entries sealed meanwhile do not show as inserted rows.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var tree = await SealedTree.LoadAsync(connection, trusted, cancellationToken);
        var from = Math.Max(0, fromLeaf ?? 0);
        // Leaves past a checkpoint that does not check out are vouched for by nothing: the check stops there.
        var checkedTo = Math.Min(toLeaf ?? long.MaxValue, tree.Size);
        VerificationProblem? problem = null;

        long verified = 0;
        if (from < checkedTo)
        {
            var expected = from;
            await foreach (var row in ExchangeLog.ReadLeavesAsync(connection, from, checkedTo, cancellationToken))
            {
                if (row.LeafIndex != expected)
                {
                    problem = new VerificationProblem(expected, null, $"leaf {expected} is missing: the row that held it was deleted or moved");
                    break;
                }

                if (Check(row, tree.LeafHash(row.LeafIndex)) is { } bad)
                {
                    problem = bad;
                    break;
                }

                verified++;
                expected++;
            }

            if (problem is null && expected < checkedTo)
            {
                problem = new VerificationProblem(expected, null, $"leaf {expected} is missing: the row that held it was deleted or moved");
            }
        }

        if (problem is null && tree.Problem is { } treeProblem && (treeProblem.LeafIndex ?? 0) < (toLeaf ?? long.MaxValue))
        {
            problem = treeProblem;
        }

        if (problem is null && toLeaf is null)
        {
            problem = await ExtraRowsAsync(connection, tree.Size, cancellationToken);
        }

        var unsealed = await CountAsync(connection, "select count(*) from exchange_pending", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new ExchangeVerification(problem is null, tree.Size, tree.Checkpoints.Count, from, verified, unsealed, problem);
    }

    private static VerificationProblem? Check(LeafRow row, byte[] signedLeafHash)
    {
        if (row.Entry is not { } entry)
        {
            return new VerificationProblem(row.LeafIndex, row.EntryId, $"entry {row.EntryId} at leaf {row.LeafIndex} is missing: its row was deleted");
        }

        if (entry.PayloadSha256 is { } sha && entry.PayloadWithheld is null)
        {
            if (row.Payload is null)
            {
                return new VerificationProblem(row.LeafIndex, entry.Id, $"entry {entry.Id} at leaf {row.LeafIndex}: its payload is missing");
            }

            if (!SHA256.HashData(row.Payload).AsSpan().SequenceEqual(sha))
            {
                return new VerificationProblem(row.LeafIndex, entry.Id, $"entry {entry.Id} at leaf {row.LeafIndex}: its payload does not match its SHA-256 (the payload was edited)");
            }
        }

        return entry.LeafHash().AsSpan().SequenceEqual(signedLeafHash)
            ? null
            : new VerificationProblem(row.LeafIndex, entry.Id,
                $"entry {entry.Id} at leaf {row.LeafIndex} does not match the sealed log: it was edited, or another entry was inserted, deleted or moved there");
    }

    private static async Task<VerificationProblem?> ExtraRowsAsync(NpgsqlConnection connection, long treeSize, CancellationToken cancellationToken)
    {
        await using (var command = new NpgsqlCommand("select leaf_index, entry_id from exchange_leaf where leaf_index >= $1 or leaf_index < 0 order by leaf_index limit 1", connection))
        {
            command.Parameters.Add(new() { Value = treeSize });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                return new VerificationProblem(reader.GetInt64(0), reader.GetInt64(1),
                    $"leaf {reader.GetInt64(0)} (entry {reader.GetInt64(1)}) is outside the sealed tree of {treeSize} leaves: it was inserted");
            }
        }

        await using (var command = new NpgsqlCommand("""
            select e.id from exchange_entry e
            where not exists (select 1 from exchange_leaf l where l.entry_id = e.id)
              and not exists (select 1 from exchange_pending p where p.entry_id = e.id)
            order by e.id limit 1
            """, connection))
        {
            if (await command.ExecuteScalarAsync(cancellationToken) is long id)
            {
                return new VerificationProblem(null, id, $"entry {id} is neither sealed nor waiting to be sealed: it was inserted, or its leaf was deleted");
            }
        }

        return null;
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}

/// <summary>The outcome of a verification.</summary>
/// <param name="Valid">Whether everything checked matched.</param>
/// <param name="TreeSize">Leaves in the sealed tree (up to the first checkpoint problem).</param>
/// <param name="Checkpoints">Checkpoints found.</param>
/// <param name="FromLeaf">First leaf checked.</param>
/// <param name="EntriesVerified">Entries recomputed and matched.</param>
/// <param name="Unsealed">Entries waiting to be sealed (not covered by a checkpoint yet).</param>
/// <param name="FirstProblem">The first entry or checkpoint that does not match.</param>
public sealed record ExchangeVerification(bool Valid, long TreeSize, int Checkpoints, long FromLeaf, long EntriesVerified, long Unsealed, VerificationProblem? FirstProblem);

/// <summary>The first thing that does not match: the leaf and entry when known, and what is wrong.</summary>
public sealed record VerificationProblem(long? LeafIndex, long? EntryId, string Problem);

/// <summary>
/// The tree as the signed checkpoints vouch for it: the leaf hashes of every checkpoint's segment, kept only as far as
/// each checkpoint's signature, chain and root check out.
/// </summary>
public sealed class SealedTree
{
    private readonly List<byte[]> _leafHashes = [];
    private readonly List<StoredCheckpoint> _checkpoints = [];

    /// <summary>Leaves vouched for.</summary>
    public long Size => _leafHashes.Count;

    /// <summary>The leaf hashes vouched for, in order.</summary>
    public IReadOnlyList<byte[]> LeafHashes => _leafHashes;

    /// <summary>The checkpoints that checked out, by size.</summary>
    public IReadOnlyList<StoredCheckpoint> Checkpoints => _checkpoints;

    /// <summary>The first checkpoint that did not check out, at the first leaf of its segment.</summary>
    public VerificationProblem? Problem { get; private set; }

    /// <summary>The signed hash of a leaf.</summary>
    public byte[] LeafHash(long index) => _leafHashes[checked((int)index)];

    /// <summary>Loads and checks every checkpoint.</summary>
    public static async Task<SealedTree> LoadAsync(NpgsqlConnection connection, IReadOnlyCollection<X509Certificate2> trusted, CancellationToken cancellationToken)
    {
        var tree = new SealedTree();
        var byThumbprint = new Dictionary<string, X509Certificate2>(StringComparer.OrdinalIgnoreCase);
        foreach (var certificate in trusted)
        {
            // The same certificate may be trusted twice (current and among the previous ones after a configuration slip).
            byThumbprint.TryAdd(Checkpoint.ThumbprintOf(certificate), certificate);
        }

        var frontier = new MerkleFrontier();
        var previousRoot = SHA256.HashData([]);
        foreach (var (stored, leafHashes) in await ExchangeCheckpoints.AllAsync(connection, cancellationToken))
        {
            if (tree.CheckpointProblem(stored, leafHashes, byThumbprint, frontier, previousRoot) is { } problem)
            {
                tree.Problem = new VerificationProblem(tree.Size, null, problem);
                break;
            }

            for (var i = 0; i < leafHashes.Length; i += MerkleTree.HashSize)
            {
                tree._leafHashes.Add(leafHashes[i..(i + MerkleTree.HashSize)]);
            }

            tree._checkpoints.Add(stored);
            previousRoot = stored.RootHash;
        }

        return tree;
    }

    private string? CheckpointProblem(
        StoredCheckpoint stored, byte[] leafHashes, Dictionary<string, X509Certificate2> trusted, MerkleFrontier frontier, byte[] previousRoot)
    {
        var name = $"checkpoint {stored.TreeSize}";
        Checkpoint signed;
        System.Xml.XmlElement element;
        try
        {
            element = Checkpoint.Parse(stored.Document).DocumentElement!;
            signed = Checkpoint.Read(element);
        }
        catch (Exception e) when (e is FormatException or System.Xml.XmlException)
        {
            return $"{name}: its signed document cannot be read ({e.Message})";
        }

        if (!trusted.TryGetValue(signed.Signer, out var certificate))
        {
            return $"{name} is signed by certificate {signed.Signer}, which is not among the trusted signing certificates";
        }

        if (Checkpoint.CheckSignature(element, certificate) is { } bad)
        {
            return $"{name}: {bad}";
        }

        if (signed.TreeSize != stored.TreeSize || signed.PreviousTreeSize != stored.PreviousSize || !signed.RootHash.AsSpan().SequenceEqual(stored.RootHash))
        {
            return $"{name}: its stored size or root differ from its signed document";
        }

        if (signed.PreviousTreeSize != Size || !signed.PreviousRootHash.AsSpan().SequenceEqual(previousRoot))
        {
            return $"{name} follows a checkpoint of {signed.PreviousTreeSize} leaves, but the checkpoint before it has {Size}: a checkpoint was deleted or inserted";
        }

        if (leafHashes.Length != (signed.TreeSize - signed.PreviousTreeSize) * MerkleTree.HashSize)
        {
            return $"{name}: it holds {leafHashes.Length / MerkleTree.HashSize} leaf hashes for {signed.TreeSize - signed.PreviousTreeSize} leaves";
        }

        for (var i = 0; i < leafHashes.Length; i += MerkleTree.HashSize)
        {
            frontier.Append(leafHashes[i..(i + MerkleTree.HashSize)]);
        }

        return frontier.Root().AsSpan().SequenceEqual(signed.RootHash)
            ? null
            : $"{name}: the leaf hashes stored with it do not give its signed root (the checkpoint table was altered)";
    }
}
