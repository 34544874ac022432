using System.Text.Json;
using Hub.Connectors;
using Hub.Connectors.Mapping;
using Hub.Core.Audit;
using Hub.Core.Store;
using Hub.Core.Sync;
using Hub.Tests.Infrastructure;
using Hub.Worker.Sync;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hub.Tests.Sync;

/// <summary>The sync engine wired by hand over a test schema.</summary>
public sealed class SyncHarness(NpgsqlDataSource dataSource, params IConnectorKind[] kinds) : IDisposable
{
    private readonly ConnectorHttpClients _http = new(NullLogger<ConnectorHttpClients>.Instance);

    public NpgsqlDataSource DataSource { get; } = dataSource;

    public ConnectorCatalog Catalog { get; } = TestSecrets.Catalog(dataSource, kinds);

    public SyncLedger Ledger { get; } = new(dataSource, TimeProvider.System);

    public StatusStore Store { get; } = new(dataSource, TimeProvider.System, NullLogger<StatusStore>.Instance);

    public RecordIngest Ingest => new(Store, TimeProvider.System);

    public ExchangeLog Exchange { get; } = new(dataSource, TimeProvider.System);

    /// <summary>The kinds the harness knows: built-in, scripted or loaded from a plugins folder.</summary>
    public ConnectorKinds Kinds => new(kinds);

    public SyncRunner Runner => new(Catalog, Ledger, Ingest, Kinds, _http, Exchange, TimeProvider.System, NullLoggerFactory.Instance, NullLogger<SyncRunner>.Instance);

    public ConnectorHttpClients Http => _http;

    /// <summary>A mapping for the simple records the scripted feeds hold: {id, code, t, s, v?}.</summary>
    public static MappingDefinition SimpleMapping(string version = "simple/1", IReadOnlyDictionary<string, int>? statuses = null) => new()
    {
        Version = version,
        StatusCodes = statuses ?? Enumerable.Range(1, 10).ToDictionary(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture), i => i),
        Dossier = new Dictionary<string, FieldMapping>
        {
            ["NativeId"] = "id",
            ["DossierCode"] = "code",
            ["EventTime"] = "t",
            ["Status"] = "s",
            ["SourceVersion"] = "v",
        },
    };

    public static ConnectorRegistration Scripted(string id, string feed, MappingDefinition? mapping = null, double threshold = 0.05) => new()
    {
        Id = id,
        Kind = "scripted-pull",
        SourceSystem = "sys-" + id,
        DisplayName = id,
        Configuration = JsonSerializer.SerializeToElement(new { feed }),
        Mapping = mapping ?? SimpleMapping(),
        QuarantineThreshold = threshold,
    };

    public static string Record(string id, int minute, int status, string? code = null) =>
        JsonSerializer.Serialize(new { id, code = code ?? "C-" + id, t = new DateTimeOffset(2025, 11, 17, 8, 0, 0, TimeSpan.FromHours(7)).AddMinutes(minute).ToString("O"), s = status.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    public void Dispose() => _http.Dispose();
}
