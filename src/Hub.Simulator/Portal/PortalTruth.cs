using System.Globalization;
using Hub.Contracts;
using Hub.Simulator.Generation;

namespace Hub.Simulator.Portal;

/// <summary>
/// A province's truth as the national portal protocol can carry it, which is what the hub must hold after a
/// <see cref="PortalSyncClient"/> pushed the province through the hub's portal adapter with the built-in
/// <c>national-portal/1</c> mapping.
/// </summary>
/// <remarks>
/// The protocol knows a dossier only by its code, has no version, sends national status codes, and carries dates in
/// whole seconds; the event time is the row's <c>NgayCapNhat</c>. So, against <see cref="SimulatedProvince.Truth"/>:
/// <c>NativeId</c> = <c>DossierCode</c> = <c>MaHoSo</c>, <c>SourceVersion</c> null, <c>SourceStatus</c> = the national code
/// as text, <c>EventTime</c> and every date truncated to whole seconds, <c>MappingVersion</c> = <see cref="MappingVersion"/>.
/// Steps: <c>NativeId</c> = <c>MaHoSo</c>, the rest as in the province's truth (already whole seconds).
/// </remarks>
public static class PortalTruth
{
    /// <summary>The version of the hub's built-in mapping of the protocol (<c>NationalPortalMapping.Version</c>).</summary>
    public const string MappingVersion = "national-portal/1";

    /// <summary>The truth of <paramref name="province"/> as the portal protocol carries it.</summary>
    /// <param name="province">The province.</param>
    /// <param name="sourceSystem">The hub's id of the source system the connector reports; the province's own when null.</param>
    /// <exception cref="InvalidOperationException">
    /// Two revisions of one dossier fall in the same second: the protocol cannot order them. Generate the province with
    /// <see cref="ProvinceOptions.WholeSecondTimes"/>.
    /// </exception>
    public static SimulatedTruth Of(SimulatedProvince province, string? sourceSystem = null)
    {
        ArgumentNullException.ThrowIfNull(province);
        var system = sourceSystem ?? province.SourceSystem;
        var changes = new List<DossierChange>(province.Revisions.Length);
        var steps = new List<DossierStep>();
        var lastSecond = new Dictionary<SimDossier, DateTimeOffset>();
        foreach (var revision in province.Revisions)
        {
            var dossier = revision.Dossier;
            var eventTime = Seconds(revision.UpdatedAt);
            if (lastSecond.TryGetValue(dossier, out var previous) && previous == eventTime)
            {
                throw new InvalidOperationException(
                    $"Two revisions of dossier {dossier.Code} fall in the second {eventTime:O}: the portal protocol cannot order them. Set ProvinceOptions.WholeSecondTimes.");
            }

            lastSecond[dossier] = eventTime;
            changes.Add(new DossierChange
            {
                SourceSystem = system,
                NativeId = dossier.Code,
                DossierCode = dossier.Code,
                EventTime = eventTime,
                SourceVersion = null,
                ProcedureCode = dossier.Procedure.CodeFor(province.Options.AgencyPrefix),
                ProcedureBaseCode = dossier.Procedure.BaseCode,
                ProcedureName = dossier.Procedure.Name,
                SectorCode = dossier.Procedure.SectorCode,
                AgencyCode = dossier.Agency.Code,
                HandlingUnit = dossier.Agency.Name,
                ApplicantType = dossier.ApplicantType,
                Channel = dossier.ApplyMethod.Channel,
                PaidOnline = dossier.PaidOnline,
                SubmittedAt = Seconds(revision.Applied),
                ReceivedAt = Seconds(revision.Accepted),
                DueAt = Seconds(revision.Appointment),
                ProcessingFinishedAt = Seconds(revision.Completed),
                ResultReturnedAt = Seconds(revision.Returned),
                RefusedAt = Seconds(revision.Refused),
                Status = revision.Status,
                SourceStatus = ((int)revision.Status).ToString(CultureInfo.InvariantCulture),
                MappingVersion = MappingVersion,
            });
            steps.AddRange(revision.Tasks.Select(task => new DossierStep
            {
                SourceSystem = system,
                NativeId = dossier.Code,
                StepTime = task.End,
                Officer = task.Assignee,
                OfficerTitle = task.Title,
                Department = task.Department,
                Action = task.Content,
                StatusAfter = task.StatusAfter,
                StartedAt = task.Start,
                Deadline = task.Deadline,
            }));
        }

        return new SimulatedTruth(changes, steps);
    }

    private static DateTimeOffset Seconds(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    private static DateTimeOffset? Seconds(DateTimeOffset? t) => t is { } v ? Seconds(v) : null;
}
