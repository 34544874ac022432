using Hub.Simulator.Generation;

namespace Hub.Simulator.Vendor;

internal enum FeedItemKind : byte
{
    Real,
    Duplicate,
    UnparseableDate,
    MissingCode,
    UnknownStatus,
}

/// <param name="Revision">Index of the revision in the province's ordered list.</param>
/// <param name="Kind">What is served for it.</param>
internal readonly record struct FeedEntry(int Revision, FeedItemKind Kind);

/// <summary>
/// The feed as served for one setting of the item-level faults: every real revision in (updatedDate, id, revision)
/// order, each malformed copy right after its original, each duplicate a few places after its original. Every entry
/// has a position time (its own updatedDate for real ones, the time of the real revision it follows for the
/// others) that never decreases along the feed, so <c>updatedFrom</c> and the visibility cut are binary searches,
/// and a duplicate is never visible before its original.
/// </summary>
internal sealed class VendorFeed
{
    private readonly long[] _positionTicks;

    private VendorFeed(FeedEntry[] entries, long[] positionTicks, double malformedRate, double duplicateRate)
    {
        Entries = entries;
        _positionTicks = positionTicks;
        MalformedRate = malformedRate;
        DuplicateRate = duplicateRate;
        Generation = (int)(Mix.Hash(BitConverter.DoubleToInt64Bits(malformedRate), BitConverter.DoubleToInt64Bits(duplicateRate), 0) & 0x7FFF_FFFF);
    }

    public FeedEntry[] Entries { get; }

    public double MalformedRate { get; }

    public double DuplicateRate { get; }

    /// <summary>Identifies the composition, so that a page token made for another one is recognised.</summary>
    public int Generation { get; }

    public long PositionTicks(int index) => _positionTicks[index];

    /// <summary>
    /// Builds the feed. Whether a revision gets a malformed copy or a duplicate is a hash of the seed and its index
    /// compared with the rate, so raising a rate only adds items and the same rates always give the same feed.
    /// </summary>
    public static VendorFeed Build(SimRevision[] ordered, int seed, double malformedRate, double duplicateRate, int duplicateSpread)
    {
        var n = ordered.Length;
        var duplicates = new List<(int Target, int Source)>();
        if (duplicateRate > 0)
        {
            for (var i = 0; i < n; i++)
            {
                if (Mix.Unit(seed, i, 11) < duplicateRate)
                {
                    var distance = (int)(Mix.Unit(seed, i, 12) * (duplicateSpread + 1));
                    duplicates.Add((Math.Min(n - 1, i + distance), i));
                }
            }

            duplicates.Sort();
        }

        var entries = new List<FeedEntry>(n + duplicates.Count + (int)(n * malformedRate) + 16);
        var ticks = new List<long>(entries.Capacity);
        var next = 0;
        for (var i = 0; i < n; i++)
        {
            var position = ordered[i].UpdatedAt.UtcTicks;
            entries.Add(new(i, FeedItemKind.Real));
            ticks.Add(position);
            if (malformedRate > 0 && Mix.Unit(seed, i, 13) < malformedRate)
            {
                var kind = (FeedItemKind)((int)FeedItemKind.UnparseableDate + (int)(Mix.Unit(seed, i, 14) * 3));
                entries.Add(new(i, kind));
                ticks.Add(position);
            }

            for (; next < duplicates.Count && duplicates[next].Target == i; next++)
            {
                entries.Add(new(duplicates[next].Source, FeedItemKind.Duplicate));
                ticks.Add(position);
            }
        }

        return new VendorFeed([.. entries], [.. ticks], malformedRate, duplicateRate);
    }

    /// <summary>The first entry whose position time is at or after <paramref name="ticks"/>.</summary>
    public int LowerBound(long ticks)
    {
        int lo = 0, hi = _positionTicks.Length;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (_positionTicks[mid] < ticks)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>The first entry whose position time is after <paramref name="ticks"/>.</summary>
    public int UpperBound(long ticks) => ticks == long.MaxValue ? _positionTicks.Length : LowerBound(ticks + 1);
}
