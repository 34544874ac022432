using System.Text.Json.Serialization;
using Hub.Connectors;
using Hub.Core.Sync;
using Hub.Worker.Sync;

namespace Hub.Worker.Api;

/// <summary>
/// What central operators need to watch and act on connectors: their state, their runs, "sync now", quarantined
/// records and their re-processing. Never returns configurations (they hold secrets) nor record payloads (personal data).
/// </summary>
public static class ConnectorsApi
{
    public static IServiceCollection AddConnectorsApi(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter<SyncTrigger>(System.Text.Json.JsonNamingPolicy.CamelCase));
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter<RunOutcome>(System.Text.Json.JsonNamingPolicy.CamelCase));
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter<FailureSide>(System.Text.Json.JsonNamingPolicy.CamelCase));
        });

    public static WebApplication MapConnectorsApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/connectors");
        api.MapGet("/", ListAsync);
        api.MapGet("/{id}/runs", RunsAsync);
        api.MapPost("/{id}/sync", (string id, ConnectorCatalog catalog, SyncScheduler scheduler, CancellationToken ct) =>
            EnqueueAsync(id, SyncTrigger.Manual, catalog, scheduler, ct));
        api.MapGet("/{id}/quarantine", QuarantineAsync);
        api.MapPost("/{id}/quarantine/reprocess", (string id, ConnectorCatalog catalog, SyncScheduler scheduler, CancellationToken ct) =>
            EnqueueAsync(id, SyncTrigger.Reprocess, catalog, scheduler, ct));
        return app;
    }

    private static async Task<IResult> ListAsync(ConnectorCatalog catalog, SyncLedger ledger, CancellationToken cancellationToken)
    {
        var list = new List<ConnectorView>();
        foreach (var state in await catalog.ListAsync(cancellationToken))
        {
            var r = state.Registration;
            var last = (await ledger.ListRunsAsync(r.Id, 1, cancellationToken)).FirstOrDefault();
            list.Add(new ConnectorView(r.Id, r.Kind, r.SourceSystem, r.DisplayName, r.Schedule, r.TimeZone, r.Active, r.Mapping.Version, state.Cursor, state.CursorMovedAt, last));
        }

        return Results.Ok(list);
    }

    private static async Task<IResult> RunsAsync(string id, int? limit, ConnectorCatalog catalog, SyncLedger ledger, CancellationToken cancellationToken) =>
        await catalog.GetAsync(id, cancellationToken) is null
            ? NotFound(id)
            : Results.Ok(await ledger.ListRunsAsync(id, Math.Clamp(limit ?? 50, 1, 500), cancellationToken));

    private static async Task<IResult> QuarantineAsync(string id, bool? open, long? after, int? limit, ConnectorCatalog catalog, SyncLedger ledger, CancellationToken cancellationToken)
    {
        if (await catalog.GetAsync(id, cancellationToken) is null)
        {
            return NotFound(id);
        }

        var records = await ledger.ListQuarantineAsync(id, open ?? true, after ?? 0, Math.Clamp(limit ?? 100, 1, 1000), cancellationToken);
        return Results.Ok(records.Select(q => new QuarantineView(q.Id, q.Kind, q.Reason, q.MappingVersion, q.FirstSeenAt, q.LastSeenAt, q.TimesSeen, q.ResolvedAt, q.ResolvedRunId)));
    }

    private static async Task<IResult> EnqueueAsync(string id, SyncTrigger trigger, ConnectorCatalog catalog, SyncScheduler scheduler, CancellationToken cancellationToken)
    {
        if (await catalog.GetAsync(id, cancellationToken) is null)
        {
            return NotFound(id);
        }

        if (scheduler.Storage is null)
        {
            return Results.Problem(
                title: "Scheduler off",
                detail: "This hub process does not run syncs (Hub:Scheduler:Enabled is false); ask a process that does.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return Results.Accepted(value: new { connectorId = id, trigger, jobId = scheduler.EnqueueSync(id, trigger) });
    }

    private static IResult NotFound(string id) => Results.Problem(
        title: "Connector not found", detail: $"No connector is registered with id '{id}'.", statusCode: StatusCodes.Status404NotFound);

    internal sealed record ConnectorView(
        string Id,
        string Kind,
        string SourceSystem,
        string DisplayName,
        string? Schedule,
        string TimeZone,
        bool Active,
        string MappingVersion,
        string? Cursor,
        DateTimeOffset? CursorMovedAt,
        SyncRunRecord? LastRun);

    internal sealed record QuarantineView(
        long Id, string Kind, string Reason, string MappingVersion, DateTimeOffset FirstSeenAt, DateTimeOffset LastSeenAt, int TimesSeen, DateTimeOffset? ResolvedAt, long? ResolvedRunId);
}
