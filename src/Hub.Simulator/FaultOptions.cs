namespace Hub.Simulator;

/// <summary>
/// Faults a province starts with. All are off by default. Faults never change the truth: a client that retries
/// and resumes obtains every real revision.
/// </summary>
public sealed record FaultOptions
{
    public const int DefaultRetryAfterSeconds = 1;
    public const int DefaultHangTimeSeconds = 30;

    /// <summary>Delay added to every request of the province.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Up to this much more delay, drawn per request.</summary>
    public TimeSpan LatencyJitter { get; init; }

    /// <summary>Share of feed requests answered 500.</summary>
    public double ServerErrorRate { get; init; }

    /// <summary>Share of feed requests answered 429 with a <c>Retry-After</c> header.</summary>
    public double TooManyRequestsRate { get; init; }

    /// <summary>The <c>Retry-After</c> value of a 429, in seconds.</summary>
    public int RetryAfterSeconds { get; init; } = DefaultRetryAfterSeconds;

    /// <summary>Share of feed requests that hang for <see cref="HangTime"/> (or until the client gives up), then get 504.</summary>
    public double TimeoutRate { get; init; }

    /// <summary>How long a hanging request hangs.</summary>
    public TimeSpan HangTime { get; init; } = TimeSpan.FromSeconds(DefaultHangTimeSeconds);

    /// <summary>
    /// Share of real revisions followed in the feed by an extra corrupted copy (an unparseable date, no <c>code</c>,
    /// or status id 99). The copies are not part of the truth.
    /// </summary>
    public double MalformedRate { get; init; }

    /// <summary>Share of real revisions served a second time, a little later in the feed (same page or a later one).</summary>
    public double DuplicateRate { get; init; }

    /// <summary>Serve the items of each page in a random (per page deterministic) order.</summary>
    public bool ShuffleWithinPage { get; init; }

    /// <summary>Every request of the province (except the simulator's stats) answers 503.</summary>
    public bool Down { get; init; }

    /// <summary>Every request of the province (except the simulator's stats) has its connection aborted, with no answer.</summary>
    public bool Unreachable { get; init; }

    /// <summary>When set, the province behaves as <see cref="Down"/> once it has received this many feed requests.</summary>
    public int? DownAfterFeedRequests { get; init; }
}
