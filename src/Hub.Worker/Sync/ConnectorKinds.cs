using Hub.Connectors;

namespace Hub.Worker.Sync;

/// <summary>The connector kinds the hub knows: its built-in ones and those of the plugins it loaded.</summary>
public sealed class ConnectorKinds
{
    private readonly Dictionary<string, IConnectorKind> _kinds = new(StringComparer.Ordinal);

    /// <summary>Collects the kinds; two kinds with one name are a start-up error.</summary>
    public ConnectorKinds(IEnumerable<IConnectorKind> kinds)
    {
        foreach (var kind in kinds)
        {
            if (!_kinds.TryAdd(kind.Name, kind))
            {
                throw new InvalidOperationException(
                    $"Two connector kinds are named '{kind.Name}': {_kinds[kind.Name].GetType().FullName} and {kind.GetType().FullName}.");
            }
        }
    }

    /// <summary>Every kind, by name.</summary>
    public IReadOnlyCollection<IConnectorKind> All => _kinds.Values;

    /// <summary>
    /// What a kind does, as <c>GET /api/connector-kinds</c> lists it: <c>pull</c>, <c>push</c> (connectors bring changes in)
    /// or <c>subscribe</c> (subscriptions deliver them out).
    /// </summary>
    public static string Direction(IConnectorKind kind) => kind switch
    {
        IPullConnectorKind => "pull",
        ISubscriberConnectorKind => "subscribe",
        _ => "push",
    };

    /// <summary>The kind with the name, or <c>null</c>.</summary>
    public IConnectorKind? Find(string name) => _kinds.GetValueOrDefault(name);

    /// <summary>The pull kind with the name.</summary>
    /// <exception cref="ConnectorException">No such kind, or it does not pull (a configuration problem).</exception>
    public IPullConnectorKind GetPull(string name) => Find(name) switch
    {
        IPullConnectorKind pull => pull,
        null => throw new ConnectorException(FailureSide.Configuration, false,
            $"No connector kind is named '{name}'; known kinds: {string.Join(", ", _kinds.Keys.Order(StringComparer.Ordinal))}."),
        ISubscriberConnectorKind => throw new ConnectorException(FailureSide.Configuration, false, $"Kind '{name}' does not pull; it delivers to subscribers."),
        _ => throw new ConnectorException(FailureSide.Configuration, false, $"Connector kind '{name}' does not pull; it only receives pushed messages."),
    };
}
