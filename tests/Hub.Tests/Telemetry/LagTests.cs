using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Hub.Connectors;
using Hub.Tests.Infrastructure;
using Hub.Tests.Sync;
using Hub.Worker.Sync;
using Hub.Worker.Telemetry;
using Npgsql;

namespace Hub.Tests.Telemetry;

/// <summary>What the ingest path keeps for telemetry: the newest stored source event time (the lag gauge's source) and the record and change counters.</summary>
public class LagTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static RawRecord Raw(string json) => new(RawRecordKind.Dossier, JsonDocument.Parse(json).RootElement.Clone());

    private static async Task<DateTimeOffset?> NewestAsync(NpgsqlDataSource db, string connectorId)
    {
        await using var command = db.CreateCommand("select newest_event_at from connector where id = $1");
        command.Parameters.Add(new() { Value = connectorId });
        var value = await command.ExecuteScalarAsync();
        return value is DBNull or null ? null : new DateTimeOffset((DateTime)value, TimeSpan.Zero);
    }

    [Fact]
    public async Task Newest_event_time_moves_forward_with_stored_changes_and_never_back_for_older_or_quarantined_ones()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("lag_newest");
        using var hub = new SyncHarness(db, new ScriptedPullKind());
        var connector = SyncHarness.Scripted("lag", "lag");
        await hub.Catalog.SaveAsync(connector, None);
        var mapper = hub.Runner.MapperFor(connector);
        var at = (int minute) => new DateTimeOffset(2025, 11, 17, 8, 0, 0, TimeSpan.FromHours(7)).AddMinutes(minute);
        Assert.Null(await NewestAsync(db, connector.Id));

        await hub.Ingest.StoreAsync(connector, mapper, [Raw(SyncHarness.Record("A", 10, 2)), Raw(SyncHarness.Record("B", 30, 2))], IngestLedger.Push, None);
        Assert.Equal(at(30), await NewestAsync(db, connector.Id));

        // An older change arriving late, and a newer record that is quarantined (unmapped code 99), leave it where it is.
        await hub.Ingest.StoreAsync(connector, mapper, [Raw(SyncHarness.Record("A", 20, 4)), Raw(SyncHarness.Record("C", 90, 99))], IngestLedger.Push, None);
        Assert.Equal(at(30), await NewestAsync(db, connector.Id));

        await hub.Ingest.StoreAsync(connector, mapper, [Raw(SyncHarness.Record("B", 45, 4))], IngestLedger.Push, None);
        Assert.Equal(at(45), await NewestAsync(db, connector.Id));
    }

    [Fact]
    public async Task Pushed_records_and_their_stored_changes_are_counted_once_committed()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("lag_counted");
        using var hub = new SyncHarness(db, new ScriptedPullKind());
        var connector = SyncHarness.Scripted("counted", "counted");
        await hub.Catalog.SaveAsync(connector, None);
        var counted = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == HubTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == HubTelemetry.ConnectorTag && Equals(tag.Value, connector.Id))
                {
                    counted.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
                }
            }
        });
        listener.Start();

        // Three records: two changes stored, one quarantined (unmapped code 99); then one resent change, stored before.
        var mapper = hub.Runner.MapperFor(connector);
        await hub.Ingest.StoreAsync(connector, mapper,
            [Raw(SyncHarness.Record("A", 1, 2)), Raw(SyncHarness.Record("B", 2, 2)), Raw(SyncHarness.Record("C", 3, 99))], IngestLedger.Push, None);
        await hub.Ingest.StoreAsync(connector, mapper, [Raw(SyncHarness.Record("A", 1, 2))], IngestLedger.Push, None);

        Assert.Equal(4, counted.GetValueOrDefault("hub.sync.records"));
        Assert.Equal(2, counted.GetValueOrDefault("hub.sync.changes"));
    }
}
