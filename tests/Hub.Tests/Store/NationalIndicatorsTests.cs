using Hub.Contracts;
using Hub.Core.Store;
using Hub.Tests.Infrastructure;
using Hub.Tests.Sync;

namespace Hub.Tests.Store;

/// <summary>
/// The national indicators against a table of dossiers whose verdicts were computed by hand from the on-time rule
/// (DOMAIN.md, decision 0002): stored through the real write path in PostgreSQL, then aggregated per agency and procedure.
/// </summary>
public class NationalIndicatorsTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Vietnam = TimeSpan.FromHours(7);
    private static readonly DateTimeOffset T = new(2026, 3, 2, 8, 0, 0, Vietnam);
    private static readonly DateTimeOffset Now = T.AddDays(5);

    /// <summary>One hand-computed case: its history as (hours after receipt, status), its due date and the verdict by hand.</summary>
    private sealed record Case(
        string Id, string System, string Procedure, double DueHours, (double Hours, NationalStatus Status)[] History, string Verdict,
        Channel Channel = Channel.InPerson, bool PaidOnline = false);

    private static readonly Case[] Cases =
    [
        // Finished in 2 days against 3: on time.
        new("A", "ind-h56", "1.000001", 72, [(0, NationalStatus.Received), (1, NationalStatus.Processing), (48, NationalStatus.Resolved)], "onTime", Channel.Online, true),
        // Finished in 2 days against 1: a day late.
        new("B", "ind-h56", "1.000001", 24, [(0, NationalStatus.Received), (1, NationalStatus.Processing), (48, NationalStatus.Resolved)], "overdue"),
        // Finished at 44 h against 24 h, but 24 h were spent waiting for the applicant's supplement (2 h to 26 h):
        // 44 - 24 = 20 h <= 24 h, on time; without the subtraction it would be 20 h late.
        new("C", "ind-h56", "1.000001", 24,
            [(0, NationalStatus.Received), (1, NationalStatus.Processing), (2, NationalStatus.SupplementRequested), (26, NationalStatus.Processing), (44, NationalStatus.Resolved)],
            "onTime", Channel.Online),
        // Two supplement requests: overdue however fast.
        new("D", "ind-h56", "1.000001", 72,
            [(0, NationalStatus.Received), (1, NationalStatus.SupplementRequested), (2, NationalStatus.Processing), (3, NationalStatus.SupplementRequested), (4, NationalStatus.Processing), (5, NationalStatus.Resolved)],
            "overdue"),
        // Still processing 5 days after receipt, due after 1: overdue now.
        new("E", "ind-h56", "1.000001", 24, [(0, NationalStatus.Received), (1, NationalStatus.Processing)], "overdueNow"),
        // Still processing, due after 10 days: in progress.
        new("F", "ind-h56", "1.000001", 240, [(0, NationalStatus.Received)], "inProgress", Channel.Online, true),
        // Withdrawn: the rule does not apply.
        new("G", "ind-h56", "1.000001", 24, [(0, NationalStatus.Received), (1, NationalStatus.WithdrawnByApplicant)], "withdrawn"),
        // Waiting for the applicant since 1 h after receipt, due after 24 h: 119 h of the 120 h since receipt are paused,
        // so 1 h counts, and it is not overdue.
        new("J", "ind-h56", "1.000001", 24, [(0, NationalStatus.Received), (1, NationalStatus.SupplementRequested)], "inProgress"),
        // Returned to the applicant after being resolved: the end is the resolution (status 9 first), 23 h against 24 h.
        new("H", "ind-h56", "1.000002", 24, [(0, NationalStatus.Received), (23, NationalStatus.Resolved), (30, NationalStatus.ResultReturned)], "onTime", Channel.Online),
        // Another agency: two days against one.
        new("I", "ind-h57", "1.000001", 24, [(0, NationalStatus.Received), (48, NationalStatus.Resolved)], "overdue"),
    ];

    private static async Task<NationalIndicators> StoreCasesAsync(Npgsql.NpgsqlDataSource db)
    {
        var catalog = TestSecrets.Catalog(db, new ScriptedPullKind());
        await catalog.SaveAsync(SyncHarness.Scripted("ind-h56", "ind-h56") with { Agency = "H56", SourceSystem = "ind-h56" }, None);
        await catalog.SaveAsync(SyncHarness.Scripted("ind-h57", "ind-h57") with { Agency = "H57", SourceSystem = "ind-h57" }, None);
        var changes = Cases.SelectMany(c => c.History.Select((h, i) => new DossierChange
        {
            SourceSystem = c.System,
            NativeId = c.Id,
            DossierCode = $"{c.System}-{c.Id}",
            EventTime = T.AddHours(h.Hours),
            SourceVersion = i + 1,
            Status = h.Status,
            ProcedureCode = c.Procedure + ".000.00.00.H56",
            ProcedureBaseCode = c.Procedure,
            AgencyCode = "000.00.15.H56",
            Channel = c.Channel,
            PaidOnline = c.PaidOnline,
            ReceivedAt = T,
            DueAt = T.AddHours(c.DueHours),
        })).ToList();
        var result = await Changes.Store(db).WriteAsync(new ChangeBatch { Dossiers = changes }, None);
        Assert.Empty(result.Rejected);
        return new NationalIndicators(db);
    }

    private static IndicatorRow Expected(string agency, string? procedure, IEnumerable<Case> cases)
    {
        var list = cases.ToList();
        int Count(string verdict) => list.Count(c => c.Verdict == verdict);
        return new IndicatorRow(agency, procedure, list.Count, Count("onTime"), Count("overdue"), Count("undetermined"), Count("inProgress"),
            Count("overdueNow"), Count("withdrawn"), list.Count(c => c.Channel == Channel.Online), list.Count(c => c.PaidOnline));
    }

    [Fact]
    public async Task Indicators_per_agency_and_procedure_match_the_hand_computed_verdicts_supplement_time_subtracted()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("indicators");
        var indicators = await StoreCasesAsync(db);

        var byAgency = await indicators.ComputeAsync(new IndicatorQuery(), Now, None);
        var byProcedure = await indicators.ComputeAsync(new IndicatorQuery { ByProcedure = true }, Now, None);
        var oneAgency = await indicators.ComputeAsync(new IndicatorQuery { Agency = "H57" }, Now, None);

        var h56 = Cases.Where(c => c.System == "ind-h56").ToList();
        var h57 = Cases.Where(c => c.System == "ind-h57").ToList();
        Assert.Equal([Expected("H56", null, h56), Expected("H57", null, h57)], byAgency);
        Assert.Equal(
            [Expected("H56", "1.000001", h56.Where(c => c.Procedure == "1.000001")), Expected("H56", "1.000002", h56.Where(c => c.Procedure == "1.000002")),
             Expected("H57", "1.000001", h57)],
            byProcedure);
        Assert.Equal([Expected("H57", null, h57)], oneAgency);

        // The figures by hand: H56 judged A, C, H on time and B, D overdue: 3 of 5; E to chase now; F and J in
        // progress (J's supplement wait keeps it within its due date); G withdrawn; A, C, F, H online of 9.
        var agency = byAgency[0];
        Assert.Equal((9, 3, 2, 1, 2, 1), (agency.Dossiers, agency.OnTime, agency.Overdue, agency.OverdueNow, agency.InProgress, agency.Withdrawn));
        Assert.Equal(0.6, agency.OnTimeRate);
        Assert.Equal(4.0 / 9, agency.OnlineShare);
        Assert.Equal(2.0 / 9, agency.PaidOnlineShare);
        Assert.Equal(0.5, byProcedure[0].OnTimeRate);
        Assert.Equal(1.0, byProcedure[1].OnTimeRate);
        Assert.Equal(0.0, byProcedure[2].OnTimeRate);
    }

    [Fact]
    public async Task Each_dossier_gets_the_same_verdict_as_its_own_api_view()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("indicators_each");
        var indicators = await StoreCasesAsync(db);
        var store = Changes.Store(db);

        foreach (var c in Cases)
        {
            var dossier = (await store.GetByCodeAsync($"{c.System}-{c.Id}", None))!;
            var verdict = Core.Model.OnTimeRule.Evaluate(new Core.Model.OnTimeInput
            {
                ReceivedAt = dossier.Current.ReceivedAt,
                StatusHistory = [.. dossier.History.Select(h => new Core.Model.StatusAt(h.Change.EventTime, h.Change.Status))],
                DueDateHistory = [.. dossier.DueDates.Select(m => new Core.Model.DueDateAt(m.ChangedAt, m.DueAt))],
                ProcessingFinishedAt = dossier.Current.ProcessingFinishedAt,
                Now = Now,
            });
            var expected = c.Verdict switch
            {
                "onTime" => Core.Model.OnTimeOutcome.OnTime,
                "overdue" => Core.Model.OnTimeOutcome.Overdue,
                "overdueNow" => Core.Model.OnTimeOutcome.OverdueInProgress,
                "inProgress" => Core.Model.OnTimeOutcome.InProgress,
                "withdrawn" => Core.Model.OnTimeOutcome.NotApplicable,
                _ => Core.Model.OnTimeOutcome.Undetermined,
            };
            Assert.True(expected == verdict.Outcome, $"{c.Id}: expected {expected}, got {verdict.Outcome} ({verdict.Reason})");
        }

        Assert.Equal(Cases.Length, (await indicators.ComputeAsync(new IndicatorQuery(), Now, None)).Sum(r => r.Dossiers));
    }
}
