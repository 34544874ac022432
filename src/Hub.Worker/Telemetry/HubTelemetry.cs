using System.Diagnostics;
using System.Diagnostics.Metrics;
using Hub.Core.Sync;

namespace Hub.Worker.Telemetry;

/// <summary>
/// The hub's own instruments: the <c>Hub</c> meter's counters and the <c>Hub</c> activity source. Static, like the
/// runtime's and Npgsql's own sources: they cost nothing until a listener (OpenTelemetry, a test) subscribes, and every
/// class that runs syncs records into them without being handed anything.
/// </summary>
/// <remarks>
/// Tags carry connector ids, triggers, outcomes and run ids only: never a dossier code or anything about an applicant.
/// The per-connector gauges (lag, quarantine, circuit) are observed by <see cref="ConnectorGauges"/>.
/// </remarks>
public static class HubTelemetry
{
    /// <summary>The name of the meter and of the activity source.</summary>
    public const string Name = "Hub";

    /// <summary>Spans of sync runs, their page pulls and their store writes.</summary>
    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary><c>hub.sync.runs</c>: runs ended, by <c>connector</c> and <c>outcome</c> (succeeded, failed, skipped).</summary>
    public static readonly Counter<long> Runs = Meter.CreateCounter<long>("hub.sync.runs", "{run}", "Sync runs ended, by connector and outcome.");

    /// <summary><c>hub.sync.changes</c>: status changes stored (new history rows), pulled or pushed, by <c>connector</c>.</summary>
    public static readonly Counter<long> Changes = Meter.CreateCounter<long>("hub.sync.changes", "{change}", "Status changes stored, by connector.");

    /// <summary><c>hub.sync.records</c>: raw records ingested (pulled, pushed or re-processed from quarantine), by <c>connector</c>.</summary>
    public static readonly Counter<long> Records = Meter.CreateCounter<long>("hub.sync.records", "{record}", "Records read from the source, by connector.");

    /// <summary>Tag names.</summary>
    public const string ConnectorTag = "connector";

    public const string OutcomeTag = "outcome";

    public const string TriggerTag = "trigger";

    public const string RunIdTag = "run.id";

    /// <summary>Counts a run that ended.</summary>
    public static void RunEnded(string connectorId, RunOutcome outcome) =>
        Runs.Add(1, new KeyValuePair<string, object?>(ConnectorTag, connectorId), new KeyValuePair<string, object?>(OutcomeTag, OutcomeName(outcome)));

    /// <summary>Counts the records and changes of a committed ingest (<c>RecordIngest</c>).</summary>
    public static void PageStored(string connectorId, PageCounts counts)
    {
        var connector = new KeyValuePair<string, object?>(ConnectorTag, connectorId);
        Records.Add(counts.RecordsRead, connector);
        Changes.Add(counts.ChangesStored, connector);
    }

    /// <summary>Starts the span of a run (the root of a scheduled run's trace).</summary>
    public static Activity? StartRun(string connectorId, SyncTrigger trigger)
    {
        var activity = Source.StartActivity("hub.sync.run");
        activity?.SetTag(ConnectorTag, connectorId);
        activity?.SetTag(TriggerTag, TriggerName(trigger));
        return activity;
    }

    /// <summary>Ends a run's span with its outcome.</summary>
    public static void EndRun(Activity? activity, long? runId, RunOutcome outcome, RunFailure? failure)
    {
        if (activity is null)
        {
            return;
        }

        if (runId is { } id)
        {
            activity.SetTag(RunIdTag, id);
        }

        activity.SetTag(OutcomeTag, OutcomeName(outcome));
        if (failure is not null)
        {
            // The side and whether a retry helps, not the reason: a source's error text may quote its data.
            activity.SetStatus(ActivityStatusCode.Error, failure.Side.ToString());
            activity.SetTag("failure.side", failure.Side.ToString());
            activity.SetTag("failure.retryable", failure.Retryable);
        }
    }

    /// <summary>Starts a child span of the current run: <c>hub.sync.page.pull</c> or <c>hub.sync.page.store</c>.</summary>
    public static Activity? StartStep(string name, string connectorId)
    {
        var activity = Source.StartActivity(name);
        activity?.SetTag(ConnectorTag, connectorId);
        return activity;
    }

    /// <summary>The span name of a page pull.</summary>
    public const string PagePull = "hub.sync.page.pull";

    /// <summary>The span name of a store write.</summary>
    public const string PageStore = "hub.sync.page.store";

    private static string OutcomeName(RunOutcome outcome) => outcome switch
    {
        RunOutcome.Succeeded => "succeeded",
        RunOutcome.Failed => "failed",
        RunOutcome.Skipped => "skipped",
        RunOutcome.Running => "running",
        _ => "abandoned",
    };

    private static string TriggerName(SyncTrigger trigger) => trigger switch
    {
        SyncTrigger.Schedule => "schedule",
        SyncTrigger.Manual => "manual",
        SyncTrigger.Reprocess => "reprocess",
        SyncTrigger.Backfill => "backfill",
        _ => "push",
    };
}
