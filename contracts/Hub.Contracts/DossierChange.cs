namespace Hub.Contracts;

/// <summary>
/// One change to a dossier as a source system reported it, after mapping: a snapshot of the dossier header
/// at <see cref="EventTime"/>. The store keeps every distinct change in the history and makes the newest one
/// (by <see cref="EventTime"/>, then <see cref="SourceVersion"/>) the current state, whatever the arrival order.
/// The canonical model carries no personal data (no owner name or personal id).
/// </summary>
public sealed record DossierChange
{
    /// <summary>The hub's id of the source system that reported the change.</summary>
    public required string SourceSystem { get; init; }

    /// <summary>The dossier's id in the source system.</summary>
    public required string NativeId { get; init; }

    /// <summary>National dossier code, <c>MaHoSo</c>, unique across the country.</summary>
    public required string DossierCode { get; init; }

    /// <summary>When the change happened at the source (the source's update time); decides which change is newest.</summary>
    public required DateTimeOffset EventTime { get; init; }

    /// <summary>The source's own sequence or version of the record, when it gives one; breaks ties of <see cref="EventTime"/>.</summary>
    public long? SourceVersion { get; init; }

    /// <summary>Procedure code as the source sent it (<c>MaTTHC</c>), for example <c>1.003560.000.00.00.H56</c>.</summary>
    public string? ProcedureCode { get; init; }

    /// <summary>The national base procedure code, for example <c>1.003560</c>; what the national portal wants.</summary>
    public string? ProcedureBaseCode { get; init; }

    /// <summary>Procedure name, <c>TenTTHC</c>.</summary>
    public string? ProcedureName { get; init; }

    /// <summary>Sector code, <c>MaLinhVuc</c>.</summary>
    public string? SectorCode { get; init; }

    /// <summary>Electronic identifier of the agency that handles the dossier (<c>madonvi</c>), treated as an opaque string.</summary>
    public string? AgencyCode { get; init; }

    /// <summary>Name of the handling unit as the source gives it, <c>DonViXuLy</c>.</summary>
    public string? HandlingUnit { get; init; }

    /// <summary>Applicant type, <c>LoaiDoiTuong</c>.</summary>
    public ApplicantType? ApplicantType { get; init; }

    /// <summary>Submission channel, <c>KenhThucHien</c>.</summary>
    public Channel? Channel { get; init; }

    /// <summary>Whether fees were paid online, <c>DuocThanhToanTrucTuyen</c>.</summary>
    public bool? PaidOnline { get; init; }

    /// <summary>Submitted, <c>NgayNopHoSo</c>.</summary>
    public DateTimeOffset? SubmittedAt { get; init; }

    /// <summary>Received by the one-stop desk, <c>NgayTiepNhan</c>: the processing clock starts.</summary>
    public DateTimeOffset? ReceivedAt { get; init; }

    /// <summary>Due date, <c>NgayHenTra</c>. Its moves are kept in the dossier's due-date history.</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>Processing finished, <c>NgayKetThucXuLy</c>.</summary>
    public DateTimeOffset? ProcessingFinishedAt { get; init; }

    /// <summary>Result returned to the applicant, <c>NgayTra</c>.</summary>
    public DateTimeOffset? ResultReturnedAt { get; init; }

    /// <summary>Refused, <c>NgayTuChoi</c>.</summary>
    public DateTimeOffset? RefusedAt { get; init; }

    /// <summary>The national status, <c>TrangThaiHoSo</c>, as mapped from the source's status.</summary>
    public required NationalStatus Status { get; init; }

    /// <summary>The status exactly as the source sent it, before mapping.</summary>
    public string? SourceStatus { get; init; }

    /// <summary>Version of the mapping that turned the source record into this change.</summary>
    public string? MappingVersion { get; init; }
}
