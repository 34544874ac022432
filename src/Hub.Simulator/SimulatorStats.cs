namespace Hub.Simulator;

/// <summary>Counters of one province, for tests and demos. Thread-safe; <see cref="Reset"/> sets them all to zero.</summary>
public sealed class SimulatorStats
{
    private static readonly FaultKind[] Kinds = Enum.GetValues<FaultKind>();

    private readonly long[] _faults = new long[Kinds.Length];
    private long _requests;
    private long _feedRequests;
    private long _tokenRequests;
    private long _tokensIssued;
    private long _unauthorized;
    private long _pagesServed;
    private long _itemsServed;
    private long _revisionsServed;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _pageDigests = new(StringComparer.Ordinal);

    /// <summary>Every request to the province's endpoints.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Requests to the revisions feed.</summary>
    public long FeedRequests => Interlocked.Read(ref _feedRequests);

    /// <summary>Requests to the token endpoint.</summary>
    public long TokenRequests => Interlocked.Read(ref _tokenRequests);

    /// <summary>Access tokens issued.</summary>
    public long TokensIssued => Interlocked.Read(ref _tokensIssued);

    /// <summary>Requests answered 401 (bad client credentials, or a missing, unknown or expired token).</summary>
    public long Unauthorized => Interlocked.Read(ref _unauthorized);

    /// <summary>Feed pages answered 200.</summary>
    public long PagesServed => Interlocked.Read(ref _pagesServed);

    /// <summary>Feed items served: revisions, duplicates and malformed copies.</summary>
    public long ItemsServed => Interlocked.Read(ref _itemsServed);

    /// <summary>Real revisions served, duplicates included, malformed copies not.</summary>
    public long RevisionsServed => Interlocked.Read(ref _revisionsServed);

    /// <summary>How many times a fault of this kind was injected.</summary>
    public long Faults(FaultKind kind) => Interlocked.Read(ref _faults[(int)kind]);

    /// <summary>
    /// Whether to keep the SHA-256 of every feed page served (off by default: a demo serves pages for days). Tests turn it
    /// on to check that the hub logged exactly the bytes it received.
    /// </summary>
    public bool KeepPageDigests { get; set; }

    /// <summary>The SHA-256 (lower-case hex) of every feed page served since <see cref="KeepPageDigests"/> was turned on.</summary>
    public IReadOnlyCollection<string> PageDigests => [.. _pageDigests.Keys];

    /// <summary>Every fault kind with its count.</summary>
    public IReadOnlyDictionary<FaultKind, long> FaultsInjected => Kinds.ToDictionary(k => k, Faults);

    /// <summary>Sets every counter to zero.</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _feedRequests, 0);
        Interlocked.Exchange(ref _tokenRequests, 0);
        Interlocked.Exchange(ref _tokensIssued, 0);
        Interlocked.Exchange(ref _unauthorized, 0);
        Interlocked.Exchange(ref _pagesServed, 0);
        Interlocked.Exchange(ref _itemsServed, 0);
        Interlocked.Exchange(ref _revisionsServed, 0);
        _pageDigests.Clear();
        for (var i = 0; i < _faults.Length; i++)
        {
            Interlocked.Exchange(ref _faults[i], 0);
        }
    }

    internal void CountRequest() => Interlocked.Increment(ref _requests);

    internal void KeepPageDigest(ReadOnlySpan<byte> page) =>
        _pageDigests.TryAdd(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(page)), 0);

    internal long CountFeedRequest() => Interlocked.Increment(ref _feedRequests);

    internal void CountTokenRequest() => Interlocked.Increment(ref _tokenRequests);

    internal void CountTokenIssued() => Interlocked.Increment(ref _tokensIssued);

    internal void CountUnauthorized() => Interlocked.Increment(ref _unauthorized);

    internal void CountFault(FaultKind kind, long count = 1) => Interlocked.Add(ref _faults[(int)kind], count);

    internal void CountPage(int items, int revisions)
    {
        Interlocked.Increment(ref _pagesServed);
        Interlocked.Add(ref _itemsServed, items);
        Interlocked.Add(ref _revisionsServed, revisions);
    }
}
