using Hub.Core.Store;
using MassTransit;

namespace Hub.Worker.Bus;

/// <summary>Settings of the message bus and the outbox dispatcher (<c>Hub:Bus</c>).</summary>
public sealed class BusOptions
{
    public const string Section = "Hub:Bus";

    /// <summary>Whether this node publishes the outbox (any number of nodes may; they take different rows).</summary>
    public bool DispatchOutbox { get; set; } = true;

    /// <summary>How long the dispatcher waits after finding the outbox empty.</summary>
    public TimeSpan DispatchInterval { get; set; } = DefaultDispatchInterval;

    /// <summary>Events claimed, published and marked sent per transaction.</summary>
    public int DispatchBatchSize { get; set; } = DefaultDispatchBatchSize;

    /// <summary>How long the rows of sent events are kept (to see what was published and when) before they are deleted.</summary>
    public TimeSpan KeepSent { get; set; } = DefaultKeepSent;

    public static readonly TimeSpan DefaultKeepSent = TimeSpan.FromDays(7);

    public static readonly TimeSpan DefaultDispatchInterval = TimeSpan.FromSeconds(1);

    public const int DefaultDispatchBatchSize = 500;
}

/// <summary>
/// The message bus (MassTransit, in memory: one process, nothing to install) and the dispatcher that publishes the
/// store's transactional outbox on it.
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
            .ValidateOnStart();
        builder.Services.AddSingleton<Outbox>();
        builder.Services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            x.SetKebabCaseEndpointNameFormatter();
            // Readiness (/health/ready) takes the checks tagged "ready": the bus is one of them, named as the others are.
            x.ConfigureHealthCheckOptions(h =>
            {
                h.Name = "bus";
                h.Tags.Clear();
                h.Tags.Add("ready");
            });
            x.UsingInMemory((context, bus) => bus.ConfigureEndpoints(context));
        });
        builder.Services.AddHostedService<OutboxDispatcher>();
        return builder;
    }
}
