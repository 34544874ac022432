using System.Collections.Concurrent;
using System.Text.Json;
using Hub.Connectors.BuiltIn;
using Hub.Core.Store;
using Hub.Core.Sync;
using Hub.Simulator;
using Hub.Tests.Infrastructure;
using Hub.Tests.Sync;
using Hub.Worker.Sync;
using Microsoft.Extensions.Logging;

namespace Hub.Tests.Audit;

/// <summary>
/// DOMAIN.md: personal data stays out of logs. A sync whose pages carry applicants' names and personal ids, with faults
/// and malformed records on the way, keeps those values in the exchange log (the one place for raw payloads, whose reads
/// are themselves logged) and writes none of them to the hub's log output, even at the most verbose level.
/// </summary>
public class PersonalDataLogTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_sync_of_pages_with_names_and_personal_ids_logs_none_of_them_while_the_exchange_log_keeps_the_pages()
    {
        var window = new DateTimeOffset(2026, 8, 1, 0, 0, 0, TimeSpan.Zero);
        await using var simulator = await SimulatorHost.StartAsync(new ProvinceOptions
        {
            SourceSystem = "sim-pii",
            AgencyPrefix = "H93",
            Dossiers = 400,
            Seed = 93,
            Start = window,
            End = window.AddDays(10),
            Faults = new FaultOptions { ServerErrorRate = 0.1, MalformedRate = 0.05, DuplicateRate = 0.05 },
        });
        await using var db = await TestDatabase.CreateSchemaAsync("personal_data_log");
        var captured = new CapturingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(captured));
        using var http = new ConnectorHttpClients(loggers.CreateLogger<ConnectorHttpClients>());
        var catalog = TestSecrets.Catalog(db);
        var registration = RestSyncEndToEndTests.RegistrationFor(simulator, "sim-pii");
        await catalog.SaveAsync(registration with { QuarantineThreshold = 1 }, None);
        var runner = new SyncRunner(
            catalog, new SyncLedger(db, TimeProvider.System),
            new RecordIngest(new StatusStore(db, TimeProvider.System, loggers.CreateLogger<StatusStore>()), TimeProvider.System),
            new ConnectorKinds([new RestPullConnectorKind()]), http, new Core.Audit.ExchangeLog(db, TimeProvider.System), TimeProvider.System,
            loggers, loggers.CreateLogger<SyncRunner>());

        var run = await runner.RunAsync(registration.Id, SyncTrigger.Manual, None);
        await runner.ReprocessQuarantineAsync(registration.Id, None);

        Assert.True(run.Counts.Quarantined > 0, $"{run.Outcome} {run.Failure}: no malformed record to quarantine");

        // The personal data the source sent, read back from the exchange log's pages.
        var personal = new HashSet<string>(StringComparer.Ordinal);
        foreach (var page in (await LogCheck.EntriesAsync(db, registration.Id)).Where(e => e is { Direction: "inbound", PayloadSha256: not null }))
        {
            using var json = JsonDocument.Parse(await LogCheck.PayloadAsync(db, page));
            foreach (var item in json.RootElement.GetProperty("content").EnumerateArray())
            {
                if (item.TryGetProperty("applicant", out var applicant))
                {
                    personal.Add(applicant.GetProperty("data").GetProperty("fullname").GetString()!);
                    personal.Add(applicant.GetProperty("data").GetProperty("identityNumber").GetString()!);
                }
            }
        }

        Assert.True(personal.Count > 400, $"only {personal.Count} personal values in the logged pages");
        var output = captured.Text;
        Assert.True(captured.Count > 5, "the hub logged (almost) nothing: the check would prove nothing");
        Assert.All(personal, value => Assert.DoesNotContain(value, output, StringComparison.Ordinal));
    }

    /// <summary>Keeps every log entry's message, state values and exception, as any sink could write them.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _entries = new();

        public int Count => _entries.Count;

        public string Text => string.Join("\n", _entries);

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join("; ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
                entries.Enqueue($"{logLevel} {category}: {formatter(state, exception)} [{values}] {exception}");
            }
        }
    }
}
