using System.Globalization;
using System.Text.RegularExpressions;
using Hub.Contracts;
using Hub.Simulator;

namespace Hub.Tests.Simulator;

/// <summary>The generated truth of a simulated province, without HTTP: deterministic and realistic.</summary>
public sealed partial class SimulatedTruthTests
{
    private static readonly DateTimeOffset End = new(2025, 11, 30, 10, 0, 0, 123, TimeSpan.Zero);
    private static readonly DateTimeOffset Start = End.AddDays(-30);

    private static readonly HashSet<(int, int)> Expected =
    [
        (1, 2), (1, 3), (2, 4), (2, 5), (2, 6), (2, 9), (4, 5), (5, 4), (4, 6), (6, 4), (4, 8), (8, 4),
        (2, 7), (4, 7), (5, 7), (6, 7), (4, 9), (9, 10),
    ];

    // Irregular on purpose: receipt not reported (1→4) and a cancelled result (10→4).
    private static readonly HashSet<(int, int)> Irregular = [(1, 4), (10, 4)];

    private static ProvinceOptions Options(int seed = 7, int dossiers = 1000, double rollbackShare = 0.1) => new()
    {
        Seed = seed,
        Dossiers = dossiers,
        Start = Start,
        End = End,
        RollbackShare = rollbackShare,
    };

    private static readonly Lazy<SimulatedProvince> Shared = new(() => new SimulatedProvince(Options()));

    [Fact]
    public void The_same_options_give_the_same_truth_and_another_seed_another()
    {
        var a = new SimulatedProvince(Options(dossiers: 300)).Truth;
        var b = new SimulatedProvince(Options(dossiers: 300)).Truth;
        var c = new SimulatedProvince(Options(seed: 8, dossiers: 300)).Truth;

        Assert.Equal(a.Changes, b.Changes);
        Assert.Equal(a.Steps, b.Steps);
        Assert.NotEqual(a.Changes, c.Changes);
    }

    [Fact]
    public void Every_lifecycle_starts_submitted_and_its_revisions_move_forward_inside_the_window()
    {
        var province = Shared.Value;
        var truth = province.Truth;

        Assert.Equal(1000, province.DossierCount);
        Assert.Equal(1000, truth.Changes.Select(c => c.NativeId).Distinct().Count());
        Assert.Equal(province.RevisionCount, truth.Changes.Count);
        foreach (var dossier in truth.Changes.GroupBy(c => c.NativeId))
        {
            var revisions = dossier.ToList();
            Assert.Equal(NationalStatus.Submitted, revisions[0].Status);
            Assert.Equal(Enumerable.Range(1, revisions.Count).Select(i => (long?)i), revisions.Select(r => r.SourceVersion));
            for (var i = 1; i < revisions.Count; i++)
            {
                Assert.True(revisions[i].EventTime > revisions[i - 1].EventTime, $"{dossier.Key}: revision {i + 1} is not after revision {i}");
                var transition = ((int)revisions[i - 1].Status, (int)revisions[i].Status);
                Assert.True(Expected.Contains(transition) || Irregular.Contains(transition), $"{dossier.Key}: unexpected transition {transition}");
            }

            Assert.Single(revisions.Select(r => r.DossierCode).Distinct());
        }

        Assert.All(truth.Changes, c =>
        {
            Assert.InRange(c.EventTime, Start, End);
            Assert.Equal(TimeSpan.Zero, c.EventTime.Offset);
            Assert.Equal(0, c.EventTime.Ticks % TimeSpan.TicksPerMillisecond);
            Assert.True(Enum.IsDefined(c.Status));
            Assert.Equal(province.SourceSystem, c.SourceSystem);
            Assert.Equal(c.Status, VendorStatuses.ToNational(int.Parse(c.SourceStatus!, CultureInfo.InvariantCulture)));
            Assert.Null(c.MappingVersion);
            Assert.Matches(@"^\d\.\d{6}\.000\.00\.00\.H56$", c.ProcedureCode);
            Assert.Equal(string.Join('.', c.ProcedureCode!.Split('.').Take(2)), c.ProcedureBaseCode);
            Assert.StartsWith("H56.", c.AgencyCode, StringComparison.Ordinal);
            Assert.NotNull(c.HandlingUnit);
            Assert.NotNull(c.SubmittedAt);
            Assert.Equal(c.Status == NationalStatus.RefusedAtIntake, c.RefusedAt is not null);
            Assert.Equal(c.Status is NationalStatus.Resolved or NationalStatus.ResultReturned, c.ProcessingFinishedAt is not null);
            Assert.Equal(c.Status == NationalStatus.ResultReturned, c.ResultReturnedAt is not null);
            Assert.Equal(c.ReceivedAt is not null, c.DueAt is not null);
        });
    }

    [Fact]
    public void Dossier_codes_are_agency_day_and_sequence_and_unique()
    {
        var firsts = Shared.Value.Truth.Changes.Where(c => c.SourceVersion == 1).ToList();

        Assert.Equal(firsts.Count, firsts.Select(c => c.DossierCode).Distinct().Count());
        Assert.All(firsts, c =>
        {
            var match = CodeShape().Match(c.DossierCode);
            Assert.True(match.Success, c.DossierCode);
            Assert.Equal(c.AgencyCode, match.Groups["agency"].Value);
            Assert.Equal(c.SubmittedAt!.Value.ToOffset(TimeSpan.FromHours(7)).ToString("yyMMdd", CultureInfo.InvariantCulture), match.Groups["day"].Value);
        });
    }

