namespace Hub.Simulator;

/// <summary>How the vendor feed pages its results.</summary>
public enum PagingMode
{
    /// <summary>Query <c>page</c> (0-based) and <c>size</c>, Spring style.</summary>
    PageSize,

    /// <summary>Query <c>offset</c> and <c>limit</c>.</summary>
    OffsetLimit,

    /// <summary>Query <c>size</c> and <c>pageToken</c>; each reply carries an opaque <c>nextPageToken</c>, null at the end.</summary>
    NextToken,
}

/// <summary>
/// One simulated provincial one-stop system: what it holds (generated from <see cref="Seed"/>), how its API is
/// reached, and which faults it starts with. Everything except <see cref="Start"/>/<see cref="End"/> defaults
/// to a constant, so the same options give the same truth.
/// </summary>
public sealed record ProvinceOptions
{
    public const string DefaultSourceSystem = "sim-h56";
    public const string DefaultAgencyPrefix = "H56";
    public const int DefaultDossiers = 1000;
    public const int DefaultSeed = 56;
    public const int DefaultWindowDays = 30;
    public const int DefaultEndLagSeconds = 60;
    public const double DefaultRollbackShare = 0;
    public const string DefaultClientId = "hub-connector";
    public const string DefaultClientSecret = "simulator-secret";
    public const string DefaultTokenPath = "/auth/realms/one-stop/protocol/openid-connect/token";
    public const int DefaultTokenLifetimeSeconds = 300;
    public const PagingMode DefaultPagingMode = PagingMode.PageSize;
    public const int DefaultPageSize = 100;
    public const int DefaultMaxPageSize = 1000;

    /// <summary>The hub's id of this source system; also the path prefix under which the host serves it.</summary>
    public string SourceSystem { get; init; } = DefaultSourceSystem;

    /// <summary>The province's agency code prefix: agency codes are <c>{prefix}.NN</c>, procedure codes end with it.</summary>
    public string AgencyPrefix { get; init; } = DefaultAgencyPrefix;

    /// <summary>How many dossiers the province holds.</summary>
    public int Dossiers { get; init; } = DefaultDossiers;

    /// <summary>Seed of the generation and of the deterministic faults.</summary>
    public int Seed { get; init; } = DefaultSeed;

    /// <summary>Start of the window in which dossier lifecycles happen; <see cref="End"/> minus 30 days when null.</summary>
    public DateTimeOffset? Start { get; init; }

    /// <summary>
    /// End of the window; one minute before the province is built when null. Lifecycles that would run past it are
    /// cut there, so dossiers submitted late are still in progress. An end in the future makes revisions appear in the
    /// feed as the clock reaches them.
    /// </summary>
    public DateTimeOffset? End { get; init; }

    /// <summary>Share of dossiers whose returned result is cancelled (10→4) and handled again (→9→10). Part of the truth.</summary>
    public double RollbackShare { get; init; } = DefaultRollbackShare;

    /// <summary>
    /// Whether every lifecycle time (submission, each status change and so each revision's update time) is in whole
    /// seconds, strictly increasing within a dossier. For the national portal protocol, whose dates carry whole seconds
    /// only: without it two revisions could not be ordered if they fell in the same second. Part of the truth.
    /// </summary>
    public bool WholeSecondTimes { get; init; }

    /// <summary>OAuth2 client id the token endpoint accepts.</summary>
    public string ClientId { get; init; } = DefaultClientId;

    /// <summary>OAuth2 client secret the token endpoint accepts.</summary>
    public string ClientSecret { get; init; } = DefaultClientSecret;

    /// <summary>Path of the token endpoint, below the province's prefix.</summary>
    public string TokenPath { get; init; } = DefaultTokenPath;

    /// <summary>How long an issued access token is accepted.</summary>
    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromSeconds(DefaultTokenLifetimeSeconds);

    /// <summary>The query parameters the feed pages with.</summary>
    public PagingMode PagingMode { get; init; } = DefaultPagingMode;

    /// <summary>Page size when the request gives none.</summary>
    public int PageSize { get; init; } = DefaultPageSize;

    /// <summary>Largest page size served; larger requests are capped to it.</summary>
    public int MaxPageSize { get; init; } = DefaultMaxPageSize;

    /// <summary>The faults the province starts with; <see cref="SimulatedProvince.Faults"/> changes them at run time.</summary>
    public FaultOptions Faults { get; init; } = new();
}
