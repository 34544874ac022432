namespace Hub.Simulator.Portal;

/// <summary>What a <see cref="PortalSyncClient"/> sent and was answered.</summary>
public sealed class PortalSyncStats
{
    private readonly Dictionary<PortalMalformedKind, int> _malformed = Enum.GetValues<PortalMalformedKind>().ToDictionary(k => k, _ => 0);

    /// <summary>Successful logins (the first one and those after a session ended).</summary>
    public int Logins { get; internal set; }

    /// <summary>Every sync post sent, resends included.</summary>
    public int Posts { get; internal set; }

    /// <summary><c>DongBoHoSoMC</c> posts sent as inserts (<c>isUpdating</c> "False").</summary>
    public int InsertPosts { get; internal set; }

    /// <summary>Insert posts answered "đã tồn tại" and sent again as updates (<c>isUpdating</c> "True").</summary>
    public int SwitchedToUpdate { get; internal set; }

    /// <summary>Rows the hub answered "already exists" for (each insert that met a stored dossier).</summary>
    public int RowsAlreadyExisting { get; internal set; }

    /// <summary><c>CapNhatTienDoHoSoMC</c> posts sent.</summary>
    public int StepPosts { get; internal set; }

    /// <summary>Real revisions sent (each once; resends not counted).</summary>
    public int RevisionsSent { get; internal set; }

    /// <summary>Steps sent (each once; resends not counted).</summary>
    public int StepsSent { get; internal set; }

    /// <summary>Revisions sent after a later revision of the same dossier (out of order), stale snapshots included.</summary>
    public int RevisionsSentLate { get; internal set; }

    /// <summary>Posts sent a second time on purpose (<see cref="PortalSyncOptions.DuplicateRate"/>).</summary>
    public int DuplicatePosts { get; internal set; }

    /// <summary>Older snapshots sent again after a newer one (<see cref="PortalSyncOptions.StaleResendRate"/>).</summary>
    public int StaleSnapshots { get; internal set; }

    /// <summary>Distinct corrupted rows injected, by kind.</summary>
    public IReadOnlyDictionary<PortalMalformedKind, int> MalformedInjected => _malformed;

    /// <summary>Rows the hub reported as not accepted (quarantined) in its replies, resends included.</summary>
    public int RowsReportedQuarantined { get; internal set; }

    internal void CountMalformed(PortalMalformedKind kind) => _malformed[kind]++;
}
