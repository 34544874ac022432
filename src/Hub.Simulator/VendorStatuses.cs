using Hub.Contracts;

namespace Hub.Simulator;

/// <summary>A status of the simulated vendor (<c>dossierStatus</c>) and the national status it stands for.</summary>
/// <param name="Id">The vendor's id, as sent in <c>dossierStatus.id</c> and <c>tasks[].statusAfter.id</c>.</param>
/// <param name="Name">The vendor's label, as sent in <c>dossierStatus.name</c>.</param>
/// <param name="National">The national status.</param>
public sealed record VendorStatus(int Id, string Name, NationalStatus National);

/// <summary>The simulated vendor's status vocabulary: its own ids, not the national codes.</summary>
public static class VendorStatuses
{
    /// <summary>Every vendor status, by id.</summary>
    public static IReadOnlyList<VendorStatus> All { get; } =
    [
        new(0, "Chờ tiếp nhận", NationalStatus.Submitted),
        new(1, "Đã tiếp nhận", NationalStatus.Received),
        new(2, "Đang xử lý", NationalStatus.Processing),
        new(3, "Chờ bổ sung", NationalStatus.SupplementRequested),
        new(4, "Chờ thực hiện nghĩa vụ tài chính", NationalStatus.FinancialObligationRequired),
        new(5, "Dừng xử lý", NationalStatus.ProcessingStopped),
        new(6, "Đã có kết quả", NationalStatus.Resolved),
        new(7, "Đã trả kết quả", NationalStatus.ResultReturned),
        new(8, "Từ chối tiếp nhận", NationalStatus.RefusedAtIntake),
        new(9, "Công dân rút hồ sơ", NationalStatus.WithdrawnByApplicant),
    ];

    /// <summary>The vendor id the malformed-item fault sends; not in <see cref="All"/>.</summary>
    public const int UnknownId = 99;

    /// <summary>The national status of a vendor id; null when the id is not in the table.</summary>
    public static NationalStatus? ToNational(int id) => id >= 0 && id < All.Count ? All[id].National : null;

    // Indexed by national code (1 to 10).
    private static readonly VendorStatus[] ByNational = Enumerable.Range(0, 11)
        .Select(code => All.FirstOrDefault(s => (int)s.National == code)!)
        .ToArray();

    /// <summary>The vendor status that stands for a national status.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a national status.</exception>
    public static VendorStatus FromNational(NationalStatus status) =>
        (int)status is >= 1 and <= 10 ? ByNational[(int)status] : throw new ArgumentOutOfRangeException(nameof(status), status, "Not a national status.");
}

/// <summary>A submission channel of the simulated vendor (<c>applyMethod</c>).</summary>
/// <param name="Id">The vendor's id, as sent in <c>applyMethod.id</c>.</param>
/// <param name="Name">The vendor's label.</param>
/// <param name="Channel">The national channel.</param>
public sealed record VendorApplyMethod(int Id, string Name, Channel Channel);

/// <summary>The simulated vendor's submission channels.</summary>
public static class VendorApplyMethods
{
    /// <summary>Every channel, by id.</summary>
    public static IReadOnlyList<VendorApplyMethod> All { get; } =
    [
        new(0, "Trực tuyến", Channel.Online),
        new(1, "Trực tiếp", Channel.InPerson),
        new(2, "Qua dịch vụ bưu chính công ích", Channel.Postal),
    ];

    /// <summary>The national channel of a vendor id; null when the id is not in the table.</summary>
    public static Channel? ToChannel(int id) => id >= 0 && id < All.Count ? All[id].Channel : null;
}
