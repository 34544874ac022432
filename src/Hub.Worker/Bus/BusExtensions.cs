using Hub.Core.Store;
using Hub.Worker.Subscribers;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Bus;

/// <summary>Settings of the message bus and the outbox dispatcher (<c>Hub:Bus</c>).</summary>
public sealed class BusOptions
{
    public const string Section = "Hub:Bus";

    /// <summary>Whether this node publishes the outbox (any number of nodes may; they take different rows).</summary>
    public bool DispatchOutbox { get; set; } = true;

    /// <summary>
    /// How long the dispatcher waits after finding the outbox empty: an event waits this long at most for its publication
    /// (a poll is one index lookup of the pending rows, so ten a second per node cost the database next to nothing).
    /// </summary>
    public TimeSpan DispatchInterval { get; set; } = DefaultDispatchInterval;

    /// <summary>Events claimed, published and marked sent per transaction.</summary>
    public int DispatchBatchSize { get; set; } = DefaultDispatchBatchSize;

    /// <summary>How long the rows of sent events are kept (to see what was published and when) before they are deleted.</summary>
    public TimeSpan KeepSent { get; set; } = DefaultKeepSent;

    /// <summary>
    /// How long the bus may take to publish one transaction's events (with RabbitMQ: until the broker confirms them).
    /// A publish waits while the broker is unreachable; past this the transaction is rolled back, the events stay
    /// pending and the failure is logged, instead of holding the claimed rows' locks for the whole outage.
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = DefaultPublishTimeout;

    public static readonly TimeSpan DefaultPublishTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Where events are published: in memory (one process, the default) or a RabbitMQ broker.</summary>
    public BusTransport Transport { get; set; } = BusTransport.InMemory;

    /// <summary>The broker when <see cref="Transport"/> is <see cref="BusTransport.RabbitMq"/> (<c>Hub:Bus:RabbitMq</c>).</summary>
    public RabbitMqBusOptions RabbitMq { get; set; } = new();

    public static readonly TimeSpan DefaultKeepSent = TimeSpan.FromDays(7);

    public static readonly TimeSpan DefaultDispatchInterval = TimeSpan.FromMilliseconds(100);

    public const int DefaultDispatchBatchSize = 500;
}

/// <summary>The bus's transport (<c>Hub:Bus:Transport</c>).</summary>
public enum BusTransport
{
    /// <summary>MassTransit's in-memory transport: consumers in the same process only.</summary>
    InMemory,

    /// <summary>A RabbitMQ broker (<c>Hub:Bus:RabbitMq</c>).</summary>
    RabbitMq,
}

/// <summary>The RabbitMQ broker the bus connects to (<c>Hub:Bus:RabbitMq</c>).</summary>
public sealed class RabbitMqBusOptions
{
    /// <summary>Host name or address of the broker.</summary>
    public string Host { get; set; } = "";

    /// <summary>AMQP port.</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>Virtual host.</summary>
    public string VirtualHost { get; set; } = "/";

    public string Username { get; set; } = "";

    /// <summary>A secret: never logged, never part of an error message.</summary>
    public string Password { get; set; } = "";

    public const int DefaultPort = 5672;

    /// <summary>What is wrong with these settings, one message per error (empty when they are usable).</summary>
    public IEnumerable<string> Errors()
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            yield return "Hub:Bus:RabbitMq:Host is required when Hub:Bus:Transport is RabbitMq.";
        }

        if (Port is < 1 or > 65535)
        {
            yield return $"Hub:Bus:RabbitMq:Port must be between 1 and 65535 (it is {Port}).";
        }

        if (string.IsNullOrEmpty(VirtualHost))
        {
            yield return "Hub:Bus:RabbitMq:VirtualHost must not be empty (the default virtual host is \"/\").";
        }

        if (string.IsNullOrEmpty(Username))
        {
            yield return "Hub:Bus:RabbitMq:Username is required when Hub:Bus:Transport is RabbitMq.";
        }

        if (string.IsNullOrEmpty(Password))
        {
            yield return "Hub:Bus:RabbitMq:Password is required when Hub:Bus:Transport is RabbitMq.";
        }
    }
}

