using System.Text.Json;
using Hub.Contracts;
using Hub.Core.Sync;

namespace Hub.Core.Delivery;

/// <summary>
/// A subscription: a system that gets the hub's published events through a subscriber connector kind, with the
/// kind's configuration, the filters that choose its events, and how its deliveries are retried.
/// </summary>
public sealed record SubscriptionRegistration
{
    /// <summary>Lower-case letters, digits and dashes, 2 to 63 characters.</summary>
    public required string Id { get; init; }

    /// <summary>The subscriber connector kind, for example <c>national-portal-client</c> or <c>signed-webhook</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>A name for people.</summary>
    public required string DisplayName { get; init; }

    /// <summary>The kind's configuration, valid against its schema; secrets in clear only on the way in.</summary>
    public required JsonElement Configuration { get; init; }

    /// <summary>Which events the subscriber gets.</summary>
    public SubscriptionFilter Filter { get; init; } = new();

    /// <summary>How deliveries are batched and retried.</summary>
    public DeliverySettings Delivery { get; init; } = new();

    /// <summary>The resilience pipeline of the subscription's HTTP client (timeouts, retries within an attempt, circuit, rate).</summary>
    public ConnectorResilience Resilience { get; init; } = new();

    /// <summary>Whether its events are delivered; a paused subscription keeps collecting them and gets them once active again.</summary>
    public bool Active { get; init; } = true;
}

/// <summary>
/// The filters of a subscription; an absent or empty list lets every value through. A change passes when its agency,
/// procedure and status pass; a step passes when its dossier's current agency, procedure and status do.
/// </summary>
public sealed record SubscriptionFilter
{
    /// <summary>
    /// Agency codes; one ending in <c>*</c> is a prefix, one starting with <c>*</c> a suffix (<c>*.H56</c> is every unit of
    /// province H56 in the national code form <c>000.00.15.H56</c>).
    /// </summary>
    public IReadOnlyList<string>? Agencies { get; init; }

    /// <summary>Procedure codes, matched against the dossier's procedure code and its national base code.</summary>
    public IReadOnlyList<string>? Procedures { get; init; }

    /// <summary>National statuses.</summary>
    public IReadOnlyList<NationalStatus>? Statuses { get; init; }

    /// <summary>Whether a dossier with these attributes passes.</summary>
    public bool Matches(string? agency, string? procedure, string? procedureBase, NationalStatus? status) =>
        (Agencies is not { Count: > 0 } || (agency is not null && Agencies.Any(a => AgencyMatches(a, agency))))
        && (Procedures is not { Count: > 0 } || Procedures.Any(p => p == procedure || (procedureBase is not null && p == procedureBase)))
        && (Statuses is not { Count: > 0 } || (status is { } s && Statuses.Contains(s)));

    private static bool AgencyMatches(string pattern, string agency) =>
        pattern.EndsWith('*') ? agency.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
        : pattern.StartsWith('*') ? agency.EndsWith(pattern.AsSpan(1), StringComparison.Ordinal)
        : string.Equals(pattern, agency, StringComparison.Ordinal);
}

/// <summary>How a subscription's events are delivered (<c>delivery</c> of a registration).</summary>
public sealed record DeliverySettings
{
    /// <summary>Attempts per event before it is dead-lettered (1 to 100).</summary>
    public int MaxAttempts { get; init; } = 8;

    /// <summary>The wait after the first failed attempt; it doubles with each further one (with jitter).</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between attempts.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Events handed to the sink at once (1 to 1000).</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>
    /// The wait before attempt <paramref name="attempt"/> + 1 after attempt <paramref name="attempt"/> failed:
    /// <see cref="RetryBaseDelay"/> doubled per earlier failure, at most <see cref="MaxRetryDelay"/>, less up to a fifth
    /// at random so that retries of many events do not arrive together.
    /// </summary>
    public TimeSpan Backoff(int attempt, double random)
    {
        var doubled = RetryBaseDelay.Ticks * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        var capped = Math.Min(doubled, MaxRetryDelay.Ticks);
        return TimeSpan.FromTicks((long)(capped * (1 - (0.2 * Math.Clamp(random, 0, 1)))));
    }
}

/// <summary>A stored subscription, as the hub reads it back.</summary>
/// <param name="Registration">The registration, configuration with secrets encrypted (as stored).</param>
/// <param name="CreatedAt">When it was first registered.</param>
/// <param name="UpdatedAt">When it was last changed.</param>
public sealed record SubscriptionState(SubscriptionRegistration Registration, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
