using System.Diagnostics.Metrics;
using Hub.Worker.Sync;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly.CircuitBreaker;

namespace Hub.Worker.Telemetry;

/// <summary>
/// The per-connector gauges of the <c>Hub</c> meter: <c>hub.connector.lag</c>, <c>hub.quarantine.open</c> and
/// <c>hub.connector.circuit</c>. One query reads every connector's newest stored event time and open quarantine count,
/// at most once per <see cref="TelemetryOptions.GaugeRefresh"/> whatever the number of scrapers.
/// </summary>
/// <remarks>
/// The query reads one row per connector (<c>connector.newest_event_at</c>, kept by the ingest path) and counts open
/// quarantined records through the partial index <c>quarantined_record_open</c>. Retired connectors are left out.
/// </remarks>
public sealed partial class ConnectorGauges : IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly ConnectorHttpClients _clients;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _refresh;
    private readonly ILogger<ConnectorGauges> _logger;
    private readonly Meter _meter;
    private readonly Lock _lock = new();
    private IReadOnlyList<ConnectorGauge> _snapshot = [];
    private DateTimeOffset _readAt = DateTimeOffset.MinValue;

    public ConnectorGauges(
        IMeterFactory meters, NpgsqlDataSource dataSource, ConnectorHttpClients clients, TimeProvider timeProvider,
        IOptions<TelemetryOptions> options, ILogger<ConnectorGauges> logger)
    {
        _dataSource = dataSource;
        _clients = clients;
        _timeProvider = timeProvider;
        _refresh = options.Value.GaugeRefresh;
        _logger = logger;
        _meter = meters.Create(HubTelemetry.Name);
        _meter.CreateObservableGauge("hub.connector.lag", ObserveLag, "s",
            "Seconds between now and the newest source event time stored for the connector (absent until it stored one).");
        _meter.CreateObservableGauge("hub.quarantine.open", ObserveQuarantine, "{record}", "Open quarantined records of the connector.");
        _meter.CreateObservableGauge("hub.connector.circuit", ObserveCircuit, "{state}", "The connector's circuit: 0 closed, 1 half-open, 2 open.");
    }

    /// <summary>The circuit gauge's value of a state: 0 closed, 1 half-open, 2 open (isolated counts as open).</summary>
    public static int CircuitValue(CircuitState state) => state switch
    {
        CircuitState.Closed => 0,
        CircuitState.HalfOpen => 1,
        _ => 2,
    };

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<double>> ObserveLag()
    {
        var now = _timeProvider.GetUtcNow();
        return Snapshot()
            .Where(c => c.NewestEventAt is not null)
            .Select(c => new Measurement<double>((now - c.NewestEventAt!.Value).TotalSeconds, Tag(c.Id)))
            .ToList();
    }

    private IEnumerable<Measurement<long>> ObserveQuarantine() =>
        Snapshot().Select(c => new Measurement<long>(c.OpenQuarantine, Tag(c.Id))).ToList();

    private IEnumerable<Measurement<int>> ObserveCircuit() =>
        Snapshot().Select(c => new Measurement<int>(CircuitValue(_clients.CircuitOf(c.Id)), Tag(c.Id))).ToList();

    private static KeyValuePair<string, object?> Tag(string connectorId) => new(HubTelemetry.ConnectorTag, connectorId);

    private IReadOnlyList<ConnectorGauge> Snapshot()
    {
        lock (_lock)
        {
            var now = _timeProvider.GetUtcNow();
            if (now - _readAt < _refresh)
            {
                return _snapshot;
            }

            try
            {
                _snapshot = Read();
            }
            catch (NpgsqlException e)
            {
                // A scrape must not fail because the database does not answer: the gauges go missing (which alerts see)
                // and /health/ready reports the database; the log says why.
                LogReadFailed(_logger, e.Message);
                _snapshot = [];
            }

            _readAt = now;
            return _snapshot;
        }
    }

    private List<ConnectorGauge> Read()
    {
        // Synchronous: observable instruments' callbacks are; the query reads one row per connector.
        using var command = _dataSource.CreateCommand("""
            select c.id, c.newest_event_at,
                   (select count(*) from quarantined_record q where q.connector_id = c.id and q.resolved_at is null)
            from connector c
            where c.lifecycle <> 'retired'
            order by c.id
            """);
        command.CommandTimeout = 5;
        using var reader = command.ExecuteReader();
        var rows = new List<ConnectorGauge>();
        while (reader.Read())
        {
            rows.Add(new ConnectorGauge(
                reader.GetString(0),
                reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1),
                reader.GetInt64(2)));
        }

        return rows;
    }

    private sealed record ConnectorGauge(string Id, DateTimeOffset? NewestEventAt, long OpenQuarantine);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The connector gauges could not be read from the database: {Error}")]
    private static partial void LogReadFailed(ILogger logger, string error);
}
