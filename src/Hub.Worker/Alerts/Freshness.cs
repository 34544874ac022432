using Hub.Core.Sync;

namespace Hub.Worker.Alerts;

/// <summary>Every connector's freshness now, from the catalog and the ledger.</summary>
public static class Freshness
{
    /// <summary>Each registered connector with its verdict at <paramref name="now"/>.</summary>
    public static async Task<IReadOnlyList<(ConnectorState Connector, FreshnessVerdict Freshness)>> JudgeAllAsync(
        ConnectorCatalog catalog, SyncLedger ledger, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(ledger);
        var connectors = await catalog.ListAsync(cancellationToken);
        var facts = await ledger.FreshnessFactsAsync(cancellationToken);
        return [.. connectors.Select(c => (c, ConnectorFreshness.Judge(c, facts.GetValueOrDefault(c.Registration.Id) ?? new FreshnessFacts(now, null), now)))];
    }
}
