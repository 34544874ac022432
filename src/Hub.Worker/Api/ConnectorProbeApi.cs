using System.Text.Json;
using Hub.Connectors;
using Hub.Contracts;
using Hub.Core.Sync;
using Hub.Worker.Identity;
using Hub.Worker.Sync;

namespace Hub.Worker.Api;

/// <summary>
/// "Test connection" and "preview" of a pull connector before it syncs, registered (any state, drafts included) or
/// given in the body: calls the live source within <c>Hub:Probe:Timeout</c> and stores nothing
/// (<see cref="ConnectorProbe"/>). A failed check or a source failure during a preview is a 200 result saying at which
/// stage and why, not an API error. Never returns the configuration (secrets) and logs only counts.
/// </summary>
public static class ConnectorProbeApi
{
    public static WebApplication MapConnectorProbeApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/connectors").RequireAuthorization(HubPolicies.Connectors);
        api.MapPost("/{id}/check", CheckRegisteredAsync)
            .WithSummary("Test connection of a registered pull connector: reach the source, authenticate, read one page; stores nothing.")
            .Produces<CheckView>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/{id}/preview", PreviewRegisteredAsync)
            .WithSummary("Maps a sample of a registered pull connector's live records from the beginning (limit 1-50, default 10): canonical records and every mapping problem; stores nothing.")
            .Produces<PreviewView>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/check", CheckBodyAsync)
            .WithSummary("Test connection of a pull connector registration given in the body (not registered): validated first; stores nothing.")
            .Produces<CheckView>()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        api.MapPost("/preview", PreviewBodyAsync)
            .WithSummary("Maps a sample of the live records of a pull connector registration given in the body (not registered); stores nothing.")
            .Produces<PreviewView>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return app;
    }

    private static async Task<IResult> CheckRegisteredAsync(
        string id, HttpContext http, ConnectorCatalog catalog, ConnectorProbe probe, CancellationToken cancellationToken)
    {
        var (state, denied) = await ConnectorAccess.FindAsync(http, id, catalog, cancellationToken);
        if (denied is not null)
        {
            return denied;
        }

        var connector = state!.Registration;
        if (!probe.CanProbe(connector))
        {
            return NotPull(connector, StatusCodes.Status409Conflict);
        }

        using var claim = probe.TryBegin(connector.Id);
        return claim is null ? Busy(connector.Id) : Results.Ok(CheckView.Of(connector.Id, await probe.CheckAsync(connector, cancellationToken)));
    }

    private static async Task<IResult> PreviewRegisteredAsync(
        string id, int? limit, HttpContext http, ConnectorCatalog catalog, ConnectorProbe probe, CancellationToken cancellationToken)
    {
        if (BadLimit(limit, probe) is { } bad)
        {
            return bad;
        }

        var (state, denied) = await ConnectorAccess.FindAsync(http, id, catalog, cancellationToken);
        if (denied is not null)
        {
            return denied;
        }

        var connector = state!.Registration;
        if (!probe.CanProbe(connector))
        {
            return NotPull(connector, StatusCodes.Status409Conflict);
        }

        using var claim = probe.TryBegin(connector.Id);
        return claim is null
            ? Busy(connector.Id)
            : Results.Ok(PreviewView.Of(await probe.PreviewAsync(connector, limit ?? probe.Options.DefaultRecords, cancellationToken)));
    }

    private static async Task<IResult> CheckBodyAsync(
        JsonElement registration, HttpContext http, ConnectorValidation validation, ConnectorProbe probe, CancellationToken cancellationToken)
    {
        var (connector, refused) = Accept(registration, http, validation, probe);
        if (refused is not null)
        {
            return refused;
        }

        using var claim = probe.TryBegin(connector!.Id);
        return claim is null ? Busy(connector.Id) : Results.Ok(CheckView.Of(connector.Id, await probe.CheckAsync(connector, cancellationToken)));
    }

    private static async Task<IResult> PreviewBodyAsync(
        JsonElement registration, int? limit, HttpContext http, ConnectorValidation validation, ConnectorProbe probe, CancellationToken cancellationToken)
    {
        if (BadLimit(limit, probe) is { } bad)
        {
            return bad;
        }

        var (connector, refused) = Accept(registration, http, validation, probe);
        if (refused is not null)
        {
            return refused;
        }

        using var claim = probe.TryBegin(connector!.Id);
        return claim is null
            ? Busy(connector.Id)
            : Results.Ok(PreviewView.Of(await probe.PreviewAsync(connector, limit ?? probe.Options.DefaultRecords, cancellationToken)));
    }

    /// <summary>A registration in the body: valid (as <c>POST /api/connectors/validate</c> says), of an agency the caller maintains, and pulling.</summary>
    private static (ConnectorRegistration? Connector, IResult? Refused) Accept(
        JsonElement body, HttpContext http, ConnectorValidation validation, ConnectorProbe probe)
    {
        var errors = validation.Validate(body, out var registration);
        if (errors.Count > 0)
        {
            return (null, ConnectorRegistrationApi.Invalid(errors));
        }

        if (!ConnectorAccess.MayOwn(http, registration!.Agency))
        {
            return (null, Results.Problem(
                title: "Not your agency",
                detail: registration.Agency is null
                    ? "The registration names no agency: only operators maintain central connectors."
                    : $"You do not maintain agency '{registration.Agency}', which the registration names.",
                statusCode: StatusCodes.Status403Forbidden));
        }

        return probe.CanProbe(registration) ? (registration, null) : (null, NotPull(registration, StatusCodes.Status422UnprocessableEntity));
    }

    private static IResult? BadLimit(int? limit, ConnectorProbe probe) =>
        limit is { } n && (n < 1 || n > probe.Options.MaxRecords)
            ? Results.Problem(
                title: "Bad limit",
                detail: $"limit must be between 1 and {probe.Options.MaxRecords} records (default {probe.Options.DefaultRecords}); it was {n}.",
                statusCode: StatusCodes.Status400BadRequest)
            : null;

    private static IResult Busy(string id) => Results.Problem(
        title: "Probe in progress",
        detail: $"A check or preview of connector '{id}' is running already; one at a time per connector spares its source. Try again when it has answered.",
        statusCode: StatusCodes.Status409Conflict);

    private static IResult NotPull(ConnectorRegistration connector, int status) => Results.Problem(
        title: "Not a pull connector",
        detail: $"Connector '{connector.Id}' is of kind '{connector.Kind}', which receives pushed messages: check and preview are for pull connectors, which call their source.",
        statusCode: status);

    private static string StageName(CheckStage stage) => JsonNamingPolicy.CamelCase.ConvertName(stage.ToString());

    /// <summary>The answer of a check.</summary>
    /// <param name="ConnectorId">The connector checked.</param>
    /// <param name="Succeeded">Whether the source was reached, accepted the credentials and returned a page.</param>
    /// <param name="Stage">The stage reached: <c>configuration</c>, <c>reach</c>, <c>authenticate</c> or <c>read</c> (where it failed, or <c>read</c> on success).</param>
    /// <param name="Message">What happened, in words an IT team can act on.</param>
    /// <param name="RecordsRead">Records in the page read, on success.</param>
    /// <param name="ElapsedMs">How long the check took, in milliseconds.</param>
    internal sealed record CheckView(string ConnectorId, bool Succeeded, string Stage, string Message, int RecordsRead, long ElapsedMs)
    {
        public static CheckView Of(string connectorId, ProbeCheck check) => new(
            connectorId, check.Result.Succeeded, StageName(check.Result.Stage), check.Result.Message, check.Result.RecordsRead, (long)check.Elapsed.TotalMilliseconds);
    }

    /// <summary>The answer of a preview.</summary>
    /// <param name="ConnectorId">The connector previewed.</param>
    /// <param name="MappingVersion">The version of the mapping the sample was mapped with.</param>
    /// <param name="RecordsRead">Records in the sample (mapped or not).</param>
    /// <param name="PagesRead">Pages read from the source.</param>
    /// <param name="Complete">Whether the sample holds everything the source has now.</param>
    /// <param name="Records">The sample's records the mapping turned into canonical records.</param>
    /// <param name="Problems">Why the other records cannot be mapped: the reasons the quarantine would give, with field and path.</param>
    /// <param name="Failure">Why reading stopped early (a timeout, the source failing); <c>null</c> when it did not.</param>
    /// <param name="ElapsedMs">How long the preview took, in milliseconds.</param>
    internal sealed record PreviewView(
        string ConnectorId,
        string MappingVersion,
        int RecordsRead,
        int PagesRead,
        bool Complete,
        IReadOnlyList<PreviewRecordView> Records,
        IReadOnlyList<PreviewProblemView> Problems,
        FailureView? Failure,
        long ElapsedMs)
    {
        public static PreviewView Of(ProbePreview preview) => new(
            preview.ConnectorId,
            preview.MappingVersion,
            preview.RecordsRead,
            preview.PagesRead,
            preview.Complete,
            [.. preview.Records.Select(r => new PreviewRecordView(r.Index, r.SourceRecordId, r.Change, r.Steps))],
            [.. preview.Problems.Select(p => new PreviewProblemView(p.Index, p.Field, p.Path, p.Problem))],
            preview.Failure is { } f ? new FailureView(StageName(f.Stage), f.Message) : null,
            (long)preview.Elapsed.TotalMilliseconds);
    }

    /// <summary>A mapped record of the sample: its position, the source's id, the dossier change and the steps it gives.</summary>
    internal sealed record PreviewRecordView(int Index, string? SourceRecordId, DossierChange? Change, IReadOnlyList<DossierStep> Steps);

    /// <summary>One reason the record at <c>index</c> cannot be mapped; <c>field</c> and <c>path</c> are null for the whole record.</summary>
    internal sealed record PreviewProblemView(int Index, string? Field, string? Path, string Problem);

    /// <summary>Where a preview stopped early and why.</summary>
    internal sealed record FailureView(string Stage, string Message);
}
