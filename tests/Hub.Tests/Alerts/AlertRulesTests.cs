using Hub.Core.Sync;
using Hub.Tests.Sync;
using Hub.Worker.Alerts;

namespace Hub.Tests.Alerts;

/// <summary>Which alert conditions hold, as a pure function of freshness verdicts, quarantine rates and the certificate.</summary>
public sealed class AlertRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 3, 0, 0, TimeSpan.Zero);
    private static readonly IReadOnlyDictionary<string, (long, long)> NoRates = new Dictionary<string, (long, long)>();

    private static (ConnectorState, FreshnessVerdict) Judged(string id, FreshnessState state, ConnectorLifecycle lifecycle = ConnectorLifecycle.Active, string? schedule = "*/1 * * * *", double threshold = 0.05) =>
        (new ConnectorState(SyncHarness.Scripted(id, "feed", threshold: threshold) with { Schedule = schedule }, null, null) { Lifecycle = lifecycle },
         new FreshnessVerdict(id, state, TimeSpan.FromMinutes(1), null, Now.AddMinutes(-3), Now.AddMinutes(-2), Now.AddMinutes(-1), null, "why"));

    private static IReadOnlyList<AlertCondition> Evaluate(
        IEnumerable<(ConnectorState, FreshnessVerdict)> connectors, IReadOnlyDictionary<string, (long, long)>? rates = null, DateTimeOffset? notAfter = null) =>
        AlertRules.Evaluate(connectors, rates ?? NoRates, notAfter ?? Now.AddYears(1), Now, TimeSpan.FromDays(30));

    [Fact]
    public void A_late_connector_holds_the_late_rule_and_a_failing_one_both_late_and_failing()
    {
        var conditions = Evaluate([Judged("a", FreshnessState.Late), Judged("b", FreshnessState.Failing), Judged("c", FreshnessState.OnTime), Judged("d", FreshnessState.Never)]);

        Assert.Equal(
            [(AlertRules.Late, "a"), (AlertRules.Late, "b"), (AlertRules.Failing, "b")],
            conditions.Select(c => (c.Rule, c.ConnectorId)).ToList());
        Assert.Equal(Now.AddMinutes(-2), conditions[0].Since);
        Assert.Equal(Now.AddMinutes(-1), conditions[2].Since);
    }

    [Fact]
    public void Only_a_paused_connector_with_a_schedule_holds_the_disabled_rule()
    {
        var conditions = Evaluate([
            Judged("paused", FreshnessState.Paused, ConnectorLifecycle.Paused),
            Judged("paused-push", FreshnessState.Paused, ConnectorLifecycle.Paused, schedule: null),
            Judged("retired", FreshnessState.Disabled, ConnectorLifecycle.Retired),
            Judged("draft", FreshnessState.Disabled, ConnectorLifecycle.Draft)]);

        var disabled = Assert.Single(conditions);
        Assert.Equal((AlertRules.Disabled, "paused"), (disabled.Rule, disabled.ConnectorId));
    }

    [Fact]
    public void The_quarantine_rule_holds_above_the_connectors_own_threshold_and_not_when_nothing_was_read()
    {
        var rates = new Dictionary<string, (long, long)> { ["above"] = (100, 6), ["at"] = (100, 5), ["strict"] = (100, 2), ["none-read"] = (0, 3) };

        var conditions = Evaluate([
            Judged("above", FreshnessState.OnTime), Judged("at", FreshnessState.OnTime),
            Judged("strict", FreshnessState.OnTime, threshold: 0.01), Judged("none-read", FreshnessState.OnTime)], rates);

        Assert.Equal(["above", "strict"], conditions.Where(c => c.Rule == AlertRules.QuarantineRate).Select(c => c.ConnectorId).ToList());
        Assert.Equal("0.06", conditions[0].State);
    }

    [Theory]
    [InlineData(31, false)]
    [InlineData(29, true)]
    [InlineData(-1, true)]
    public void The_certificate_rule_holds_within_30_days_of_expiry(int daysLeft, bool holds)
    {
        var conditions = Evaluate([], notAfter: Now.AddDays(daysLeft));

        Assert.Equal(holds, conditions.Any(c => c.Rule == AlertRules.CertificateExpiring && c.ConnectorId.Length == 0));
    }
}
