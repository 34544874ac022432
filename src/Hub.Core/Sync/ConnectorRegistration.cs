using System.Text.Json;
using Hub.Connectors.Mapping;

namespace Hub.Core.Sync;

/// <summary>A connector as registered: which kind, which source system, how it is configured, mapped and scheduled.</summary>
public sealed record ConnectorRegistration
{
    /// <summary>Default share of bad records in a run above which the run fails.</summary>
    public const double DefaultQuarantineThreshold = 0.05;

    /// <summary>The connector's id: lower-case letters, digits and dashes, for example <c>h56-vnpt-rest</c>.</summary>
    public required string Id { get; init; }

    /// <summary>The name of its <see cref="Hub.Connectors.IConnectorKind"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The hub's id of the source system; the first half of every dossier key the connector reports.</summary>
    public required string SourceSystem { get; init; }

    /// <summary>A name for people.</summary>
    public required string DisplayName { get; init; }

    /// <summary>
    /// The agency (province or ministry code, for example <c>H56</c> or <c>G09.20</c>) that owns the connector: its
    /// province-admins maintain it. <c>null</c>: a central connector, maintained by operators only.
    /// </summary>
    public string? Agency { get; init; }

    /// <summary>The kind's configuration, secrets included.</summary>
    public required JsonElement Configuration { get; init; }

    /// <summary>How its records become canonical changes.</summary>
    public required MappingDefinition Mapping { get; init; }

    /// <summary>Cron expression of scheduled pulls; <c>null</c> for push connectors or manual-only pulls.</summary>
    public string? Schedule { get; init; }

    /// <summary>The time zone the schedule is read in.</summary>
    public string TimeZone { get; init; } = "Asia/Ho_Chi_Minh";

    /// <summary>How the hub protects the source and itself from the source's failures.</summary>
    public ConnectorResilience Resilience { get; init; } = new();

    /// <summary>Share of bad (quarantined) records in a run above which the run fails; from 0 to 1.</summary>
    public double QuarantineThreshold { get; init; } = DefaultQuarantineThreshold;

    /// <summary>Whether the connector runs; a paused connector keeps its cursor.</summary>
    public bool Active { get; init; } = true;
}

/// <summary>
/// Per-connector resilience: each connector has its own pipeline, so a slow or failing province never uses up
/// another's retries, circuit or rate.
/// </summary>
public sealed record ConnectorResilience
{
    /// <summary>Time allowed for one HTTP attempt.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time allowed for one request including its retries.</summary>
    public TimeSpan TotalTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Retries after the first attempt.</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>Base delay of the exponential, jittered backoff.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait the hub accepts, from backoff or from a source's <c>Retry-After</c>.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Share of failed attempts in the sampling window that opens the circuit.</summary>
    public double CircuitFailureRatio { get; init; } = 0.5;

    /// <summary>Attempts in the sampling window before the circuit may open.</summary>
    public int CircuitMinimumThroughput { get; init; } = 8;

    /// <summary>The window over which failures are counted.</summary>
    public TimeSpan CircuitSamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the circuit stays open before one trial request.</summary>
    public TimeSpan CircuitBreakDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Requests per second the hub sends at most to the source, to protect the provincial server.</summary>
    public int RequestsPerSecond { get; init; } = 20;
}

/// <summary>A registered connector, where its cursor stands and where it is in its lifecycle.</summary>
public sealed record ConnectorState(ConnectorRegistration Registration, string? Cursor, DateTimeOffset? CursorMovedAt)
{
    /// <summary>Where it is in its lifecycle; only an <see cref="ConnectorLifecycle.Active"/> connector runs.</summary>
    public ConnectorLifecycle Lifecycle { get; init; } = ConnectorLifecycle.Active;

    /// <summary>Why it came to its lifecycle state, as its last changer said.</summary>
    public string? LifecycleReason { get; init; }

    /// <summary>When it came to its lifecycle state.</summary>
    public DateTimeOffset? LifecycleChangedAt { get; init; }

    /// <summary>Who brought it to its lifecycle state.</summary>
    public string? LifecycleChangedBy { get; init; }
}

/// <summary>
/// A connector's lifecycle: <c>draft → submitted → approved</c> (by an operator) <c>→ active ⇄ paused → retired</c>.
/// A submitted connector can be returned to draft; any connector but a retired one can be retired; retired is final.
/// </summary>
public enum ConnectorLifecycle
{
    /// <summary>Being written by its owners; checked and previewed, never run.</summary>
    Draft,

    /// <summary>Submitted for an operator's approval.</summary>
    Submitted,

    /// <summary>Approved by an operator; its owners or an operator activate it.</summary>
    Approved,

    /// <summary>Runs on its schedule and receives pushes.</summary>
    Active,

    /// <summary>Stopped for now; keeps its cursor.</summary>
    Paused,

    /// <summary>No longer used; kept with its history, never run or changed again.</summary>
    Retired,
}
