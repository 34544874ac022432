using System.Globalization;
using System.Text.RegularExpressions;
using Hub.Contracts;
using Hub.Simulator.Generation;
using Hub.Simulator.Vendor;

namespace Hub.Simulator;

/// <summary>
/// A simulated provincial one-stop system: its generated dossiers and their revisions (the truth), the faults it
/// injects and its counters. Generation is pure and deterministic: the same options (with an explicit
/// <see cref="ProvinceOptions.Start"/> and <see cref="ProvinceOptions.End"/>) give the same truth. Serve it over HTTP
/// with <see cref="SimulatorHost"/> or <see cref="SimulatorEndpoints.MapSimulatedProvince"/>.
/// </summary>
public sealed partial class SimulatedProvince
{
    private const int MaxDossiers = 1 << 24;

    private readonly Lazy<SimulatedTruth> _truth;
    private readonly Random _faultRandom;
    private readonly Lock _faultLock = new();
    private readonly Lock _feedLock = new();
    private volatile VendorFeed? _feed;

    /// <param name="options">What to generate and how to serve it.</param>
    /// <param name="timeProvider">The clock: the default window ends one minute before its now, and only revisions up to its now are served. The system clock when null.</param>
    public SimulatedProvince(ProvinceOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        Options = options;
        TimeProvider = timeProvider ?? TimeProvider.System;
        End = FloorMilliseconds(options.End ?? TimeProvider.GetUtcNow().AddSeconds(-ProvinceOptions.DefaultEndLagSeconds));
        Start = CeilingSeconds(options.Start ?? End.AddDays(-ProvinceOptions.DefaultWindowDays));
        if (Start > End)
        {
            throw new ArgumentException($"Start ({Start:O}) must not be after End ({End:O}).", nameof(options));
        }

        Faults = new ProvinceFaults(options.Faults);
        var dossiers = ProvinceGenerator.Generate(options, Start, End);
        Revisions = [.. dossiers
            .SelectMany(d => d.Revisions)
            .OrderBy(r => r.UpdatedAt)
            .ThenBy(r => r.Dossier.Id, StringComparer.Ordinal)
            .ThenBy(r => r.Number)];
        DossierCount = dossiers.Length;
        _faultRandom = new Random(Mix.Seed(options.Seed, -2, 3));
        _truth = new Lazy<SimulatedTruth>(() => TruthOf(Revisions), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The options the province was built from.</summary>
    public ProvinceOptions Options { get; }

    /// <summary>The hub's id of this source system, <see cref="ProvinceOptions.SourceSystem"/>.</summary>
    public string SourceSystem => Options.SourceSystem;

    /// <summary>Start of the lifecycle window (UTC, whole seconds).</summary>
    public DateTimeOffset Start { get; }

    /// <summary>End of the lifecycle window (UTC, whole milliseconds).</summary>
    public DateTimeOffset End { get; }

    /// <summary>The clock of the province.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>How many dossiers the province holds.</summary>
    public int DossierCount { get; }

    /// <summary>How many real revisions the province holds (visible or not yet).</summary>
    public int RevisionCount => Revisions.Length;

    /// <summary>The faults of the running province; change them at any time.</summary>
    public ProvinceFaults Faults { get; }

    /// <summary>Counters of requests, tokens, faults and served items.</summary>
    public SimulatorStats Stats { get; } = new();

    /// <summary>Everything the hub must hold once it has read the whole feed (every revision, visible or not yet).</summary>
    public SimulatedTruth Truth => _truth.Value;

    /// <summary>The malformed copies in the feed as it is now visible, by kind (not part of the truth).</summary>
    public IReadOnlyDictionary<MalformedKind, int> MalformedInjected
    {
        get
        {
            var feed = Feed();
            var visible = feed.UpperBound(TimeProvider.GetUtcNow().UtcTicks);
            var counts = Enum.GetValues<MalformedKind>().ToDictionary(k => k, _ => 0);
            for (var i = 0; i < visible; i++)
            {
                if (ToMalformedKind(feed.Entries[i].Kind) is { } kind)
                {
                    counts[kind]++;
                }
            }

            return counts;
        }
    }

    /// <summary>The duplicate entries in the feed as it is now visible.</summary>
    public int DuplicatesInjected
    {
        get
        {
            var feed = Feed();
            var visible = feed.UpperBound(TimeProvider.GetUtcNow().UtcTicks);
            return feed.Entries.Take(visible).Count(e => e.Kind == FeedItemKind.Duplicate);
        }
    }

    /// <summary>Real revisions ordered as the feed serves them: update time, vendor id, revision number.</summary>
    internal SimRevision[] Revisions { get; }

    internal TokenStore Tokens { get; } = new();

    /// <summary>What the hub must hold after reading everything visible at <paramref name="instant"/>.</summary>
    public SimulatedTruth TruthAt(DateTimeOffset instant) =>
        TruthOf(Revisions.TakeWhile(r => r.UpdatedAt <= instant));

    /// <summary>Makes every issued access token unknown, as after a restart of the vendor's identity server.</summary>
    public void RevokeTokens() => Tokens.RevokeAll();

    /// <summary>The feed for the current item-level faults, built once per setting.</summary>
    internal VendorFeed Feed()
    {
        var faults = Faults.Current;
        var feed = _feed;
        if (feed is not null && feed.MalformedRate == faults.MalformedRate && feed.DuplicateRate == faults.DuplicateRate)
        {
            return feed;
        }

        lock (_feedLock)
        {
            feed = _feed;
            if (feed is null || feed.MalformedRate != faults.MalformedRate || feed.DuplicateRate != faults.DuplicateRate)
            {
                feed = VendorFeed.Build(Revisions, Options.Seed, faults.MalformedRate, faults.DuplicateRate, 2 * Options.PageSize);
                _feed = feed;
            }

            return feed;
        }
    }

    /// <summary>A draw for the request-level faults: one sequence per province, so a given request order gives the same faults.</summary>
    internal double NextFaultDraw()
    {
        lock (_faultLock)
        {
            return _faultRandom.NextDouble();
        }
    }

    internal static MalformedKind? ToMalformedKind(FeedItemKind kind) => kind switch
    {
        FeedItemKind.UnparseableDate => MalformedKind.UnparseableDate,
        FeedItemKind.MissingCode => MalformedKind.MissingCode,
        FeedItemKind.UnknownStatus => MalformedKind.UnknownStatus,
        _ => null,
    };

    private SimulatedTruth TruthOf(IEnumerable<SimRevision> revisions)
    {
        var changes = new List<DossierChange>();
        var steps = new List<DossierStep>();
        foreach (var revision in revisions)
        {
            changes.Add(ToChange(revision));
            steps.AddRange(revision.Tasks.Select(t => ToStep(revision.Dossier, t)));
        }

        return new SimulatedTruth(changes, steps);
    }

    private DossierChange ToChange(SimRevision revision)
    {
        var dossier = revision.Dossier;
        return new DossierChange
        {
            SourceSystem = SourceSystem,
            NativeId = dossier.Id,
            DossierCode = dossier.Code,
            EventTime = revision.UpdatedAt,
            SourceVersion = revision.Number,
            ProcedureCode = dossier.Procedure.CodeFor(Options.AgencyPrefix),
            ProcedureBaseCode = dossier.Procedure.BaseCode,
            ProcedureName = dossier.Procedure.Name,
            SectorCode = dossier.Procedure.SectorCode,
            AgencyCode = dossier.Agency.Code,
            HandlingUnit = dossier.Agency.Name,
            ApplicantType = dossier.ApplicantType,
            Channel = dossier.ApplyMethod.Channel,
            PaidOnline = dossier.PaidOnline,
            SubmittedAt = revision.Applied,
            ReceivedAt = revision.Accepted,
            DueAt = revision.Appointment,
            ProcessingFinishedAt = revision.Completed,
            ResultReturnedAt = revision.Returned,
            RefusedAt = revision.Refused,
            Status = revision.Status,
            SourceStatus = revision.VendorStatus.Id.ToString(CultureInfo.InvariantCulture),
            MappingVersion = null,
        };
    }

    private DossierStep ToStep(SimDossier dossier, SimTask task) => new()
    {
        SourceSystem = SourceSystem,
        NativeId = dossier.Id,
        StepTime = task.End,
        Officer = task.Assignee,
        OfficerTitle = task.Title,
        Department = task.Department,
        Action = task.Content,
        StatusAfter = task.StatusAfter,
        StartedAt = task.Start,
        Deadline = task.Deadline,
    };

    private static void Validate(ProvinceOptions options)
    {
        if (!PathSafe().IsMatch(options.SourceSystem))
        {
            throw new ArgumentException($"SourceSystem '{options.SourceSystem}' must be letters, digits, '.', '-' or '_' (it is a path segment).", nameof(options));
        }

        if (!AgencyPrefixShape().IsMatch(options.AgencyPrefix))
        {
            throw new ArgumentException($"AgencyPrefix '{options.AgencyPrefix}' must be dot-separated groups of capitals and digits.", nameof(options));
        }

        if (options.Dossiers is < 0 or > MaxDossiers)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Dossiers, $"Dossiers must be between 0 and {MaxDossiers}.");
        }

        if (!(options.RollbackShare is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.RollbackShare, "RollbackShare is a share between 0 and 1.");
        }

        if (!options.TokenPath.StartsWith('/') || options.TokenPath.Length < 2)
        {
            throw new ArgumentException("TokenPath must start with '/'.", nameof(options));
        }

        if (options.TokenLifetime <= TimeSpan.Zero)
        {
            throw new ArgumentException("TokenLifetime must be positive.", nameof(options));
        }

        if (options.PageSize < 1 || options.MaxPageSize < options.PageSize)
        {
            throw new ArgumentException("PageSize must be at least 1 and MaxPageSize at least PageSize.", nameof(options));
        }

        if (string.IsNullOrEmpty(options.ClientId) || string.IsNullOrEmpty(options.ClientSecret))
        {
            throw new ArgumentException("ClientId and ClientSecret must not be empty.", nameof(options));
        }
    }

    private static DateTimeOffset FloorMilliseconds(DateTimeOffset t) =>
        new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    private static DateTimeOffset CeilingSeconds(DateTimeOffset t)
    {
        var remainder = t.UtcTicks % TimeSpan.TicksPerSecond;
        return new(remainder == 0 ? t.UtcTicks : t.UtcTicks - remainder + TimeSpan.TicksPerSecond, TimeSpan.Zero);
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex PathSafe();

    [GeneratedRegex(@"^[A-Z0-9]+(\.[A-Z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex AgencyPrefixShape();
}
