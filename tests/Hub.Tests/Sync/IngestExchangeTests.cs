using System.Text;
using System.Text.Json;
using Hub.Connectors;
using Hub.Core.Audit;
using Hub.Core.Sync;
using Hub.Tests.Infrastructure;
using Hub.Worker.Sync;

namespace Hub.Tests.Sync;

/// <summary>The message that brought records is logged in the transaction that stores them, with what the hub made of it.</summary>
public class IngestExchangeTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static RawRecord Raw(string json) => new(RawRecordKind.Dossier, JsonDocument.Parse(json).RootElement.Clone());

    private static ExchangeRecord Inbound(string body) => new()
    {
        Kind = ExchangeRecord.MessageKind,
        Transport = "json-webhook",
        ReceivedAt = DateTimeOffset.UtcNow,
        ContentType = "application/json",
        Payload = Encoding.UTF8.GetBytes(body),
        Outcome = "stored",
    };

    [Fact]
    public async Task The_message_is_logged_with_the_dossiers_it_touched_its_mapping_version_and_what_was_quarantined()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("ingest_exchange");
        using var hub = new SyncHarness(db, new ScriptedPullKind());
        var connector = SyncHarness.Scripted("ix", "ix");
        await hub.Catalog.SaveAsync(connector, None);
        var records = new[] { SyncHarness.Record("A", 1, 2), SyncHarness.Record("B", 2, 3), SyncHarness.Record("U", 3, 99) };
        var body = "[" + string.Join(",", records) + "]";

        var result = await hub.Ingest.StoreAsync(
            connector, hub.Runner.MapperFor(connector), [.. records.Select(Raw)], IngestLedger.Push with { Message = Inbound(body) }, None);

        Assert.Equal(2, result.Counts.ChangesStored);
        var log = new ExchangeLog(db, TimeProvider.System);
        var entry = Assert.Single(await log.SearchAsync(new ExchangeSearch { ConnectorId = "ix" }, None));
        Assert.Equal(("message", "inbound", "json-webhook", "stored"), (entry.Kind, entry.Direction, entry.Transport, entry.Outcome));
        Assert.Equal(["C-A", "C-B"], entry.Dossiers);
        Assert.Equal("simple/1", entry.MappingVersion);
        Assert.Equal(body, Encoding.UTF8.GetString((await log.PayloadAsync(entry, None))!));
        using var detail = JsonDocument.Parse(entry.Detail!);
        Assert.Equal(2, detail.RootElement.GetProperty("changesStored").GetInt32());
        var quarantined = Assert.Single(detail.RootElement.GetProperty("quarantined").EnumerateArray());
        Assert.Equal(2, quarantined.GetProperty("index").GetInt32());
        Assert.StartsWith("unmapped code 99", quarantined.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replayed_delivery_rolls_back_its_log_entry_with_its_records()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("ingest_exchange_replay");
        using var hub = new SyncHarness(db, new ScriptedPullKind());
        var connector = SyncHarness.Scripted("iy", "iy");
        await hub.Catalog.SaveAsync(connector, None);
        var record = SyncHarness.Record("A", 1, 2);
        var delivery = new WebhookDelivery(new byte[32], DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);
        var ledger = IngestLedger.Push with { Delivery = delivery, Message = Inbound(record) };

        await hub.Ingest.StoreAsync(connector, hub.Runner.MapperFor(connector), [Raw(record)], ledger, None);
        await Assert.ThrowsAsync<ReplayedDeliveryException>(
            () => hub.Ingest.StoreAsync(connector, hub.Runner.MapperFor(connector), [Raw(record)], ledger, None));

        var log = new ExchangeLog(db, TimeProvider.System);
        Assert.Single(await log.SearchAsync(new ExchangeSearch { ConnectorId = "iy" }, None));
    }
}
