using Hub.Contracts;

namespace Hub.Simulator.Generation;

/// <summary>A generated dossier: what stays the same across its revisions.</summary>
internal sealed class SimDossier
{
    public required int Index { get; init; }

    /// <summary>The vendor's id (24 hex digits).</summary>
    public required string Id { get; init; }

    /// <summary>The dossier code, assigned once every dossier of the province is known (sequence per agency and day).</summary>
    public string Code { get; set; } = "";

    public required Procedure Procedure { get; init; }

    public required Agency Agency { get; init; }

    public required ApplicantType ApplicantType { get; init; }

    public required VendorApplyMethod ApplyMethod { get; init; }

    public required bool PaidOnline { get; init; }

    /// <summary>Personal data: only in the vendor payload.</summary>
    public required string ApplicantName { get; init; }

    /// <summary>Personal data: only in the vendor payload.</summary>
    public required string IdentityNumber { get; init; }

    public required DateTimeOffset SubmittedAt { get; init; }

    public List<SimRevision> Revisions { get; } = [];
}

/// <summary>One status change of a dossier: the header snapshot after it and the processing steps it added.</summary>
internal sealed class SimRevision
{
    public required SimDossier Dossier { get; init; }

    /// <summary>1, 2, 3… within the dossier.</summary>
    public required int Number { get; init; }

    /// <summary>The vendor's <c>updatedDate</c>: UTC, whole milliseconds.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    public required NationalStatus Status { get; init; }

    public VendorStatus VendorStatus => VendorStatuses.FromNational(Status);

    public string? StatusCurrentTask { get; init; }

    public DateTimeOffset? Applied { get; init; }

    public DateTimeOffset? Accepted { get; init; }

    public DateTimeOffset? Appointment { get; init; }

    public DateTimeOffset? Completed { get; init; }

    public DateTimeOffset? Returned { get; init; }

    public DateTimeOffset? Refused { get; init; }

    public required IReadOnlyList<SimTask> Tasks { get; init; }
}

/// <summary>A processing step; every time is UTC in whole seconds (the vendor sends them without milliseconds).</summary>
internal sealed record SimTask(
    string Assignee,
    string Title,
    string Department,
    string Content,
    NationalStatus StatusAfter,
    DateTimeOffset Start,
    DateTimeOffset End,
    DateTimeOffset Deadline);

internal sealed record Procedure(string BaseCode, string Name, string SectorCode, string Department, int WorkingDays, bool HasFee, bool Commune, bool ForBusiness)
{
    public string CodeFor(string agencyPrefix) => $"{BaseCode}.000.00.00.{agencyPrefix}";
}

internal sealed record Agency(string Code, string Name, bool Commune, IReadOnlyList<Officer> DeskOfficers, IReadOnlyList<Officer> Specialists, Officer Head, Officer Leader);

internal sealed record Officer(string Name, string Title);
