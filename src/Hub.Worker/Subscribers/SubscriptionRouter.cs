using System.Text.Json;
using Hub.Contracts;
using Hub.Core.Delivery;
using Hub.Core.Store;
using Hub.Core.Sync;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hub.Worker.Subscribers;

/// <summary>
/// Turns published events into deliveries: each event goes to every subscription whose filters it passes (a paused one
/// too, which keeps collecting its events and gets them once it is active again), as
/// a row of <c>delivery</c> unique by subscription and event id, so an event consumed twice (at-least-once bus, a
/// node killed before its acknowledgement) is delivered once.
/// </summary>
public sealed class SubscriptionRouter(
    NpgsqlDataSource dataSource, SubscriptionCatalog catalog, Deliveries deliveries, IOptions<SubscriptionOptions> options, TimeProvider timeProvider)
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private IReadOnlyList<SubscriptionRegistration> _active = [];
    private DateTimeOffset _loadedAt = DateTimeOffset.MinValue;

    /// <summary>The JSON form of events in deliveries and signed webhooks: the contracts' (System.Text.Json web defaults).</summary>
    public static JsonSerializerOptions Json => ConnectorCatalog.Json;

    /// <summary>Routes status changes; returns how many deliveries were added.</summary>
    public async Task<int> RouteAsync(IReadOnlyList<DossierStatusChanged> events, CancellationToken cancellationToken)
    {
        var subscriptions = await SubscriptionsAsync(cancellationToken);
        if (subscriptions.Count == 0)
        {
            return 0;
        }

        var routed = new List<RoutedEvent>();
        foreach (var e in events)
        {
            var c = e.Change;
            var json = JsonSerializer.Serialize(e, Json);
            routed.AddRange(subscriptions
                .Where(s => s.Filter.Matches(c.AgencyCode, c.ProcedureCode, c.ProcedureBaseCode, c.Status))
                .Select(s => new RoutedEvent(s.Id, e.EventId, Outbox.ChangeKind, c.SourceSystem, c.NativeId, c.DossierCode, json)));
        }

        return await deliveries.AddAsync(routed, cancellationToken);
    }

    /// <summary>Routes steps by their dossier's current agency, procedure and status; returns how many deliveries were added.</summary>
    public async Task<int> RouteAsync(IReadOnlyList<DossierStepAdded> events, CancellationToken cancellationToken)
    {
        var subscriptions = await SubscriptionsAsync(cancellationToken);
        if (subscriptions.Count == 0)
        {
            return 0;
        }

        var dossiers = await DossiersAsync(events.Select(e => (e.Step.SourceSystem, e.Step.NativeId)).Distinct().ToList(), cancellationToken);
        var routed = new List<RoutedEvent>();
        foreach (var e in events)
        {
            var s = e.Step;
            // A step is published only once its dossier is stored; a dossier gone since (never, today) gets nothing.
            if (!dossiers.TryGetValue((s.SourceSystem, s.NativeId), out var d))
            {
                continue;
            }

            var json = JsonSerializer.Serialize(e, Json);
            routed.AddRange(subscriptions
                .Where(sub => sub.Filter.Matches(d.Agency, d.Procedure, d.ProcedureBase, d.Status))
                .Select(sub => new RoutedEvent(sub.Id, e.EventId, Outbox.StepKind, s.SourceSystem, s.NativeId, e.DossierCode, json)));
        }

        return await deliveries.AddAsync(routed, cancellationToken);
    }

    /// <summary>Forgets the cached subscriptions, so the next event sees a change at once (this node's changes).</summary>
    public void Invalidate() => _loadedAt = DateTimeOffset.MinValue;

    private async Task<IReadOnlyList<SubscriptionRegistration>> SubscriptionsAsync(CancellationToken cancellationToken)
    {
        if (timeProvider.GetUtcNow() - _loadedAt < options.Value.RefreshInterval)
        {
            return _active;
        }

        await _refresh.WaitAsync(cancellationToken);
        try
        {
            var now = timeProvider.GetUtcNow();
            if (now - _loadedAt >= options.Value.RefreshInterval)
            {
                _active = [.. (await catalog.ListAsync(cancellationToken)).Select(s => s.Registration)];
                _loadedAt = now;
            }

            return _active;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private sealed record DossierFacts(string? Agency, string? Procedure, string? ProcedureBase, NationalStatus Status);

    private async Task<Dictionary<(string, string), DossierFacts>> DossiersAsync(
        IReadOnlyList<(string SourceSystem, string NativeId)> keys, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select d.source_system, d.native_id, d.agency_code, d.procedure_code, d.procedure_base_code, d.status
            from dossier d join unnest($1::text[], $2::text[]) as k(source_system, native_id)
              on d.source_system = k.source_system and d.native_id = k.native_id
            """);
        command.Parameters.Add(new() { Value = keys.Select(k => k.SourceSystem).ToArray() });
        command.Parameters.Add(new() { Value = keys.Select(k => k.NativeId).ToArray() });
        var facts = new Dictionary<(string, string), DossierFacts>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            facts[(reader.GetString(0), reader.GetString(1))] = new DossierFacts(
                reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), (NationalStatus)reader.GetInt16(5));
        }

        return facts;
    }
}

/// <summary>Routes published status changes to subscriptions, in batches (one database write per batch).</summary>
public sealed class StatusChangedRouting(SubscriptionRouter router) : IConsumer<Batch<DossierStatusChanged>>
{
    /// <inheritdoc/>
    public Task Consume(ConsumeContext<Batch<DossierStatusChanged>> context) =>
        router.RouteAsync([.. context.Message.Select(m => m.Message)], context.CancellationToken);
}

/// <summary>Routes published steps to subscriptions, in batches.</summary>
public sealed class StepAddedRouting(SubscriptionRouter router) : IConsumer<Batch<DossierStepAdded>>
{
    /// <inheritdoc/>
    public Task Consume(ConsumeContext<Batch<DossierStepAdded>> context) =>
        router.RouteAsync([.. context.Message.Select(m => m.Message)], context.CancellationToken);
}
