namespace Hub.Contracts;

/// <summary>
/// One processing step of a dossier (the national portal's <c>CapNhatTienDoHoSoMC</c> rows). Sources resend steps;
/// the store keeps one row per (dossier, <see cref="StepTime"/>, <see cref="StatusAfter"/>, action).
/// </summary>
public sealed record DossierStep
{
    /// <summary>The hub's id of the source system that reported the step.</summary>
    public required string SourceSystem { get; init; }

    /// <summary>The dossier's id in the source system.</summary>
    public required string NativeId { get; init; }

    /// <summary>When the step was taken, <c>ThoiDiemXuLy</c>.</summary>
    public required DateTimeOffset StepTime { get; init; }

    /// <summary>The officer who took the step, <c>NguoiXuLy</c>.</summary>
    public string? Officer { get; init; }

    /// <summary>The officer's title, <c>ChucDanh</c>.</summary>
    public string? OfficerTitle { get; init; }

    /// <summary>The department that took the step, <c>PhongBanXuLy</c>.</summary>
    public string? Department { get; init; }

    /// <summary>What was done, <c>NoiDungXuLy</c>.</summary>
    public string? Action { get; init; }

    /// <summary>The dossier's status after the step, <c>TrangThai</c>.</summary>
    public NationalStatus? StatusAfter { get; init; }

    /// <summary>When the step started, <c>NgayBatDau</c>.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>The step's deadline, <c>NgayKetThucTheoQuyDinh</c>.</summary>
    public DateTimeOffset? Deadline { get; init; }
}
