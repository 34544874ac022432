using System.Security.Cryptography;
using System.Text;
using Hub.Core.Audit;

namespace Hub.Tests.Audit;

public class MerkleTreeTests
{
    private static List<byte[]> Leaves(int n) => [.. Enumerable.Range(0, n).Select(i => MerkleTree.LeafHash(Encoding.UTF8.GetBytes("leaf " + i)))];

    [Fact]
    public void Roots_follow_rfc_9162_for_small_trees()
    {
        var l = Leaves(3);
        Assert.Equal(SHA256.HashData([]), MerkleTree.Root([]));
        Assert.Equal(l[0], MerkleTree.Root(l, 0, 1));
        // Three leaves split at two: ((0,1),2).
        Assert.Equal(MerkleTree.NodeHash(MerkleTree.NodeHash(l[0], l[1]), l[2]), MerkleTree.Root(l));
        // The leaf hash is SHA-256 over 0x00 and the data.
        Assert.Equal(SHA256.HashData([0x00, .. "x"u8.ToArray()]), MerkleTree.LeafHash("x"u8));
    }

    [Fact]
    public void The_frontier_gives_the_same_root_as_the_full_tree_at_every_size_and_survives_a_round_trip()
    {
        var leaves = Leaves(70);
        var frontier = new MerkleFrontier();
        for (var n = 1; n <= leaves.Count; n++)
        {
            frontier.Append(leaves[n - 1]);
            Assert.Equal(MerkleTree.Root(leaves, 0, n), frontier.Root());
            var copy = MerkleFrontier.Load(n, frontier.ToBytes());
            Assert.Equal(frontier.Root(), copy.Root());
        }

        Assert.Throws<FormatException>(() => MerkleFrontier.Load(70, frontier.ToBytes()[..32]));
    }

    [Fact]
    public void Every_inclusion_proof_verifies_and_a_changed_leaf_path_or_index_does_not()
    {
        var leaves = Leaves(23);
        for (var size = 1; size <= leaves.Count; size++)
        {
            var root = MerkleTree.Root(leaves, 0, size);
            for (var i = 0; i < size; i++)
            {
                var proof = MerkleTree.InclusionProof(leaves, i, size);
                Assert.True(MerkleTree.VerifyInclusion(i, size, leaves[i], proof, root), $"leaf {i} of {size}");
                Assert.False(MerkleTree.VerifyInclusion(i, size, leaves[(i + 1) % leaves.Count], proof, root));
                if (size > 1)
                {
                    Assert.False(MerkleTree.VerifyInclusion((i + 1) % size, size, leaves[i], proof, root));
                    var bent = proof.Select(p => (byte[])p.Clone()).ToList();
                    bent[0][0] ^= 1;
                    Assert.False(MerkleTree.VerifyInclusion(i, size, leaves[i], bent, root));
                }
            }
        }
    }

    [Fact]
    public void Every_consistency_proof_verifies_and_a_rewritten_past_a_wrong_size_or_a_bent_path_does_not()
    {
        var leaves = Leaves(37);
        for (var newSize = 1; newSize <= leaves.Count; newSize++)
        {
            var newRoot = MerkleTree.Root(leaves, 0, newSize);
            for (var oldSize = 1; oldSize <= newSize; oldSize++)
            {
                var oldRoot = MerkleTree.Root(leaves, 0, oldSize);
                var proof = MerkleTree.ConsistencyProof(leaves, oldSize, newSize);
                Assert.True(MerkleTree.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, proof), $"{oldSize} -> {newSize}");

                // The new tree rewrote one leaf of the old one: its proof cannot lead to the old root.
                var rewritten = leaves.ToList();
                rewritten[oldSize / 2] = MerkleTree.LeafHash("rewritten"u8);
                var rewrittenProof = MerkleTree.ConsistencyProof(rewritten, oldSize, newSize);
                Assert.False(MerkleTree.VerifyConsistency(oldSize, newSize, oldRoot, MerkleTree.Root(rewritten, 0, newSize), rewrittenProof));

                if (oldSize < newSize)
                {
                    Assert.False(MerkleTree.VerifyConsistency(oldSize + 1, newSize, oldRoot, newRoot, proof));
                    Assert.False(MerkleTree.VerifyConsistency(oldSize, newSize, newRoot, newRoot, proof));
                    var bent = proof.Select(p => (byte[])p.Clone()).ToList();
                    bent[^1][0] ^= 1;
                    Assert.False(MerkleTree.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, bent));
                }
            }
        }
    }
}
