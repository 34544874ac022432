using Hub.Contracts;

namespace Hub.Core.Store;

/// <summary>
/// The checks a change must pass before the store accepts it. A record that fails is reported with its reason and
/// left out; nothing of it is written. Reasons name the field and never echo personal data.
/// </summary>
public static class ChangeValidation
{
    /// <summary>Longest accepted source system id.</summary>
    public const int MaxSourceSystemLength = 64;

    /// <summary>Longest accepted native id or dossier code.</summary>
    public const int MaxIdLength = 200;

    /// <summary>Longest accepted free text (names, actions, summaries).</summary>
    public const int MaxTextLength = 4000;

    /// <summary>Returns why the change cannot be stored, or null when it can.</summary>
    public static string? Check(DossierChange change, DateTimeOffset now, TimeSpan futureTolerance)
    {
        return Id(nameof(change.SourceSystem), change.SourceSystem, MaxSourceSystemLength)
            ?? Id(nameof(change.NativeId), change.NativeId, MaxIdLength)
            ?? Id(nameof(change.DossierCode), change.DossierCode, MaxIdLength)
            ?? EventTime(nameof(change.EventTime), change.EventTime, now, futureTolerance)
            ?? (Enum.IsDefined(change.Status) ? null : $"Status {(int)change.Status} is not a national status code (1-10).")
            ?? (change.ApplicantType is { } a && !Enum.IsDefined(a) ? $"ApplicantType {(int)a} is not a known applicant type (1-4)." : null)
            ?? (change.Channel is { } c && !Enum.IsDefined(c) ? $"Channel {(int)c} is not a known channel (1-3)." : null)
            ?? Text(nameof(change.SourceStatus), change.SourceStatus)
            ?? Text(nameof(change.MappingVersion), change.MappingVersion)
            ?? Text(nameof(change.ProcedureCode), change.ProcedureCode)
            ?? Text(nameof(change.ProcedureBaseCode), change.ProcedureBaseCode)
            ?? Text(nameof(change.ProcedureName), change.ProcedureName)
            ?? Text(nameof(change.SectorCode), change.SectorCode)
            ?? Text(nameof(change.AgencyCode), change.AgencyCode)
            ?? Text(nameof(change.HandlingUnit), change.HandlingUnit)
            ?? Date(nameof(change.SubmittedAt), change.SubmittedAt)
            ?? Date(nameof(change.ReceivedAt), change.ReceivedAt)
            ?? Date(nameof(change.DueAt), change.DueAt)
            ?? Date(nameof(change.ProcessingFinishedAt), change.ProcessingFinishedAt)
            ?? Date(nameof(change.ResultReturnedAt), change.ResultReturnedAt)
            ?? Date(nameof(change.RefusedAt), change.RefusedAt);
    }

    /// <summary>Returns why the step cannot be stored, or null when it can.</summary>
    public static string? Check(DossierStep step, DateTimeOffset now, TimeSpan futureTolerance)
    {
        return Id(nameof(step.SourceSystem), step.SourceSystem, MaxSourceSystemLength)
            ?? Id(nameof(step.NativeId), step.NativeId, MaxIdLength)
            ?? EventTime(nameof(step.StepTime), step.StepTime, now, futureTolerance)
            ?? (step.StatusAfter is { } s && !Enum.IsDefined(s) ? $"StatusAfter {(int)s} is not a national status code (1-10)." : null)
            ?? Text(nameof(step.Officer), step.Officer)
            ?? Text(nameof(step.OfficerTitle), step.OfficerTitle)
            ?? Text(nameof(step.Department), step.Department)
            ?? Text(nameof(step.Action), step.Action)
            ?? Date(nameof(step.StartedAt), step.StartedAt)
            ?? Date(nameof(step.Deadline), step.Deadline);
    }

    private static string? Id(string field, string? value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return $"{field} is missing.";
        }

        if (value.Length > maxLength)
        {
            return $"{field} is {value.Length} characters long; at most {maxLength} are accepted.";
        }

        if (value.Trim().Length != value.Length || value.Any(char.IsControl))
        {
            return $"{field} '{value}' has leading or trailing spaces or control characters.";
        }

        return null;
    }

    private static string? Text(string field, string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length > MaxTextLength)
        {
            return $"{field} is {value.Length} characters long; at most {MaxTextLength} are accepted.";
        }

        // PostgreSQL text cannot hold NUL; one such record must not fail the whole batch.
        return value.Contains('\0', StringComparison.Ordinal) ? $"{field} contains a NUL character." : null;
    }

    private static string? EventTime(string field, DateTimeOffset value, DateTimeOffset now, TimeSpan futureTolerance)
    {
        if (value == default)
        {
            return $"{field} is missing.";
        }

        // A change dated in the future would stay "newest" and hide every real update after it.
        if (value > now + futureTolerance)
        {
            return $"{field} {value:O} is more than {futureTolerance.TotalHours:0.#} h in the future (now {now:O}); the source's clock or date format is wrong.";
        }

        return Date(field, value);
    }

    private static string? Date(string field, DateTimeOffset? value) =>
        value is { } v && (v.UtcDateTime.Year < 1900 || v.UtcDateTime.Year > 2200)
            ? $"{field} {v:O} is outside the years 1900-2200."
            : null;
}
