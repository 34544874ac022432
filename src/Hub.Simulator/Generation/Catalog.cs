namespace Hub.Simulator.Generation;

/// <summary>
/// The illustrative reference data the generator draws from: procedures, agencies, names. Modelled on public
/// one-stop listings; not copied from any system.
/// </summary>
internal static class Catalog
{
    /// <summary>Procedures with a relative weight (how common they are).</summary>
    public static readonly (Procedure Procedure, int Weight)[] Procedures =
    [
        (new("1.001193", "Đăng ký khai sinh", "HT", "Bộ phận Tư pháp - Hộ tịch", 1, false, true, false), 30),
        (new("1.000894", "Đăng ký kết hôn", "HT", "Bộ phận Tư pháp - Hộ tịch", 3, false, true, false), 10),
        (new("1.000656", "Đăng ký khai tử", "HT", "Bộ phận Tư pháp - Hộ tịch", 1, false, true, false), 6),
        (new("1.001612", "Đăng ký thành lập hộ kinh doanh", "HKD", "Phòng Kinh tế", 3, true, true, true), 12),
        (new("2.000488", "Cấp phiếu lý lịch tư pháp cho công dân Việt Nam", "LLTP", "Phòng Hành chính tư pháp", 10, true, false, false), 10),
        (new("1.009994", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "XD", "Phòng Quản lý xây dựng", 15, true, false, false), 8),
        (new("1.004227", "Đăng ký, cấp Giấy chứng nhận quyền sử dụng đất lần đầu", "DD", "Phòng Đất đai", 30, true, false, false), 9),
        (new("1.001757", "Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh", "KCB", "Phòng Nghiệp vụ Y", 20, true, false, false), 4),
        (new("1.005129", "Đăng ký thành lập doanh nghiệp tư nhân", "DKKD", "Phòng Đăng ký kinh doanh", 3, true, false, true), 11),
    ];

    /// <summary>Agency names by the two digits after the province prefix; the commune flag says which procedures they handle.</summary>
    public static readonly (string Suffix, string Name, bool Commune)[] Agencies =
    [
        ("10", "Sở Tư pháp", false),
        ("11", "Sở Tài chính", false),
        ("12", "Sở Xây dựng", false),
        ("13", "Sở Nông nghiệp và Môi trường", false),
        ("14", "UBND xã Quảng Phú", true),
        ("15", "UBND phường Hạc Thành", true),
        ("16", "UBND xã Hoằng Hóa", true),
        ("17", "Sở Y tế", false),
    ];

    /// <summary>The department agency that handles each non-commune sector.</summary>
    public static readonly Dictionary<string, string> SectorAgency = new(StringComparer.Ordinal)
    {
        ["LLTP"] = "10",
        ["DKKD"] = "11",
        ["XD"] = "12",
        ["DD"] = "13",
        ["KCB"] = "17",
    };

    public static readonly string[] FamilyNames =
        ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"];

    public static readonly string[] MiddleNames = ["Văn", "Thị", "Minh", "Hữu", "Đức", "Thanh", "Ngọc", "Quốc", "Thu", "Hoài", "Gia", "Bảo"];

    public static readonly string[] GivenNames =
    [
        "An", "Bình", "Chi", "Dũng", "Đức", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Hương", "Khánh", "Lan", "Linh", "Long",
        "Mai", "Nam", "Ngân", "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tú", "Tuấn", "Vy", "Yến",
    ];

    public static readonly string[] BusinessWords = ["Thương mại", "Dịch vụ", "Xây dựng", "Nông sản", "Vận tải", "Công nghệ", "Du lịch"];

    public const string DeskDepartment = "Bộ phận Một cửa";
    public const string LeaderDepartment = "Lãnh đạo";
    public const string OnlinePortal = "Cổng Dịch vụ công";
    public const string SystemAssignee = "Hệ thống";
}
