using Hub.Worker.Identity;
using System.Text.Json;
using System.Text.Json.Serialization;
using Hub.Connectors;
using Hub.Core.Audit;
using Hub.Core.Sync;
using Hub.Worker.Sync;

namespace Hub.Worker.Api;

/// <summary>
/// What operators and province-admins need to watch and act on connectors: their state, their runs, "sync now",
/// quarantined records and their re-processing. Operators reach every connector, a province-admin those of its agencies
/// (<see cref="ConnectorAccess"/>; any other is answered 404). Never returns configurations (they hold secrets) nor
/// record payloads (personal data).
/// "Sync now" and re-processing requests are administrative entries of the exchange log (<c>sync.requested</c>,
/// <c>quarantine.reprocess-requested</c>) with the caller (<see cref="Actors"/>), the <c>reason</c> and the job id; the
/// re-processing itself logs <c>quarantine.reprocessed</c> in the transaction of what it stores.
/// </summary>
public static partial class ConnectorsApi
{
    public static IServiceCollection AddConnectorsApi(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter<SyncTrigger>(System.Text.Json.JsonNamingPolicy.CamelCase));
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter<RunOutcome>(System.Text.Json.JsonNamingPolicy.CamelCase));
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter<FailureSide>(System.Text.Json.JsonNamingPolicy.CamelCase));
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter<ConnectorLifecycle>(System.Text.Json.JsonNamingPolicy.CamelCase));
        });

    public static WebApplication MapConnectorsApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/connectors").RequireAuthorization(HubPolicies.Connectors);
        api.MapGet("/", ListAsync).WithSummary("The connectors the caller maintains, with their lifecycle, cursor and last run.");
        api.MapGet("/{id}/runs", RunsAsync);
        api.MapPost("/{id}/sync", (string id, HttpContext http, ConnectorCatalog catalog, SyncScheduler scheduler, ExchangeLog log, TimeProvider time, CancellationToken ct) =>
            EnqueueAsync(id, SyncTrigger.Manual, http, catalog, scheduler, log, time, ct));
        api.MapGet("/{id}/quarantine", QuarantineAsync);
        api.MapPost("/{id}/backfill", BackfillAsync)
            .WithSummary("Back-fill a past range [from, to) of a pull connector's source (dates or date-times; at most 366 days): with dryRun=true, count the source's records in it and store nothing; otherwise queue the back-fill, which stores them without moving the connector's cursor.")
            .Produces<BackfillCountView>()
            .Produces<BackfillQueuedView>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapPost("/{id}/runs/{runId:long}/retry", RetryAsync)
            .WithSummary("Retry a failed, abandoned or skipped run: a sync from the current cursor, a back-fill from where it stopped, or a re-processing; refused (409) once a later run of the same work succeeded.")
            .Produces<RetryQueuedView>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapPost("/{id}/quarantine/reprocess", (string id, HttpContext http, ConnectorCatalog catalog, SyncScheduler scheduler, ExchangeLog log, TimeProvider time, CancellationToken ct) =>
            EnqueueAsync(id, SyncTrigger.Reprocess, http, catalog, scheduler, log, time, ct));
        return app;
    }

    private static async Task<IResult> ListAsync(HttpContext http, ConnectorCatalog catalog, SyncLedger ledger, CancellationToken cancellationToken)
    {
        var list = new List<ConnectorView>();
        foreach (var state in await catalog.ListAsync(cancellationToken))
        {
            if (ConnectorAccess.MayReach(http, state.Registration))
            {
                list.Add(await ViewAsync(state, ledger, cancellationToken));
            }
        }

        return Results.Ok(list);
    }

    /// <summary>A connector as the API shows it: never its configuration.</summary>
    public static async Task<ConnectorView> ViewAsync(ConnectorState state, SyncLedger ledger, CancellationToken cancellationToken)
    {
        var r = state.Registration;
        var last = (await ledger.ListRunsAsync(r.Id, 1, cancellationToken)).FirstOrDefault();
        return new ConnectorView(
            r.Id, r.Kind, r.SourceSystem, r.DisplayName, r.Agency, state.Lifecycle, state.LifecycleReason, state.LifecycleChangedAt, state.LifecycleChangedBy,
            r.Schedule, r.TimeZone, r.Active, r.Mapping.Version, state.Cursor, state.CursorMovedAt, last);
    }

    private static async Task<IResult> RunsAsync(string id, int? limit, HttpContext http, ConnectorCatalog catalog, SyncLedger ledger, CancellationToken cancellationToken) =>
        (await ConnectorAccess.FindAsync(http, id, catalog, cancellationToken)).Denied
            ?? Results.Ok(await ledger.ListRunsAsync(id, Math.Clamp(limit ?? 50, 1, 500), cancellationToken));

    private static async Task<IResult> QuarantineAsync(
        string id, bool? open, long? after, int? limit, HttpContext http, ConnectorCatalog catalog, SyncLedger ledger, CancellationToken cancellationToken)
    {
        if ((await ConnectorAccess.FindAsync(http, id, catalog, cancellationToken)).Denied is { } denied)
        {
            return denied;
        }

        var records = await ledger.ListQuarantineAsync(id, open ?? true, after ?? 0, Math.Clamp(limit ?? 100, 1, 1000), cancellationToken);
        return Results.Ok(records.Select(q => new QuarantineView(q.Id, q.Kind, q.Reason, q.MappingVersion, q.FirstSeenAt, q.LastSeenAt, q.TimesSeen, q.ResolvedAt, q.ResolvedRunId)));
    }

    /// <summary>
    /// Who acts and why (from the request), and the connector they act on when they may reach it; otherwise the answer
    /// that refuses them (400 for a bad actor or reason, 404 for a connector they do not maintain).
    /// </summary>
    private static async Task<(ConnectorState State, string Actor, string? Reason, IResult? Refused)> CallerAndConnectorAsync(
        string id, HttpContext http, ConnectorCatalog catalog, CancellationToken cancellationToken)
    {
        var (actor, reason, actorProblem) = Actors.Of(http);
        if (actorProblem is not null)
        {
            return (null!, actor, reason, Results.Problem(title: "Bad actor or reason", detail: actorProblem, statusCode: StatusCodes.Status400BadRequest));
        }

        var (state, denied) = await ConnectorAccess.FindAsync(http, id, catalog, cancellationToken);
        return denied is not null || state is null ? (null!, actor, reason, denied ?? ConnectorAccess.NotFound(id)) : (state, actor, reason, null);
    }

    private static async Task<IResult> EnqueueAsync(
        string id, SyncTrigger trigger, HttpContext http, ConnectorCatalog catalog, SyncScheduler scheduler, ExchangeLog log, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (state, actor, reason, refusedCaller) = await CallerAndConnectorAsync(id, http, catalog, cancellationToken);
        if (refusedCaller is not null)
        {
            return refusedCaller;
        }

        var (jobId, entry, refused) = await QueueAsync(state, trigger, actor, reason, scheduler, log, time, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        http.Response.Headers[ExchangeEntryHeader] = entry.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Accepted(value: new { connectorId = id, trigger, jobId });
    }

    /// <summary>
    /// Queues a sync or a re-processing of the quarantine of a connector the caller may reach, and logs the request
    /// (<c>sync.requested</c>, <c>quarantine.reprocess-requested</c>); or the problem that prevents it.
    /// </summary>
    internal static async Task<(string? JobId, long Entry, IResult? Refused)> QueueAsync(
        ConnectorState state, SyncTrigger trigger, string actor, string? reason, SyncScheduler scheduler, ExchangeLog log, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var id = state.Registration.Id;

        // Only an active connector syncs; re-processing maps what an active or paused one quarantined.
        if (trigger == SyncTrigger.Reprocess
                ? state.Lifecycle is not (ConnectorLifecycle.Active or ConnectorLifecycle.Paused)
                : state.Lifecycle != ConnectorLifecycle.Active)
        {
            return (null, 0, Results.Problem(
                title: "Connector not active",
                detail: $"Connector '{id}' is {ConnectorCatalog.Name(state.Lifecycle)}: "
                    + (trigger == SyncTrigger.Reprocess
                        ? "only an active or paused connector's quarantine is re-processed."
                        : "only an active connector syncs (a draft is checked and previewed instead)."),
                statusCode: StatusCodes.Status409Conflict));
        }

        if (scheduler.Storage is null)
        {
            return (null, 0, Results.Problem(
                title: "Scheduler off",
                detail: "This hub process does not run syncs (Hub:Scheduler:Enabled is false); ask a process that does.",
                statusCode: StatusCodes.Status503ServiceUnavailable));
        }

        // Logged once queued, with the job's id: the queue is Hangfire's, outside the hub's transactions.
        var jobId = scheduler.EnqueueSync(id, trigger);
        var entry = await log.AppendAsync(new ExchangeRecord
        {
            Kind = ExchangeRecord.AdminKind,
            ConnectorId = id,
            Transport = "api",
            ReceivedAt = time.GetUtcNow(),
            Outcome = "done",
            Reason = reason,
            MappingVersion = state.Registration.Mapping.Version,
            Actor = actor,
            Action = trigger == SyncTrigger.Reprocess ? "quarantine.reprocess-requested" : "sync.requested",
            Detail = JsonSerializer.Serialize(new { jobId }),
        }, cancellationToken);
        return (jobId, entry, null);
    }

    /// <summary>The response header naming the exchange-log entry of the request.</summary>
    public const string ExchangeEntryHeader = "X-Hub-Exchange-Entry";

    public sealed record ConnectorView(
        string Id,
        string Kind,
        string SourceSystem,
        string DisplayName,
        string? Agency,
        ConnectorLifecycle Lifecycle,
        string? LifecycleReason,
        DateTimeOffset? LifecycleChangedAt,
        string? LifecycleChangedBy,
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
