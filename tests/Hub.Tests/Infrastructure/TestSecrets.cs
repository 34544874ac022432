using Hub.Connectors;
using Hub.Connectors.BuiltIn;
using Hub.Core.Secrets;
using Hub.Core.Sync;
using Npgsql;

namespace Hub.Tests.Infrastructure;

/// <summary>Connector secrets and catalogs over a test schema's own key ring, as the hub process builds them.</summary>
public static class TestSecrets
{
    /// <summary>The built-in kinds and the tests' scripted one, whose schemas say which settings are secrets.</summary>
    public static IConnectorKind[] BuiltInKinds() =>
        [new RestPullConnectorKind(), new NationalPortalConnectorKind(), new JsonWebhookConnectorKind(), new SignedXmlConnectorKind(), new Sync.ScriptedPullKind()];

    /// <summary>Secrets over the key ring in <paramref name="db"/>: the built-in kinds and <paramref name="more"/>.</summary>
    public static ConnectorSecrets For(NpgsqlDataSource db, params IConnectorKind[] more) =>
        new(HubDataProtection.CreateProvider(db), BuiltInKinds().Where(k => more.All(m => m.Name != k.Name)).Concat(more));

    /// <summary>A catalog over <paramref name="db"/> whose secrets use its key ring.</summary>
    public static ConnectorCatalog Catalog(NpgsqlDataSource db, params IConnectorKind[] more) => new(db, For(db, more));
}
