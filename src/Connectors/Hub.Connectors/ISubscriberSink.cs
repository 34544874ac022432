using System.Text.Json;
using Hub.Contracts;

namespace Hub.Connectors;

/// <summary>
/// A kind of subscriber connector: the destination side of the connector contract. A subscription names such a kind,
/// a configuration valid against <see cref="IConnectorKind.ConfigurationSchema"/> and filters; the hub hands the
/// sink every published event that passes the filters, tracks each one's delivery, retries with backoff and
/// dead-letters what fails past the subscription's budget.
/// </summary>
public interface ISubscriberConnectorKind : IConnectorKind
{
    /// <summary>
    /// Whether the subscriber keeps only each dossier's latest state (the national portal overwrites a dossier with
    /// each update): the hub then hands the sink a dossier's status change only when it is later, by the change's own
    /// order, than every change of that dossier it already delivered; older ones are marked delivered as superseded.
    /// When <c>false</c> the sink gets every change, and the subscriber orders them by their event time.
    /// </summary>
    bool LatestStateOnly => false;

    /// <summary>Creates the sink of one subscription. Called for each batch; the sink is disposed after it.</summary>
    /// <exception cref="ConnectorException">The configuration is unusable (with <see cref="FailureSide.Configuration"/>).</exception>
    ISubscriberSink CreateSink(SubscriberContext context);
}

/// <summary>What a sink gets from the hub.</summary>
/// <param name="SubscriptionId">The subscription's id.</param>
/// <param name="Configuration">The subscription's configuration, secrets included (decrypted).</param>
/// <param name="Http">An HTTP client that goes through the subscription's own resilience pipeline.</param>
/// <param name="Logger">A logger for the sink. Never log event contents or secrets.</param>
/// <param name="Time">The hub's clock.</param>
public sealed record SubscriberContext(
    string SubscriptionId,
    JsonElement Configuration,
    HttpClient Http,
    Microsoft.Extensions.Logging.ILogger Logger,
    TimeProvider Time);

/// <summary>Delivers published events to one subscribing system.</summary>
public interface ISubscriberSink : IAsyncDisposable
{
    /// <summary>
    /// Delivers a batch of events of one subscription. Events come oldest first, and a dossier's events keep their
    /// order (a status change before the steps stored after it); the hub never hands the same subscription two batches
    /// at once. A sink may send events in chunks, and must report an outcome for every event it was given, and every
    /// request it made (for the exchange log), whether it succeeded or not.
    /// </summary>
    /// <returns>An outcome per event id, and the exchanges made.</returns>
    Task<DeliveryReport> DeliverAsync(IReadOnlyList<OutboundEvent> events, CancellationToken cancellationToken);
}

/// <summary>One event to deliver.</summary>
/// <param name="EventId">The event's stable id: subscribers use it to ignore repeats.</param>
/// <param name="Message">A <see cref="DossierStatusChanged"/> or a <see cref="DossierStepAdded"/>.</param>
/// <param name="Attempt">Which attempt at this event this is (1 for the first).</param>
public sealed record OutboundEvent(Guid EventId, object Message, int Attempt)
{
    /// <summary>The dossier code the event is about.</summary>
    public string DossierCode => Message switch
    {
        DossierStatusChanged c => c.Change.DossierCode,
        DossierStepAdded s => s.DossierCode,
        _ => throw new InvalidOperationException($"Not a dossier event: {Message.GetType().Name}"),
    };
}

/// <summary>What a batch's delivery did.</summary>
/// <param name="Outcomes">The outcome of each event, by event id; an event left out counts as failed and retryable.</param>
/// <param name="Exchanges">Every request the sink made and the reply it got, in order.</param>
public sealed record DeliveryReport(IReadOnlyDictionary<Guid, DeliveryOutcome> Outcomes, IReadOnlyList<DeliveryExchange> Exchanges);

/// <summary>The outcome of one event's delivery.</summary>
/// <param name="Delivered">Whether the subscriber took it.</param>
/// <param name="Failure">Why not: what was sent where and what came back (never a secret, never personal data).</param>
/// <param name="Retryable">Whether trying again can help (a timeout or a 503 can; a refused record cannot).</param>
public sealed record DeliveryOutcome(bool Delivered, string? Failure, bool Retryable)
{
    /// <summary>The subscriber took the event.</summary>
    public static DeliveryOutcome Ok { get; } = new(true, null, false);

    /// <summary>The subscriber did not take the event.</summary>
    public static DeliveryOutcome Failed(string reason, bool retryable = true) => new(false, reason, retryable);
}

/// <summary>One request a sink made, and the reply, as the exchange log records it.</summary>
/// <param name="Operation">What the request was, for example <c>DongBoHoSoMC</c>, <c>login</c> or <c>webhook</c>.</param>
/// <param name="EventIds">The events it carried.</param>
/// <param name="Dossiers">The dossier codes it carried.</param>
/// <param name="ContentType">The request's media type.</param>
/// <param name="Request">The request body exactly as sent.</param>
/// <param name="RequestWithheld">Why the request's bytes must not be kept (credentials in a login); null to keep them.</param>
/// <param name="StatusCode">The reply's HTTP status; null when no reply came (timeout, connection refused).</param>
/// <param name="Reply">The reply body exactly as received (empty when none).</param>
/// <param name="Accepted">Whether the subscriber accepted what the request carried.</param>
/// <param name="Reason">What went wrong, when it did.</param>
public sealed record DeliveryExchange(
    string Operation,
    IReadOnlyList<Guid> EventIds,
    IReadOnlyList<string> Dossiers,
    string ContentType,
    ReadOnlyMemory<byte> Request,
    string? RequestWithheld,
    int? StatusCode,
    ReadOnlyMemory<byte> Reply,
    bool Accepted,
    string? Reason);
