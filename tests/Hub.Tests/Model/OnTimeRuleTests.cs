using System.Globalization;
using Hub.Contracts;
using Hub.Core.Model;

namespace Hub.Tests.Model;

/// <summary>
/// Times are hours after T0 (the dossier is received at hour 0); histories are written as "status@hour" pairs,
/// e.g. "2@0 4@1 9@70". The usual due date is hour 72 (three days), issued at receipt.
/// </summary>
public class OnTimeRuleTests
{
    private static readonly DateTimeOffset T0 = new(2025, 11, 17, 8, 0, 0, TimeSpan.FromHours(7));

    [Theory]
    // history                           due   now   outcome                              end   paused supp. reason
    [InlineData("2@0 4@1 9@70", 72.0, 200.0, OnTimeOutcome.OnTime, 70.0, 0.0, 0, "finished 2h before the due date")]
    [InlineData("2@0 4@1 9@74", 72.0, 200.0, OnTimeOutcome.Overdue, 74.0, 0.0, 0, "finished 2h after the due date")]
    [InlineData("2@0 4@1 9@72", 72.0, 200.0, OnTimeOutcome.OnTime, 72.0, 0.0, 0, "finished exactly at the due date")]
    // End from 9 when both 9 and 10 exist: 10 is after the due date, 9 is before.
    [InlineData("2@0 4@1 9@70 10@80", 72.0, 200.0, OnTimeOutcome.OnTime, 70.0, 0.0, 0, "2h before")]
    // End from 10 when there is no 9.
    [InlineData("2@0 4@1 10@71", 72.0, 200.0, OnTimeOutcome.OnTime, 71.0, 0.0, 0, "1h before")]
    [InlineData("2@0 4@1 10@73", 72.0, 200.0, OnTimeOutcome.Overdue, 73.0, 0.0, 0, "1h after")]
    // End from 8 (stopped) or 3 (refused) when there is neither 9 nor 10.
    [InlineData("2@0 4@1 8@50", 72.0, 200.0, OnTimeOutcome.OnTime, 50.0, 0.0, 0, "22h before")]
    [InlineData("1@0 3@2", 72.0, 200.0, OnTimeOutcome.OnTime, 2.0, 0.0, 0, "2d 22h before")]
    // One supplement round of 2 days (hours 10 to 58) turns a finish 1 day late into on time.
    [InlineData("2@0 4@1 5@10 4@58 9@96", 72.0, 200.0, OnTimeOutcome.OnTime, 96.0, 48.0, 1, "finished 1d before the due date (2d paused subtracted)")]
    // A 12h supplement round does not make up for a finish 24h late: 96 - 12 = 84 > 72.
    [InlineData("2@0 4@1 5@10 4@22 9@96", 72.0, 200.0, OnTimeOutcome.Overdue, 96.0, 12.0, 1, "finished 12h after the due date (12h paused subtracted)")]
    // A financial obligation (6) pauses the clock too: 80 - 10 = 70.
    [InlineData("2@0 4@1 6@20 4@30 9@80", 72.0, 200.0, OnTimeOutcome.OnTime, 80.0, 10.0, 0, "2h before")]
    // 5 straight into 6: both stays pause, 100 - 20 = 80.
    [InlineData("2@0 4@1 5@10 6@20 4@30 9@100", 72.0, 200.0, OnTimeOutcome.Overdue, 100.0, 20.0, 1, "8h after")]
    // Two supplement requests are overdue however early the dossier finished.
    [InlineData("2@0 4@1 5@2 4@3 5@4 4@5 9@10", 72.0, 200.0, OnTimeOutcome.Overdue, 10.0, 2.0, 2, "2 supplement requests")]
    [InlineData("2@0 4@1 5@2 6@3 5@4 4@5 9@10", 72.0, 200.0, OnTimeOutcome.Overdue, 10.0, 3.0, 2, "2 supplement requests")]
    // A resent 5 row is the same request, and its pause runs from the first row.
    [InlineData("2@0 4@1 5@10 5@30 4@58 9@96", 72.0, 200.0, OnTimeOutcome.OnTime, 96.0, 48.0, 1, "1d before")]
    // Result cancelled (10→4): unfinished again, judged against now.
    [InlineData("2@0 4@1 9@50 10@60 4@65", 72.0, 70.0, OnTimeOutcome.InProgress, null, 0.0, 0, "2h left before the due date")]
    [InlineData("2@0 4@1 9@50 10@60 4@65", 72.0, 80.0, OnTimeOutcome.OverdueInProgress, null, 0.0, 0, "8h past the due date")]
    // Returned again after the rollback without a new 9: the 9 from before the rollback is not the end.
    [InlineData("2@0 4@1 9@50 10@60 4@65 10@75", 72.0, 200.0, OnTimeOutcome.Overdue, 75.0, 0.0, 0, "3h after")]
    // Unfinished dossiers.
    [InlineData("2@0 4@1", 72.0, 60.0, OnTimeOutcome.InProgress, null, 0.0, 0, "12h left before the due date")]
    [InlineData("2@0 4@1", 72.0, 80.0, OnTimeOutcome.OverdueInProgress, null, 0.0, 0, "8h past the due date")]
    // Still waiting for the applicant's supplement: the clock is paused up to now (100 - 90 = 10).
    [InlineData("2@0 4@1 5@10", 72.0, 100.0, OnTimeOutcome.InProgress, null, 90.0, 1, "2d 14h left")]
    [InlineData("2@0 4@1 5@2 4@3 5@4", 72.0, 5.0, OnTimeOutcome.OverdueInProgress, null, 2.0, 2, "2 supplement requests")]
    // Withdrawn: the KPI does not apply.
    [InlineData("2@0 4@1 5@10 7@20", 72.0, 200.0, OnTimeOutcome.NotApplicable, null, 10.0, 1, "withdrawn")]
    public void Verdict_matches_hand_computed_case(
        string history,
        double dueHour,
        double nowHour,
        OnTimeOutcome outcome,
        double? endHour,
        double pausedHours,
        int supplements,
        string reasonFragment)
    {
        var verdict = OnTimeRule.Evaluate(new OnTimeInput
        {
            ReceivedAt = T0,
            StatusHistory = History(history),
            DueDateHistory = [new DueDateAt(T0, H(dueHour))],
            Now = H(nowHour),
        });

        Assert.Equal(outcome, verdict.Outcome);
        Assert.Equal(endHour is { } e ? H(e) : null, verdict.End);
        Assert.Equal(TimeSpan.FromHours(pausedHours), verdict.Paused);
        Assert.Equal(supplements, verdict.SupplementRequests);
        Assert.Contains(reasonFragment, verdict.Reason, StringComparison.Ordinal);
        if (outcome != OnTimeOutcome.NotApplicable)
        {
            Assert.Equal(H(dueHour), verdict.EffectiveDue);
        }
    }

