using System.Globalization;
using Hub.Core.Sync;

namespace Hub.Worker.Alerts;

/// <summary>A condition that holds now: an alert is open while it does.</summary>
/// <param name="Rule">The rule: one of the <see cref="AlertRules"/> names.</param>
/// <param name="ConnectorId">The connector; <c>""</c> for a rule about the hub itself.</param>
/// <param name="State">The state that makes it hold (<c>late</c>, <c>failing</c>, <c>paused</c>, a rate, an expiry).</param>
/// <param name="Since">When it began to hold, where known.</param>
/// <param name="Message">What is wrong, in words (no personal data).</param>
public sealed record AlertCondition(string Rule, string ConnectorId, string State, DateTimeOffset? Since, string Message);

/// <summary>The alert rules: a pure function of the connectors' freshness, their quarantine rates and the certificate.</summary>
public static class AlertRules
{
    /// <summary>Late or failing: the run due after its last success is more than one interval overdue.</summary>
    public const string Late = "connector-late";

    /// <summary>Failing: more than two intervals overdue (a late alert is open too).</summary>
    public const string Failing = "connector-failing";

    /// <summary>A scheduled connector left paused: its schedule does not run.</summary>
    public const string Disabled = "connector-disabled";

    /// <summary>The open quarantined records of recent runs are a larger share of what they read than the connector's threshold.</summary>
    public const string QuarantineRate = "quarantine-rate";

    /// <summary>The hub's signing certificate expires soon.</summary>
    public const string CertificateExpiring = "certificate-expiring";

    /// <summary>Every condition that holds at <paramref name="now"/>.</summary>
    /// <param name="connectors">Each connector with its freshness verdict.</param>
    /// <param name="quarantine">Per connector: records read by its recent runs, and its open quarantined records last seen in them.</param>
    /// <param name="certificateNotAfter">When the hub's signing certificate expires.</param>
    /// <param name="now">The time of the evaluation.</param>
    /// <param name="certificateWarning">How long before expiry the certificate rule holds.</param>
    public static IReadOnlyList<AlertCondition> Evaluate(
        IEnumerable<(ConnectorState Connector, FreshnessVerdict Freshness)> connectors,
        IReadOnlyDictionary<string, (long RecordsRead, long OpenQuarantined)> quarantine,
        DateTimeOffset certificateNotAfter,
        DateTimeOffset now,
        TimeSpan certificateWarning)
    {
        ArgumentNullException.ThrowIfNull(connectors);
        ArgumentNullException.ThrowIfNull(quarantine);
        var conditions = new List<AlertCondition>();
        foreach (var (connector, freshness) in connectors)
        {
            var id = connector.Registration.Id;
            var name = freshness.State.ToString().ToLowerInvariant();
            if (freshness.State is FreshnessState.Late or FreshnessState.Failing)
            {
                conditions.Add(new(Late, id, name, freshness.LateAt, $"Connector {id} is {name}: {freshness.Why}"));
            }

            if (freshness.State is FreshnessState.Failing)
            {
                conditions.Add(new(Failing, id, name, freshness.FailingAt, $"Connector {id} is failing: {freshness.Why}"));
            }

            // Retired, draft and approved connectors are not expected to run; a paused one with a schedule is.
            if (freshness.State is FreshnessState.Paused && !string.IsNullOrWhiteSpace(connector.Registration.Schedule))
            {
                conditions.Add(new(Disabled, id, name, connector.LifecycleChangedAt, $"Connector {id} is {freshness.Why}; its schedule does not run"));
            }

            if (connector.Lifecycle is ConnectorLifecycle.Active or ConnectorLifecycle.Paused
                && quarantine.TryGetValue(id, out var q) && q.RecordsRead > 0
                && (double)q.OpenQuarantined / q.RecordsRead > connector.Registration.QuarantineThreshold)
            {
                var rate = (double)q.OpenQuarantined / q.RecordsRead;
                conditions.Add(new(QuarantineRate, id, rate.ToString("0.####", CultureInfo.InvariantCulture), null, string.Create(CultureInfo.InvariantCulture,
                    $"Connector {id}: {q.OpenQuarantined} open quarantined records for {q.RecordsRead} records read recently ({rate:P1}), above its threshold of {connector.Registration.QuarantineThreshold:P1}")));
            }
        }

        if (certificateNotAfter - now < certificateWarning)
        {
            var expired = certificateNotAfter <= now;
            conditions.Add(new(CertificateExpiring, "", expired ? "expired" : "expiring", null, string.Create(CultureInfo.InvariantCulture,
                $"The hub's signing certificate {(expired ? "expired" : "expires")} at {certificateNotAfter.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}; renew it (Hub:Signing)")));
        }

        return conditions;
    }
}
