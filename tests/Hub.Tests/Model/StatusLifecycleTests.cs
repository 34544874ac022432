using Hub.Contracts;
using Hub.Core.Model;

namespace Hub.Tests.Model;

public class StatusLifecycleTests
{
    [Theory]
    // Every expected transition of DOMAIN.md: 1→2|3; 2→4|5|6|9; 4↔5; 4↔6; 4→8; 8→4; {2,4,5,6}→7; 4→9; 9→10.
    [InlineData(1, 2)]
    [InlineData(1, 3)]
    [InlineData(2, 4)]
    [InlineData(2, 5)]
    [InlineData(2, 6)]
    [InlineData(2, 9)]
    [InlineData(4, 5)]
    [InlineData(5, 4)]
    [InlineData(4, 6)]
    [InlineData(6, 4)]
    [InlineData(4, 8)]
    [InlineData(8, 4)]
    [InlineData(2, 7)]
    [InlineData(4, 7)]
    [InlineData(5, 7)]
    [InlineData(6, 7)]
    [InlineData(4, 9)]
    [InlineData(9, 10)]
    public void Lifecycle_transition_is_expected(int from, int to) =>
        Assert.Equal(TransitionKind.Expected, StatusLifecycle.Classify((NationalStatus)from, (NationalStatus)to));

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(10)]
    [InlineData(3)]
    [InlineData(7)]
    public void Same_status_repeated_is_expected(int status) =>
        Assert.Equal(TransitionKind.Expected, StatusLifecycle.Classify((NationalStatus)status, (NationalStatus)status));

    [Theory]
    // Skipped states.
    [InlineData(1, 4)]
    [InlineData(2, 10)]
    [InlineData(1, 9)]
    [InlineData(4, 10)]
    // 5, 6 and 8 rewritten as 9 by some senders.
    [InlineData(5, 9)]
    [InlineData(6, 9)]
    [InlineData(8, 9)]
    // Unusual moves that are neither expected nor backwards.
    [InlineData(5, 6)]
    [InlineData(8, 7)]
    [InlineData(9, 7)]
    [InlineData(1, 7)]
    [InlineData(2, 3)]
    public void Skip_or_rewrite_is_irregular(int from, int to) =>
        Assert.Equal(TransitionKind.Irregular, StatusLifecycle.Classify((NationalStatus)from, (NationalStatus)to));

    [Fact]
    public void Rollback_from_returned_to_processing_is_a_correction() =>
        Assert.Equal(TransitionKind.Correction, StatusLifecycle.Classify(NationalStatus.ResultReturned, NationalStatus.Processing));

    [Theory]
    // Back to an earlier stage.
    [InlineData(9, 4)]
    [InlineData(10, 9)]
    [InlineData(4, 2)]
    [InlineData(2, 1)]
    [InlineData(5, 2)]
    // Out of a terminal state: refused (3) or withdrawn (7).
    [InlineData(3, 2)]
    [InlineData(3, 4)]
    [InlineData(7, 4)]
    [InlineData(7, 10)]
    public void Backward_move_is_a_correction(int from, int to) =>
        Assert.Equal(TransitionKind.Correction, StatusLifecycle.Classify((NationalStatus)from, (NationalStatus)to));

    [Theory]
    [InlineData(1, TransitionKind.Expected)]
    [InlineData(2, TransitionKind.Expected)]
    [InlineData(4, TransitionKind.Irregular)]
    [InlineData(10, TransitionKind.Irregular)]
    public void First_status_is_expected_only_at_intake(int first, TransitionKind expected) =>
        Assert.Equal(expected, StatusLifecycle.Classify(null, (NationalStatus)first));

    [Fact]
    public void Every_pair_of_statuses_is_classified_without_rejection()
    {
        foreach (var from in Enum.GetValues<NationalStatus>())
        {
            foreach (var to in Enum.GetValues<NationalStatus>())
            {
                Assert.True(Enum.IsDefined(StatusLifecycle.Classify(from, to)), $"{from}→{to}");
            }
        }
    }

    [Fact]
    public void Status_outside_the_national_codes_is_a_programming_error() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => StatusLifecycle.Classify(NationalStatus.Processing, (NationalStatus)11));

    [Fact]
    public void History_is_classified_entry_by_entry()
    {
        // Received, processed with a supplement round, resolved, returned, then the result cancelled and
        // reprocessed, and finally a sender that jumps straight to returned.
        int[] codes = [2, 4, 5, 5, 4, 9, 10, 4, 10];
        var history = codes.Select(code => (NationalStatus)code);

        var classified = StatusLifecycle.ClassifyHistory(history);

        ClassifiedTransition[] expected =
        [
            new(null, NationalStatus.Received, TransitionKind.Expected),
            new(NationalStatus.Received, NationalStatus.Processing, TransitionKind.Expected),
            new(NationalStatus.Processing, NationalStatus.SupplementRequested, TransitionKind.Expected),
            new(NationalStatus.SupplementRequested, NationalStatus.SupplementRequested, TransitionKind.Expected),
            new(NationalStatus.SupplementRequested, NationalStatus.Processing, TransitionKind.Expected),
            new(NationalStatus.Processing, NationalStatus.Resolved, TransitionKind.Expected),
            new(NationalStatus.Resolved, NationalStatus.ResultReturned, TransitionKind.Expected),
            new(NationalStatus.ResultReturned, NationalStatus.Processing, TransitionKind.Correction),
            new(NationalStatus.Processing, NationalStatus.ResultReturned, TransitionKind.Irregular),
        ];
        Assert.Equal(expected, classified);
    }

    [Fact]
    public void Empty_history_classifies_to_nothing() => Assert.Empty(StatusLifecycle.ClassifyHistory([]));
}
