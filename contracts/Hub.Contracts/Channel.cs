namespace Hub.Contracts;

/// <summary>How the dossier was submitted (wire name <c>KenhThucHien</c>).</summary>
public enum Channel
{
    /// <summary>1: in person at the one-stop desk.</summary>
    InPerson = 1,

    /// <summary>2: online.</summary>
    Online = 2,

    /// <summary>3: by post.</summary>
    Postal = 3,
}
