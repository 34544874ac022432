using System.Text.Json;
using Hub.Connectors;
using Hub.Connectors.BuiltIn.Webhook;
using Hub.Core.Delivery;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Subscribers;

/// <summary>Settings of subscriptions and their delivery (<c>Hub:Subscriptions</c>).</summary>
public sealed class SubscriptionOptions
{
    public const string Section = "Hub:Subscriptions";

    /// <summary>A folder of <c>*.json</c> subscription registrations read at start-up; relative to the current folder. Empty: none.</summary>
    public string? Directory { get; set; }

    /// <summary>Whether this node delivers (any number of nodes may; each subscription is delivered by one at a time).</summary>
    public bool Deliver { get; set; } = true;

    /// <summary>How often a node looks for due deliveries.</summary>
    public TimeSpan DeliveryInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long a node holds a subscription after its last batch: another node takes it over after this when the
    /// node dies. Longer than <see cref="BatchTimeout"/>.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a sink may take over one batch before its events count as failed (retryable).</summary>
    public TimeSpan BatchTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a node routes events with the subscriptions it read last (another node's change is seen after this).</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long delivered deliveries are kept before they are deleted; waiting and dead ones are kept.</summary>
    public TimeSpan KeepDelivered { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>Subscriptions: routing of published events, delivery through subscriber kinds, registration files and the API's services.</summary>
public static class SubscriberExtensions
{
    /// <summary>Registers the subscription services and the delivery worker.</summary>
    public static IHostApplicationBuilder AddHubSubscribers(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SubscriptionOptions>()
            .Bind(builder.Configuration.GetSection(SubscriptionOptions.Section))
            .Validate(o => o.DeliveryInterval >= TimeSpan.FromMilliseconds(50) && o.DeliveryInterval <= TimeSpan.FromMinutes(1),
                "Hub:Subscriptions:DeliveryInterval must be between 50 milliseconds and one minute.")
            .Validate(o => o.BatchTimeout >= TimeSpan.FromSeconds(1) && o.BatchTimeout < o.Lease,
                "Hub:Subscriptions:BatchTimeout must be at least one second and shorter than Hub:Subscriptions:Lease.")
            .Validate(o => o.Lease <= TimeSpan.FromHours(1), "Hub:Subscriptions:Lease must be at most one hour.")
            .Validate(o => o.RefreshInterval >= TimeSpan.Zero && o.RefreshInterval <= TimeSpan.FromMinutes(5),
                "Hub:Subscriptions:RefreshInterval must be between zero and five minutes.")
            .Validate(o => o.KeepDelivered >= TimeSpan.Zero, "Hub:Subscriptions:KeepDelivered must not be negative.")
            .ValidateOnStart();
        builder.Services.AddSingleton<IConnectorKind, SignedWebhookSubscriberKind>();
        builder.Services.AddSingleton<IConnectorKind, Hub.Connectors.BuiltIn.NationalPortal.Client.NationalPortalClientKind>();
        builder.Services.AddSingleton<SubscriptionCatalog>();
        builder.Services.AddSingleton<Deliveries>();
        builder.Services.AddSingleton<SubscriptionRouter>();
        builder.Services.AddSingleton<SubscriptionValidation>();
        builder.Services.AddHostedService<SubscriptionFiles>();
        builder.Services.AddHostedService<DeliveryWorker>();
        return builder;
    }

    /// <summary>
    /// The bus consumers that route published events to subscriptions, each on a durable queue of its own that every
    /// node consumes from (RabbitMQ: declared and bound when the bus starts, so no event is published before a queue
    /// holds it). Batches of up to 100 events make one database write.
    /// </summary>
    public static void AddSubscriptionRouting(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<StatusChangedRouting>(c =>
        {
            c.UseMessageRetry(Retry);
            c.Options<BatchOptions>(Batches);
        }).Endpoint(e => e.Name = "hub-route-status-changes");
        bus.AddConsumer<StepAddedRouting>(c =>
        {
            c.UseMessageRetry(Retry);
            c.Options<BatchOptions>(Batches);
        }).Endpoint(e => e.Name = "hub-route-steps");
    }

    private static void Batches(BatchOptions options) =>
        options.SetMessageLimit(100).SetTimeLimit(TimeSpan.FromMilliseconds(50)).SetConcurrencyLimit(2);

    /// <summary>
    /// A batch that cannot be routed (the database unreachable, a deadlock between two nodes routing the same redelivered
    /// events) is retried in place, backing off to 30 seconds, for hours: giving up would move the events to the error
    /// queue, out of every subscriber's reach. Routing is idempotent, so a retry adds nothing twice.
    /// </summary>
    private static void Retry(IRetryConfigurator retry)
    {
        retry.Exponential(1000, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
    }
}

/// <summary>
/// Registers the subscriptions described by JSON files at start-up (<c>Hub:Subscriptions:Directory</c>). A file that
/// cannot be read or is invalid stops the start with its name and every problem.
/// </summary>
public sealed partial class SubscriptionFiles(IOptions<SubscriptionOptions> options, IServiceProvider services, ILogger<SubscriptionFiles> logger) : IHostedService
{
    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var folder = options.Value.Directory;
        if (string.IsNullOrWhiteSpace(folder))
        {
            return;
        }

        if (!System.IO.Directory.Exists(folder))
        {
            throw new InvalidOperationException($"The subscriptions folder '{Path.GetFullPath(folder)}' (Hub:Subscriptions:Directory) does not exist.");
        }

        var validation = services.GetRequiredService<SubscriptionValidation>();
        var catalog = services.GetRequiredService<SubscriptionCatalog>();
        foreach (var file in System.IO.Directory.EnumerateFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            JsonElement body;
            try
            {
                using var document = JsonDocument.Parse(File.ReadAllText(file));
                body = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new InvalidOperationException($"The subscription file '{file}' is not JSON: {e.Message}", e);
            }

            var errors = validation.Validate(body, out var registration);
            if (registration is null)
            {
                throw new InvalidOperationException($"The subscription file '{file}' is invalid:{Environment.NewLine}"
                    + string.Join(Environment.NewLine, errors.Select(e => $"- {e.Field}: {e.Problem} (expected {e.Expected})")));
            }

            var saved = await catalog.SaveAsync(registration, "file:" + Path.GetFullPath(file), null, cancellationToken);
            LogRegistered(logger, registration.Id, registration.Kind, Path.GetFileName(file), saved.ToString().ToLowerInvariant());
        }

        services.GetRequiredService<SubscriptionRouter>().Invalidate();
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscription {SubscriptionId} ({Kind}) from {File}: {Action}")]
    private static partial void LogRegistered(ILogger logger, string subscriptionId, string kind, string file, string action);
}