/// <summary>
/// The message bus (MassTransit: in memory by default, or RabbitMQ when <c>Hub:Bus:Transport</c> is <c>RabbitMq</c>)
/// and the dispatcher that publishes the store's transactional outbox on it.
/// </summary>
public static class BusExtensions
{
    /// <summary>Registers the bus, the outbox and its dispatcher.</summary>
    public static IHostApplicationBuilder AddHubBus(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BusOptions>()
            .Bind(builder.Configuration.GetSection(BusOptions.Section))
            .Validate(o => o.DispatchInterval >= TimeSpan.FromMilliseconds(50) && o.DispatchInterval <= TimeSpan.FromMinutes(1),
                "Hub:Bus:DispatchInterval must be between 50 milliseconds and one minute.")
            .Validate(o => o.KeepSent >= TimeSpan.Zero, "Hub:Bus:KeepSent must not be negative.")
            .Validate(o => o.DispatchBatchSize is >= 1 and <= 10_000, "Hub:Bus:DispatchBatchSize must be between 1 and 10000.")
            .Validate(o => o.PublishTimeout >= TimeSpan.FromMilliseconds(100) && o.PublishTimeout <= TimeSpan.FromMinutes(10),
                "Hub:Bus:PublishTimeout must be between 100 milliseconds and 10 minutes.")
            .Validate(o => Enum.IsDefined(o.Transport), "Hub:Bus:Transport must be InMemory or RabbitMq.")
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<BusOptions>, RabbitMqOptionsValidation>();
        builder.Services.AddSingleton<Outbox>();

        // The transport is chosen here, before the options are validated: a value that does not bind fails the start
        // when they are (ValidateOnStart), whatever was registered.
        var transport = builder.Configuration.GetSection(BusOptions.Section).GetValue<string>(nameof(BusOptions.Transport));
        var rabbitMq = Enum.TryParse<BusTransport>(transport, ignoreCase: true, out var parsed) && parsed == BusTransport.RabbitMq;
        builder.Services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            x.SetKebabCaseEndpointNameFormatter();
            x.AddSubscriptionRouting();
            // Readiness (/health/ready) takes the checks tagged "ready": the bus is one of them, named as the others are.
            x.ConfigureHealthCheckOptions(h =>
            {
                h.Name = "bus";
                h.Tags.Clear();
                h.Tags.Add("ready");
            });
            if (rabbitMq)
            {
                x.UsingRabbitMq((context, bus) =>
                {
                    var broker = context.GetRequiredService<IOptions<BusOptions>>().Value.RabbitMq;
                    bus.Host(broker.Host, (ushort)broker.Port, broker.VirtualHost, h =>
                    {
                        h.Username(broker.Username);
                        h.Password(broker.Password);

                        // A publish completes only once the broker has confirmed the message (MassTransit's default
                        // for RabbitMQ, stated here because the outbox relies on it): rows are marked sent after that.
                        h.PublisherConfirmation = true;
                    });
                    bus.ConfigureEndpoints(context);
                });
            }
            else
            {
                x.UsingInMemory((context, bus) => bus.ConfigureEndpoints(context));
            }
        });
        builder.Services.AddHostedService<OutboxDispatcher>();
        return builder;
    }

    /// <summary>Every error of the broker settings at once, and only when RabbitMQ is the transport.</summary>
    private sealed class RabbitMqOptionsValidation : IValidateOptions<BusOptions>
    {
        public ValidateOptionsResult Validate(string? name, BusOptions options)
        {
            if (options.Transport != BusTransport.RabbitMq)
            {
                return ValidateOptionsResult.Success;
            }

            var errors = options.RabbitMq.Errors().ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