    [Fact]
    public void History_order_of_the_input_does_not_matter()
    {
        var ordered = History("2@0 4@1 5@10 4@58 9@96 10@100");
        var shuffled = new[] { ordered[4], ordered[0], ordered[5], ordered[2], ordered[1], ordered[3] };

        var fromOrdered = OnTimeRule.Evaluate(WithDue(ordered, 72));
        var fromShuffled = OnTimeRule.Evaluate(WithDue(shuffled, 72));

        Assert.Equal(OnTimeOutcome.OnTime, fromShuffled.Outcome);
        Assert.Equal(fromOrdered, fromShuffled);
    }

    [Theory]
    [InlineData(70.0, OnTimeOutcome.OnTime)]
    [InlineData(75.0, OnTimeOutcome.Overdue)]
    public void Processing_finished_field_is_the_end_when_history_has_none(double finishedHour, OnTimeOutcome expected)
    {
        var verdict = OnTimeRule.Evaluate(new OnTimeInput
        {
            ReceivedAt = T0,
            DueDateHistory = [new DueDateAt(T0, H(72))],
            ProcessingFinishedAt = H(finishedHour),
            Now = H(200),
        });

        Assert.Equal(expected, verdict.Outcome);
        Assert.Equal(H(finishedHour), verdict.End);
    }

    [Fact]
    public void Processing_finished_field_does_not_finish_a_dossier_whose_history_says_processing()
    {
        var verdict = OnTimeRule.Evaluate(WithDue(History("2@0 4@1 9@50 10@60 4@65"), 72) with { ProcessingFinishedAt = H(50), Now = H(70) });

        Assert.Equal(OnTimeOutcome.InProgress, verdict.Outcome);
        Assert.Null(verdict.End);
    }

    [Fact]
    public void First_due_date_is_used_when_the_source_moved_it_after_a_supplement()
    {
        // Due at hour 72; the source moved it to hour 120 after a 48h supplement round. The dossier ends at
        // hour 140: 140 - 48 paused = 92, 20h past the first due date. Judging against the moved date would
        // subtract the pause twice (92 <= 120) and call it on time.
        var verdict = OnTimeRule.Evaluate(new OnTimeInput
        {
            ReceivedAt = T0,
            StatusHistory = History("2@0 4@1 5@10 4@58 9@140"),
            DueDateHistory = [new DueDateAt(H(58), H(120)), new DueDateAt(T0, H(72))],
            Now = H(200),
        });

        Assert.Equal(OnTimeOutcome.Overdue, verdict.Outcome);
        Assert.Equal(H(72), verdict.EffectiveDue);
        Assert.Equal(TimeSpan.FromHours(48), verdict.Paused);
        Assert.Contains("finished 20h after the due date", verdict.Reason, StringComparison.Ordinal);
    }

