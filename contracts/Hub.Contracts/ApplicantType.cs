namespace Hub.Contracts;

/// <summary>Who the applicant is (wire name <c>LoaiDoiTuong</c>).</summary>
public enum ApplicantType
{
    /// <summary>1: a citizen.</summary>
    Citizen = 1,

    /// <summary>2: a business.</summary>
    Business = 2,

    /// <summary>3: a state agency.</summary>
    StateAgency = 3,

    /// <summary>4: any other applicant.</summary>
    Other = 4,
}
