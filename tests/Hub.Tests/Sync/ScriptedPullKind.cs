using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Hub.Connectors;

namespace Hub.Tests.Sync;

/// <summary>
/// A connector kind whose source is a script of pages held by the test (configuration <c>{"feed": "name"}</c>):
/// for testing the sync engine's own rules (quarantine, thresholds, cursors, locks) without a network in between.
/// The cursor is the number of pages stored.
/// </summary>
public sealed class ScriptedPullKind : IPullConnectorKind
{
    public static readonly ConcurrentDictionary<string, ScriptedFeed> Feeds = new(StringComparer.Ordinal);

    public string Name => "scripted-pull";

    public string Description => "Pages held by a test.";

    public string ConfigurationSchema => """{"type":"object","properties":{"feed":{"type":"string"}},"required":["feed"]}""";

    public IPullSource CreateSource(ConnectorContext context) => new Source(Feeds[context.Configuration.GetProperty("feed").GetString()!]);

    private sealed class Source(ScriptedFeed feed) : IPullSource
    {
        public Task<CheckResult> CheckAsync(CancellationToken cancellationToken) => Task.FromResult(CheckResult.Success(0, "ok"));

        public async Task<PullPage> PullAsync(string? cursor, CancellationToken cancellationToken)
        {
            var index = cursor is null ? 0 : int.Parse(cursor, CultureInfo.InvariantCulture);
            Interlocked.Increment(ref feed.PullsField);
            if (feed.Gate is { } gate)
            {
                await gate.WaitAsync(cancellationToken);
            }

            if (feed.FailAtPage == index)
            {
                feed.FailAtPage = null;
                throw new ConnectorException(FailureSide.SourceUnreachable, true, $"scripted failure at page {index}");
            }

            if (index >= feed.Pages.Count)
            {
                return new PullPage([], cursor, HasMore: false);
            }

            var records = feed.Pages[index].Select(json => new RawRecord(RawRecordKind.Dossier, JsonDocument.Parse(json).RootElement.Clone())).ToList();
            return new PullPage(records, (index + 1).ToString(CultureInfo.InvariantCulture), HasMore: index + 1 < feed.Pages.Count);
        }

        public ValueTask DisposeAsync() => default;
    }
}

public sealed class ScriptedFeed
{
    internal int PullsField;

    public List<List<string>> Pages { get; } = [];

    public int? FailAtPage { get; set; }

    public SemaphoreSlim? Gate { get; set; }

    public int Pulls => PullsField;
}