    [Fact]
    public void Lifecycles_cover_the_paths_seen_in_practice()
    {
        var paths = Shared.Value.Truth.Changes
            .GroupBy(c => c.NativeId)
            .Select(g => "," + string.Join(',', g.Select(c => (int)c.Status)) + ",")
            .ToList();

        Assert.Contains(paths, p => p == ",1,2,4,9,10,");
        Assert.Contains(paths, p => p == ",1,3,");
        Assert.Contains(paths, p => p.Contains(",4,5,4,", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.Contains(",4,6,4,", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.Contains(",4,8,4,", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.EndsWith(",7,", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.Contains(",2,9,", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.StartsWith(",1,4,", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.Contains(",10,4,", StringComparison.Ordinal) && p.EndsWith(",9,10,", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.EndsWith(",4,", StringComparison.Ordinal)); // still in progress at the end of the window
    }

    [Fact]
    public void A_supplement_round_moves_the_due_date_later()
    {
        var moved = 0;
        foreach (var dossier in Shared.Value.Truth.Changes.GroupBy(c => c.NativeId).Select(g => g.ToList()))
        {
            for (var i = 1; i < dossier.Count; i++)
            {
                if (dossier[i - 1].Status == NationalStatus.SupplementRequested && dossier[i].Status == NationalStatus.Processing)
                {
                    Assert.True(dossier[i].DueAt > dossier[i - 1].DueAt);
                    moved++;
                }
            }
        }

        Assert.True(moved > 0);
    }

    [Fact]
    public void Rollbacks_follow_the_configured_share()
    {
        static int Rollbacks(SimulatedProvince p) => p.Truth.Changes
            .GroupBy(c => c.NativeId)
            .Count(g => g.Zip(g.Skip(1)).Any(t => t.First.Status == NationalStatus.ResultReturned && t.Second.Status == NationalStatus.Processing));

        Assert.Equal(0, Rollbacks(new SimulatedProvince(Options(dossiers: 300, rollbackShare: 0))));
        var many = Rollbacks(new SimulatedProvince(Options(dossiers: 300, rollbackShare: 0.5)));
        Assert.True(many > 30, $"{many} rollbacks");
    }

    [Fact]
    public void Step_keys_are_unique_and_steps_are_in_whole_seconds()
    {
        var truth = Shared.Value.Truth;

        Assert.Equal(truth.Steps.Count, truth.Steps.Select(s => (s.NativeId, s.StepTime, s.StatusAfter, s.Action)).Distinct().Count());
        Assert.True(truth.Steps.Count >= truth.Changes.Count);
        Assert.All(truth.Steps, s =>
        {
            Assert.Equal(0, s.StepTime.Ticks % TimeSpan.TicksPerSecond);
            Assert.Equal(0, s.StartedAt!.Value.Ticks % TimeSpan.TicksPerSecond);
            Assert.Equal(0, s.Deadline!.Value.Ticks % TimeSpan.TicksPerSecond);
            Assert.True(s.StartedAt <= s.StepTime);
            Assert.True(s.Deadline > s.StartedAt);
            Assert.False(string.IsNullOrEmpty(s.Officer));
            Assert.False(string.IsNullOrEmpty(s.Action));
            Assert.NotNull(s.StatusAfter);
        });

        // Each dossier's steps are strictly later one after the other, and none is after its dossier's last revision.
        var lastRevision = truth.Changes.GroupBy(c => c.NativeId).ToDictionary(g => g.Key, g => g.Max(c => c.EventTime));
        foreach (var steps in truth.Steps.GroupBy(s => s.NativeId))
        {
            var times = steps.Select(s => s.StepTime).ToList();
            Assert.Equal(times.Order(), times);
            Assert.Equal(times.Count, times.Distinct().Count());
            Assert.True(times[^1] <= lastRevision[steps.Key]);
        }
    }

    [Fact]
    public void Truth_at_an_instant_is_the_prefix_of_revisions_up_to_it()
    {
        var province = Shared.Value;
        var instant = Start.AddDays(15);

        var partial = province.TruthAt(instant);

        Assert.Equal(province.Truth.Changes.Where(c => c.EventTime <= instant), partial.Changes);
        Assert.True(partial.Changes.Count > 0 && partial.Changes.Count < province.Truth.Changes.Count);
        Assert.All(partial.Steps, s => Assert.True(s.StepTime <= instant));
    }

    [Fact]
    public void Invalid_options_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new SimulatedProvince(new ProvinceOptions { SourceSystem = "a/b" }));
        Assert.Throws<ArgumentException>(() => new SimulatedProvince(new ProvinceOptions { Start = End, End = Start }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimulatedProvince(new ProvinceOptions { Dossiers = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimulatedProvince(new ProvinceOptions { Faults = new FaultOptions { ServerErrorRate = 1.5 } }));
    }

    [GeneratedRegex(@"^(?<agency>H56\.\d\d)-(?<day>\d{6})-\d{4}$")]
    private static partial Regex CodeShape();
}
