namespace Hub.Simulator.Generation;

/// <summary>
/// Stable hashing of small integer tuples (SplitMix64), for choices that must be the same in every run and must not
/// depend on the order in which things are asked (which revisions get a fault, each dossier's own seed).
/// </summary>
internal static class Mix
{
    public static ulong Hash(long a, long b, long c)
    {
        var x = Step(Step(Step(0x9E3779B97F4A7C15UL ^ (ulong)a) ^ (ulong)b) ^ (ulong)c);
        return x;
    }

    /// <summary>A seed for <see cref="Random"/>.</summary>
    public static int Seed(long a, long b, long c) => (int)(Hash(a, b, c) & 0x7FFF_FFFF);

    /// <summary>A number in [0, 1).</summary>
    public static double Unit(long a, long b, long c) => (Hash(a, b, c) >> 11) * (1.0 / (1UL << 53));

    private static ulong Step(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
