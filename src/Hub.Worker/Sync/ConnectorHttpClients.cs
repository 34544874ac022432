using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Hub.Core.Sync;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.CircuitBreaker;

namespace Hub.Worker.Sync;

/// <summary>
/// One HTTP client per connector, each behind a resilience pipeline of its own: rate limit → total timeout → retry
/// (exponential, jittered, honouring <c>Retry-After</c>) → circuit breaker → attempt timeout. A connector's circuit,
/// retries, connection pool and rate are its own, so a failing or slow province never holds back the others.
/// </summary>
/// <remarks>
/// Clients live as long as the hub (the circuit's state must outlive a run) and are rebuilt when a connector's
/// resilience settings change.
/// </remarks>
public sealed partial class ConnectorHttpClients(ILogger<ConnectorHttpClients> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, ConnectorHttp> _clients = new(StringComparer.Ordinal);

    /// <summary>The client of a connector, built on first use.</summary>
    public ConnectorHttp For(ConnectorRegistration connector) => For(connector.Id, connector.Resilience);

    /// <summary>The client of a connector or subscription (by the id its log lines use), built on first use and rebuilt when its settings change.</summary>
    public ConnectorHttp For(string id, ConnectorResilience resilience)
    {
        while (true)
        {
            var existing = _clients.GetOrAdd(id, _ => Create(id, resilience));
            if (existing.Settings == resilience)
            {
                return existing;
            }

            if (_clients.TryUpdate(id, Create(id, resilience), existing))
            {
                existing.Dispose();
            }
        }
    }

    /// <summary>The circuit state of a connector's pipeline; closed while it has no client yet (no run since the start).</summary>
    public CircuitState CircuitOf(string connectorId) =>
        _clients.TryGetValue(connectorId, out var http) ? http.Circuit.CircuitState : CircuitState.Closed;

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        _clients.Clear();
    }

    private ConnectorHttp Create(string id, ConnectorResilience settings)
    {
        var http = new ConnectorHttp(id, settings);
        var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, settings.RequestsPerSecond),
            TokensPerPeriod = Math.Max(1, settings.RequestsPerSecond),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRateLimiter(limiter)
            .AddTimeout(settings.TotalTimeout);
        // No retries (maxRetries 0) is a choice a source may need: Polly's retry strategy takes at least one, so it is left out.
        if (settings.MaxRetries > 0)
        {
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = settings.MaxRetries,
                Delay = settings.RetryBaseDelay,
                MaxDelay = settings.MaxRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldRetryAfterHeader = true,
                OnRetry = args =>
                {
                    Interlocked.Increment(ref http.RetriesField);
                    LogRetry(logger, id, args.AttemptNumber + 1, Describe(args.Outcome), args.RetryDelay);
                    return default;
                },
            });
        }

        var pipeline = builder
            .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                FailureRatio = settings.CircuitFailureRatio,
                MinimumThroughput = Math.Max(2, settings.CircuitMinimumThroughput),
                SamplingDuration = settings.CircuitSamplingDuration,
                BreakDuration = settings.CircuitBreakDuration,
                StateProvider = http.Circuit,
                OnOpened = args =>
                {
                    LogCircuitOpened(logger, id, args.BreakDuration, Describe(args.Outcome));
                    return default;
                },
                OnClosed = _ =>
                {
                    LogCircuitClosed(logger, id);
                    return default;
                },
            })
            .AddTimeout(settings.AttemptTimeout)
            .Build();

        var handler = new ResilienceHandler(pipeline)
        {
            InnerHandler = new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = settings.AttemptTimeout,
                AutomaticDecompression = System.Net.DecompressionMethods.All,
            },
        };
        http.Client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        http.Limiter = limiter;
        return http;
    }

    private static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } e ? e.GetType().Name : $"HTTP {(int)outcome.Result!.StatusCode}";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connector {ConnectorId}: retry {Attempt} after {Outcome}, waiting {Delay}")]
    private static partial void LogRetry(ILogger logger, string connectorId, int attempt, string outcome, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Connector {ConnectorId}: circuit opened for {BreakDuration} after {Outcome}; its source is failing")]
    private static partial void LogCircuitOpened(ILogger logger, string connectorId, TimeSpan breakDuration, string outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connector {ConnectorId}: circuit closed; its source answers again")]
    private static partial void LogCircuitClosed(ILogger logger, string connectorId);
}

/// <summary>A connector's HTTP client and what its pipeline has seen.</summary>
public sealed class ConnectorHttp : IDisposable
{
    internal long RetriesField;

    internal ConnectorHttp(string connectorId, ConnectorResilience settings)
    {
        ConnectorId = connectorId;
        Settings = settings;
    }

    /// <summary>The connector.</summary>
    public string ConnectorId { get; }

    /// <summary>The settings the pipeline was built from.</summary>
    public ConnectorResilience Settings { get; }

    /// <summary>The client; every request goes through the connector's pipeline.</summary>
    public HttpClient Client { get; internal set; } = null!;

    /// <summary>The circuit breaker's state.</summary>
    public CircuitBreakerStateProvider Circuit { get; } = new();

    /// <summary>Retries made since the client was built.</summary>
    public long Retries => Interlocked.Read(ref RetriesField);

    internal RateLimiter? Limiter { get; set; }

    /// <inheritdoc/>
    public void Dispose()
    {
        Client?.Dispose();
        Limiter?.Dispose();
    }
}
