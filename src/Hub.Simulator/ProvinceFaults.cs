namespace Hub.Simulator;

/// <summary>The kinds of corrupted copies <see cref="FaultOptions.MalformedRate"/> adds to the feed.</summary>
public enum MalformedKind
{
    /// <summary><c>updatedDate</c> is not a date (day 00).</summary>
    UnparseableDate,

    /// <summary>The item has no <c>code</c>.</summary>
    MissingCode,

    /// <summary><c>dossierStatus.id</c> is 99, which the vendor's table does not have.</summary>
    UnknownStatus,
}

/// <summary>Every fault the simulator counts in <see cref="SimulatorStats"/>.</summary>
public enum FaultKind
{
    /// <summary>A request was delayed by <see cref="ProvinceFaults.Latency"/>.</summary>
    Latency,

    /// <summary>A request got 503 because the province is down.</summary>
    Down,

    /// <summary>A request had its connection aborted.</summary>
    Unreachable,

    /// <summary>A feed request got 500.</summary>
    ServerError,

    /// <summary>A feed request got 429.</summary>
    TooManyRequests,

    /// <summary>A feed request hung.</summary>
    Timeout,

    /// <summary>A duplicate of a real revision was served.</summary>
    Duplicate,

    /// <summary>A copy with an unparseable date was served.</summary>
    UnparseableDate,

    /// <summary>A copy without <c>code</c> was served.</summary>
    MissingCode,

    /// <summary>A copy with status id 99 was served.</summary>
    UnknownStatus,

    /// <summary>A page was served in shuffled order.</summary>
    Shuffle,
}

/// <summary>
/// The faults of a running province, changeable at any time (for example down, then up again). Starts from
/// <see cref="ProvinceOptions.Faults"/>. Reads and writes are thread-safe; a request sees the values of the moment
/// it reaches each check.
/// </summary>
public sealed class ProvinceFaults
{
    private readonly FaultOptions _initial;
    private readonly Lock _writing = new();
    private volatile FaultOptions _current;

    internal ProvinceFaults(FaultOptions initial)
    {
        Validate(initial);
        _initial = initial;
        _current = initial;
    }

    /// <summary>All current values at once.</summary>
    public FaultOptions Current => _current;

    /// <inheritdoc cref="FaultOptions.Latency"/>
    public TimeSpan Latency { get => _current.Latency; set => Update(f => f with { Latency = value }); }

    /// <inheritdoc cref="FaultOptions.LatencyJitter"/>
    public TimeSpan LatencyJitter { get => _current.LatencyJitter; set => Update(f => f with { LatencyJitter = value }); }

    /// <inheritdoc cref="FaultOptions.ServerErrorRate"/>
    public double ServerErrorRate { get => _current.ServerErrorRate; set => Update(f => f with { ServerErrorRate = value }); }

    /// <inheritdoc cref="FaultOptions.TooManyRequestsRate"/>
    public double TooManyRequestsRate { get => _current.TooManyRequestsRate; set => Update(f => f with { TooManyRequestsRate = value }); }

    /// <inheritdoc cref="FaultOptions.RetryAfterSeconds"/>
    public int RetryAfterSeconds { get => _current.RetryAfterSeconds; set => Update(f => f with { RetryAfterSeconds = value }); }

    /// <inheritdoc cref="FaultOptions.TimeoutRate"/>
    public double TimeoutRate { get => _current.TimeoutRate; set => Update(f => f with { TimeoutRate = value }); }

    /// <inheritdoc cref="FaultOptions.HangTime"/>
    public TimeSpan HangTime { get => _current.HangTime; set => Update(f => f with { HangTime = value }); }

    /// <inheritdoc cref="FaultOptions.MalformedRate"/>
    public double MalformedRate { get => _current.MalformedRate; set => Update(f => f with { MalformedRate = value }); }

    /// <inheritdoc cref="FaultOptions.DuplicateRate"/>
    public double DuplicateRate { get => _current.DuplicateRate; set => Update(f => f with { DuplicateRate = value }); }

    /// <inheritdoc cref="FaultOptions.ShuffleWithinPage"/>
    public bool ShuffleWithinPage { get => _current.ShuffleWithinPage; set => Update(f => f with { ShuffleWithinPage = value }); }

    /// <inheritdoc cref="FaultOptions.Down"/>
    public bool Down { get => _current.Down; set => Update(f => f with { Down = value }); }

    /// <inheritdoc cref="FaultOptions.Unreachable"/>
    public bool Unreachable { get => _current.Unreachable; set => Update(f => f with { Unreachable = value }); }

    /// <inheritdoc cref="FaultOptions.DownAfterFeedRequests"/>
    public int? DownAfterFeedRequests { get => _current.DownAfterFeedRequests; set => Update(f => f with { DownAfterFeedRequests = value }); }

    /// <summary>Replaces every fault at once.</summary>
    public void Set(FaultOptions faults)
    {
        Validate(faults);
        _current = faults;
    }

    /// <summary>Turns every fault off.</summary>
    public void Clear() => Set(new FaultOptions());

    /// <summary>Goes back to the faults of <see cref="ProvinceOptions.Faults"/>.</summary>
    public void Reset() => Set(_initial);

    private void Update(Func<FaultOptions, FaultOptions> change)
    {
        // Writers are rare (tests, demo controls); a lock keeps two concurrent setters from losing a change.
        lock (_writing)
        {
            Set(change(_current));
        }
    }

    internal static void Validate(FaultOptions faults)
    {
        Rate(faults.ServerErrorRate, nameof(FaultOptions.ServerErrorRate));
        Rate(faults.TooManyRequestsRate, nameof(FaultOptions.TooManyRequestsRate));
        Rate(faults.TimeoutRate, nameof(FaultOptions.TimeoutRate));
        Rate(faults.MalformedRate, nameof(FaultOptions.MalformedRate));
        Rate(faults.DuplicateRate, nameof(FaultOptions.DuplicateRate));
        if (faults.ServerErrorRate + faults.TooManyRequestsRate + faults.TimeoutRate > 1)
        {
            throw new ArgumentException("ServerErrorRate + TooManyRequestsRate + TimeoutRate must not exceed 1.", nameof(faults));
        }

        if (faults.Latency < TimeSpan.Zero || faults.LatencyJitter < TimeSpan.Zero || faults.HangTime < TimeSpan.Zero)
        {
            throw new ArgumentException("Latency, LatencyJitter and HangTime must not be negative.", nameof(faults));
        }

        if (faults.RetryAfterSeconds < 0)
        {
            throw new ArgumentException("RetryAfterSeconds must not be negative.", nameof(faults));
        }

        if (faults.DownAfterFeedRequests < 0)
        {
            throw new ArgumentException("DownAfterFeedRequests must not be negative.", nameof(faults));
        }
    }

    private static void Rate(double value, string name)
    {
        if (!(value is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(name, value, "A rate is a share between 0 and 1.");
        }
    }
}
