namespace Hub.Contracts;

/// <summary>
/// The national dossier status (wire name <c>TrangThaiHoSo</c>), codes 1 to 10 as the national portal uses them.
/// </summary>
public enum NationalStatus
{
    /// <summary>1 Mới đăng ký: submitted, not yet received by the one-stop desk.</summary>
    Submitted = 1,

    /// <summary>2 Được tiếp nhận: received; receipt and due date issued.</summary>
    Received = 2,

    /// <summary>3 Không được tiếp nhận: refused at intake (terminal).</summary>
    RefusedAtIntake = 3,

    /// <summary>4 Đang xử lý: being processed by the specialised department.</summary>
    Processing = 4,

    /// <summary>5 Yêu cầu bổ sung giấy tờ: supplement requested; the clock is paused until the applicant responds.</summary>
    SupplementRequested = 5,

    /// <summary>6 Yêu cầu thực hiện nghĩa vụ tài chính: fee or tax payment required; the clock is paused.</summary>
    FinancialObligationRequired = 6,

    /// <summary>7 Công dân yêu cầu rút hồ sơ: withdrawn by the applicant.</summary>
    WithdrawnByApplicant = 7,

    /// <summary>8 Dừng xử lý: processing stopped.</summary>
    ProcessingStopped = 8,

    /// <summary>9 Đã xử lý xong: resolved; result ready.</summary>
    Resolved = 9,

    /// <summary>10 Đã trả kết quả: result returned to the applicant (terminal).</summary>
    ResultReturned = 10,
}
