using System.Security.Cryptography;

namespace Hub.Core.Audit;

/// <summary>
/// Merkle tree hashing of RFC 9162 (Certificate Transparency 2.0), section 2.1: leaf hash SHA-256(0x00 || data),
/// node hash SHA-256(0x01 || left || right); a tree of n leaves splits at the largest power of two below n.
/// Root, inclusion proofs and their verification.
/// </summary>
public static class MerkleTree
{
    /// <summary>Bytes in a hash.</summary>
    public const int HashSize = 32;

    /// <summary>The hash of a leaf holding <paramref name="data"/>.</summary>
    public static byte[] LeafHash(ReadOnlySpan<byte> data)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData([0x00]);
        hash.AppendData(data);
        return hash.GetHashAndReset();
    }

    /// <summary>The hash of an inner node.</summary>
    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * HashSize)];
        buffer[0] = 0x01;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + HashSize)..]);
        return SHA256.HashData(buffer);
    }

    /// <summary>The root of the tree over <paramref name="leafHashes"/> (the hash of the empty string for no leaves).</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leafHashes) => Root(leafHashes, 0, leafHashes.Count);

    /// <summary>The root of the subtree over leaves [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leafHashes, int start, int end)
    {
        var n = end - start;
        if (n == 0)
        {
            return SHA256.HashData([]);
        }

        if (n == 1)
        {
            return leafHashes[start];
        }

        var k = LargestPowerOfTwoBelow(n);
        return NodeHash(Root(leafHashes, start, start + k), Root(leafHashes, start + k, end));
    }

    /// <summary>The inclusion proof (audit path) of leaf <paramref name="index"/> in the tree of the first <paramref name="size"/> leaves.</summary>
    public static IReadOnlyList<byte[]> InclusionProof(IReadOnlyList<byte[]> leafHashes, int index, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, leafHashes.Count);
        var path = new List<byte[]>();
        Path(leafHashes, index, 0, size, path);
        return path;
    }

    private static void Path(IReadOnlyList<byte[]> leafHashes, int index, int start, int end, List<byte[]> path)
    {
        var n = end - start;
        if (n <= 1)
        {
            return;
        }

        var k = LargestPowerOfTwoBelow(n);
        if (index < k)
        {
            Path(leafHashes, index, start, start + k, path);
            path.Add(Root(leafHashes, start + k, end));
        }
        else
        {
            Path(leafHashes, index - k, start + k, end, path);
            path.Add(Root(leafHashes, start, start + k));
        }
    }

    /// <summary>Checks an inclusion proof (RFC 9162, 2.1.3.2).</summary>
    /// <returns>Whether <paramref name="leafHash"/> is leaf <paramref name="index"/> of the tree of <paramref name="size"/> leaves whose root is <paramref name="root"/>.</returns>
    public static bool VerifyInclusion(long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        if (index < 0 || index >= size || leafHash.Length != HashSize)
        {
            return false;
        }

        var fn = index;
        var sn = size - 1;
        var r = leafHash.ToArray();
        foreach (var p in proof)
        {
            if (p.Length != HashSize || sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = NodeHash(p, r);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                r = NodeHash(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && CryptographicOperations.FixedTimeEquals(r, root);
    }

    /// <summary>
    /// The consistency proof (RFC 9162, 2.1.4.1) that the tree of the first <paramref name="oldSize"/> leaves is a prefix
    /// of the tree of the first <paramref name="newSize"/>: that nothing sealed before was changed, removed or reordered.
    /// </summary>
    public static IReadOnlyList<byte[]> ConsistencyProof(IReadOnlyList<byte[]> leafHashes, int oldSize, int newSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(oldSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, newSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(newSize, leafHashes.Count);
        var proof = new List<byte[]>();
        if (oldSize < newSize)
        {
            SubProof(leafHashes, oldSize, 0, newSize, true, proof);
        }

        return proof;
    }

    private static void SubProof(IReadOnlyList<byte[]> leafHashes, int m, int start, int end, bool whole, List<byte[]> proof)
    {
        var n = end - start;
        if (m == n)
        {
            if (!whole)
            {
                proof.Add(Root(leafHashes, start, end));
            }

            return;
        }

        var k = LargestPowerOfTwoBelow(n);
        if (m <= k)
        {
            SubProof(leafHashes, m, start, start + k, whole, proof);
            proof.Add(Root(leafHashes, start + k, end));
        }
        else
        {
            SubProof(leafHashes, m - k, start + k, end, false, proof);
            proof.Add(Root(leafHashes, start, start + k));
        }
    }

    /// <summary>Checks a consistency proof (RFC 9162, 2.1.4.2).</summary>
    /// <returns>Whether the tree of <paramref name="oldSize"/> leaves with root <paramref name="oldRoot"/> is a prefix of the tree of <paramref name="newSize"/> leaves with root <paramref name="newRoot"/>.</returns>
    public static bool VerifyConsistency(long oldSize, long newSize, ReadOnlySpan<byte> oldRoot, ReadOnlySpan<byte> newRoot, IReadOnlyList<byte[]> proof)
    {
        if (oldSize < 1 || oldSize > newSize || oldRoot.Length != HashSize || newRoot.Length != HashSize || proof.Any(p => p.Length != HashSize))
        {
            return false;
        }

        if (oldSize == newSize)
        {
            return proof.Count == 0 && CryptographicOperations.FixedTimeEquals(oldRoot, newRoot);
        }

        var path = (oldSize & (oldSize - 1)) == 0 ? [oldRoot.ToArray(), .. proof] : proof.ToList();
        if (path.Count == 0)
        {
            return false;
        }

        var fn = oldSize - 1;
        var sn = newSize - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        var fr = path[0];
        var sr = path[0];
        foreach (var c in path.Skip(1))
        {
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                fr = NodeHash(c, fr);
                sr = NodeHash(c, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                sr = NodeHash(sr, c);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && CryptographicOperations.FixedTimeEquals(fr, oldRoot) && CryptographicOperations.FixedTimeEquals(sr, newRoot);
    }

    private static int LargestPowerOfTwoBelow(int n)
    {
        var k = 1;
        while (k << 1 < n)
        {
            k <<= 1;
        }

        return k;
    }
}

/// <summary>
/// The right edge of a Merkle tree: the roots of the perfect subtrees its leaves decompose into, largest first. Enough
/// to append leaves and compute the root without the earlier leaves.
/// </summary>
public sealed class MerkleFrontier
{
    private readonly List<(byte[] Hash, int Height)> _nodes = [];

    /// <summary>Leaves in the tree.</summary>
    public long Size { get; private set; }

    /// <summary>Appends a leaf hash.</summary>
    public void Append(byte[] leafHash)
    {
        var node = (Hash: leafHash, Height: 0);
        while (_nodes.Count > 0 && _nodes[^1].Height == node.Height)
        {
            var left = _nodes[^1];
            _nodes.RemoveAt(_nodes.Count - 1);
            node = (MerkleTree.NodeHash(left.Hash, node.Hash), node.Height + 1);
        }

        _nodes.Add(node);
        Size++;
    }

    /// <summary>The tree's root.</summary>
    public byte[] Root()
    {
        if (_nodes.Count == 0)
        {
            return System.Security.Cryptography.SHA256.HashData([]);
        }

        var root = _nodes[^1].Hash;
        for (var i = _nodes.Count - 2; i >= 0; i--)
        {
            root = MerkleTree.NodeHash(_nodes[i].Hash, root);
        }

        return root;
    }

    /// <summary>The subtree roots, concatenated, largest first (what <see cref="Load"/> reads).</summary>
    public byte[] ToBytes() => [.. _nodes.SelectMany(n => n.Hash)];

    /// <summary>Restores a frontier written by <see cref="ToBytes"/> for a tree of <paramref name="size"/> leaves.</summary>
    /// <exception cref="FormatException">The bytes do not fit the size.</exception>
    public static MerkleFrontier Load(long size, ReadOnlySpan<byte> bytes)
    {
        var frontier = new MerkleFrontier { Size = size };
        var heights = new List<int>();
        for (var bit = 62; bit >= 0; bit--)
        {
            if ((size & (1L << bit)) != 0)
            {
                heights.Add(bit);
            }
        }

        if (bytes.Length != heights.Count * MerkleTree.HashSize)
        {
            throw new FormatException($"A frontier of a tree of {size} leaves has {heights.Count} hashes, not {bytes.Length / (double)MerkleTree.HashSize}.");
        }

        for (var i = 0; i < heights.Count; i++)
        {
            frontier._nodes.Add((bytes.Slice(i * MerkleTree.HashSize, MerkleTree.HashSize).ToArray(), heights[i]));
        }

        return frontier;
    }
}
