namespace Hub.Simulator.Portal;

/// <summary>How a <see cref="PortalSyncClient"/> replays a province, and the faults it injects on the way.</summary>
public sealed record PortalSyncOptions
{
    public const int DefaultRowsPerPost = 1;
    public const int DefaultStepsPerPost = 10;
    public const string DefaultDstCode = "DVCQG";

    /// <summary>
    /// Dossier rows per <c>DongBoHoSoMC</c> post. Rows are queued per agency (each post names one <c>madonvi</c>) in feed
    /// order, and a queue is posted when it is full (and at the end).
    /// </summary>
    public int RowsPerPost { get; init; } = DefaultRowsPerPost;

    /// <summary>Step rows per <c>CapNhatTienDoHoSoMC</c> post; the steps a post's revisions added follow it in chunks of this size.</summary>
    public int StepsPerPost { get; init; } = DefaultStepsPerPost;

    /// <summary>Whether dossier rows carry <c>NgayCapNhat</c> (the revision's update time); without it the hub orders by arrival.</summary>
    public bool SendUpdateTime { get; init; } = true;

    /// <summary>Post to <c>/portal/{service}</c> instead of <c>/portal/sync</c>.</summary>
    public bool ServiceInPath { get; init; }

    /// <summary>The <c>dstcode</c> header sent with every sync post.</summary>
    public string DstCode { get; init; } = DefaultDstCode;

    /// <summary>Seed of every fault draw: the same options give the same sequence of posts.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Share of posts (dossier and step posts) sent a second time right after the first, as a client does after a lost reply.</summary>
    public double DuplicateRate { get; init; }

    /// <summary>
    /// Out-of-order delivery: the revisions are shuffled within consecutive windows of this many (0 or 1: feed order), so
    /// later revisions of different dossiers, and sometimes of the same dossier, arrive before earlier ones.
    /// </summary>
    public int ReorderWindow { get; init; }

    /// <summary>Share of revisions (after a dossier's first) that are followed by the dossier's previous snapshot sent again.</summary>
    public double StaleResendRate { get; init; }

    /// <summary>Share of revisions followed by a corrupted copy (<see cref="PortalMalformedKind"/>), which the hub must quarantine.</summary>
    public double MalformedRate { get; init; }
}
