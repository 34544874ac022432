using Hub.Worker.Identity;
using System.Text.Json.Serialization;
using Hub.Contracts;
using Hub.Core.Model;
using Hub.Core.Store;

namespace Hub.Worker.Api;

/// <summary>Reads of the central status store.</summary>
public static class DossiersApi
{
    private static readonly TimeSpan VietnamOffset = TimeSpan.FromHours(7);

    public static IServiceCollection AddDossiersApi(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(o =>
        {
            // National codes (status, channel, applicant type) stay numbers, as on the wire; derived kinds read as words.
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter<TransitionKind>());
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter<OnTimeOutcome>());
        });

    public static WebApplication MapDossiersApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/dossiers").RequireAuthorization(HubPolicies.Monitor);
        api.MapGet("/{code}", GetByCodeAsync);
        return app;
    }

    private static async Task<IResult> GetByCodeAsync(string code, StatusStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var dossier = await store.GetByCodeAsync(code, cancellationToken);
        return dossier is null
            ? Results.Problem(
                title: "Dossier not found",
                detail: $"No dossier with the national code (MaHoSo) '{code}' is stored in the hub.",
                statusCode: StatusCodes.Status404NotFound)
            : Results.Ok(DossierView.From(dossier, time.GetUtcNow()));
    }

    /// <summary>What the API returns for a dossier; times in Vietnam time (+07:00).</summary>
    internal sealed record DossierView(
        DossierKey Key,
        DossierChange Current,
        DateTimeOffset FirstStoredAt,
        DateTimeOffset UpdatedAt,
        IReadOnlyList<HistoryEntry> History,
        IReadOnlyList<DossierStep> Steps,
        IReadOnlyList<DueDateMove> DueDates,
        OnTimeVerdict OnTime)
    {
        public static DossierView From(StoredDossier d, DateTimeOffset now)
        {
            // Derived on read from the stored history, so a change that arrives late re-classifies its neighbours.
            var transitions = StatusLifecycle.ClassifyHistory(d.History.Select(h => h.Change.Status));
            var onTime = OnTimeRule.Evaluate(new OnTimeInput
            {
                ReceivedAt = d.Current.ReceivedAt,
                StatusHistory = [.. d.History.Select(h => new StatusAt(h.Change.EventTime, h.Change.Status))],
                DueDateHistory = [.. d.DueDates.Select(m => new DueDateAt(m.ChangedAt, m.DueAt))],
                ProcessingFinishedAt = d.Current.ProcessingFinishedAt,
                Now = now,
            });
            return new(
            new DossierKey(d.Current.SourceSystem, d.Current.NativeId),
            Local(d.Current),
            d.FirstStoredAt.ToOffset(VietnamOffset),
            d.UpdatedAt.ToOffset(VietnamOffset),
            [.. d.History.Select((h, i) => new HistoryEntry(Local(h.Change), transitions[i].Kind, h.RecordedAt.ToOffset(VietnamOffset)))],
            [.. d.Steps.Select(s => Local(s.Step))],
            [.. d.DueDates.Select(m => new DueDateMove(m.ChangedAt.ToOffset(VietnamOffset), m.DueAt.ToOffset(VietnamOffset), m.PreviousDueAt?.ToOffset(VietnamOffset)))],
            onTime);
        }

        private static DossierChange Local(DossierChange c) => c with
        {
            EventTime = c.EventTime.ToOffset(VietnamOffset),
            SubmittedAt = c.SubmittedAt?.ToOffset(VietnamOffset),
            ReceivedAt = c.ReceivedAt?.ToOffset(VietnamOffset),
            DueAt = c.DueAt?.ToOffset(VietnamOffset),
            ProcessingFinishedAt = c.ProcessingFinishedAt?.ToOffset(VietnamOffset),
            ResultReturnedAt = c.ResultReturnedAt?.ToOffset(VietnamOffset),
            RefusedAt = c.RefusedAt?.ToOffset(VietnamOffset),
        };

        private static DossierStep Local(DossierStep s) => s with
        {
            StepTime = s.StepTime.ToOffset(VietnamOffset),
            StartedAt = s.StartedAt?.ToOffset(VietnamOffset),
            Deadline = s.Deadline?.ToOffset(VietnamOffset),
        };
    }

    internal sealed record HistoryEntry(DossierChange Change, TransitionKind Transition, DateTimeOffset RecordedAt);
}