    [Theory]
    // Legal maximum 3 days from receipt.
    [InlineData("2@0 4@1 9@70", OnTimeOutcome.OnTime, "finished 2h before the legal maximum (3d from receipt)")]
    [InlineData("2@0 4@1 9@80", OnTimeOutcome.Overdue, "finished 8h after the legal maximum (3d from receipt)")]
    // 85 - 20 paused = 65 elapsed.
    [InlineData("2@0 4@1 5@10 4@30 9@85", OnTimeOutcome.OnTime, "finished 7h before")]
    public void Without_due_date_elapsed_time_is_compared_with_the_legal_maximum(string history, OnTimeOutcome expected, string reasonFragment)
    {
        var verdict = OnTimeRule.Evaluate(new OnTimeInput
        {
            ReceivedAt = T0,
            StatusHistory = History(history),
            LegalMaximum = TimeSpan.FromDays(3),
            Now = H(200),
        });

        Assert.Equal(expected, verdict.Outcome);
        Assert.Equal(H(72), verdict.EffectiveDue);
        Assert.Contains(reasonFragment, verdict.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(60.0, OnTimeOutcome.InProgress)]
    [InlineData(80.0, OnTimeOutcome.OverdueInProgress)]
    public void Unfinished_without_due_date_is_judged_against_the_legal_maximum(double nowHour, OnTimeOutcome expected)
    {
        var verdict = OnTimeRule.Evaluate(new OnTimeInput
        {
            ReceivedAt = T0,
            StatusHistory = History("2@0 4@1"),
            LegalMaximum = TimeSpan.FromDays(3),
            Now = H(nowHour),
        });

        Assert.Equal(expected, verdict.Outcome);
    }

    [Fact]
    public void Without_due_date_or_legal_maximum_the_verdict_is_undetermined()
    {
        var verdict = OnTimeRule.Evaluate(new OnTimeInput { ReceivedAt = T0, StatusHistory = History("2@0 4@1 9@70"), Now = H(200) });

        Assert.Equal(OnTimeOutcome.Undetermined, verdict.Outcome);
        Assert.Equal(H(70), verdict.End);
        Assert.Null(verdict.EffectiveDue);
        Assert.Contains("legal maximum is unknown", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Legal_maximum_without_receipt_time_is_undetermined()
    {
        var verdict = OnTimeRule.Evaluate(new OnTimeInput
        {
            StatusHistory = History("2@0 4@1 9@70"),
            LegalMaximum = TimeSpan.FromDays(3),
            Now = H(200),
        });

        Assert.Equal(OnTimeOutcome.Undetermined, verdict.Outcome);
        Assert.Contains("no receipt time", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_supplement_requests_are_overdue_even_without_a_due_date()
    {
        var verdict = OnTimeRule.Evaluate(new OnTimeInput { StatusHistory = History("2@0 4@1 5@2 4@3 5@4 4@5 9@10"), Now = H(200) });

        Assert.Equal(OnTimeOutcome.Overdue, verdict.Outcome);
        Assert.Equal(2, verdict.SupplementRequests);
    }

    [Fact]
    public void Dossier_without_any_history_or_end_is_in_progress()
    {
        var verdict = OnTimeRule.Evaluate(new OnTimeInput { DueDateHistory = [new DueDateAt(T0, H(72))], Now = H(10) });

        Assert.Equal(OnTimeOutcome.InProgress, verdict.Outcome);
        Assert.Null(verdict.End);
    }

    private static DateTimeOffset H(double hours) => T0.AddHours(hours);

    private static OnTimeInput WithDue(IReadOnlyList<StatusAt> history, double dueHour) => new()
    {
        ReceivedAt = T0,
        StatusHistory = history,
        DueDateHistory = [new DueDateAt(T0, H(dueHour))],
        Now = H(200),
    };

    /// <summary>"2@0 4@1 9@70": status 2 at hour 0, 4 at hour 1, 9 at hour 70.</summary>
    private static List<StatusAt> History(string compact) =>
        compact.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('@'))
            .Select(parts => new StatusAt(
                H(double.Parse(parts[1], CultureInfo.InvariantCulture)),
                (NationalStatus)int.Parse(parts[0], CultureInfo.InvariantCulture)))
            .ToList();
}
