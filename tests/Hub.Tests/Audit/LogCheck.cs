using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Hub.Core.Audit;
using Hub.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hub.Tests.Audit;

/// <summary>What the end-to-end tests check of the exchange log: its entries, their payloads, and that the whole log seals and verifies.</summary>
public static class LogCheck
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>The entries matching <paramref name="search"/>, oldest first.</summary>
    public static async Task<List<ExchangeEntry>> EntriesAsync(NpgsqlDataSource db, ExchangeSearch search)
    {
        var entries = await new ExchangeLog(db, TimeProvider.System).SearchAsync(search with { Limit = 10_000 }, None);
        Assert.True(entries.Count < 10_000, "More entries than one search returns: narrow the test's search.");
        return [.. entries.OrderBy(e => e.Id)];
    }

    /// <summary>The entries of a connector, oldest first.</summary>
    public static Task<List<ExchangeEntry>> EntriesAsync(NpgsqlDataSource db, string connectorId) =>
        EntriesAsync(db, new ExchangeSearch { ConnectorId = connectorId });

    /// <summary>An entry's payload bytes, as stored.</summary>
    public static async Task<byte[]> PayloadAsync(NpgsqlDataSource db, ExchangeEntry entry) =>
        await new ExchangeLog(db, TimeProvider.System).PayloadAsync(entry, None)
        ?? throw new Xunit.Sdk.XunitException($"Entry {entry.Id} has no payload.");

    /// <summary>The SHA-256 of an entry's payload as stored, lower-case hex.</summary>
    public static string Digest(ExchangeEntry entry) => Convert.ToHexStringLower(entry.PayloadSha256!);

    /// <summary>Lower-case hex SHA-256 of bytes.</summary>
    public static string Digest(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Counts the entries of a schema.</summary>
    public static async Task<long> CountAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand("select count(*) from exchange_entry");
        return (long)(await command.ExecuteScalarAsync(None))!;
    }

    /// <summary>
    /// Seals everything waiting with the tests' certificate and verifies the whole log: valid, and every entry written is
    /// a verified leaf.
    /// </summary>
    public static async Task SealAndVerifyAsync(NpgsqlDataSource db)
    {
        await new ExchangeSealer(db, TestSigning.Hub, TimeProvider.System, NullLogger<ExchangeSealer>.Instance).SealAsync(evenIfEmpty: false, None);
        var result = await new ExchangeVerifier(db).VerifyAsync([TestSigning.Hub.Certificate], null, null, None);
        Assert.True(result.Valid, $"The exchange log does not verify: {result.FirstProblem}");
        Assert.Equal(0, result.Unsealed);
        Assert.Equal(await CountAsync(db), result.EntriesVerified);
    }

    /// <summary>The same through a running hub's API: seal now, then verify the whole log.</summary>
    public static async Task SealAndVerifyAsync(HttpClient hub, NpgsqlDataSource db)
    {
        (await hub.PostAsync("/api/exchange/checkpoints", null)).EnsureSuccessStatusCode();
        var reply = await hub.PostAsync("/api/exchange/verify", null);
        reply.EnsureSuccessStatusCode();
        var result = await reply.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(result.GetProperty("valid").GetBoolean(), $"The exchange log does not verify: {result}");
        Assert.Equal(0, result.GetProperty("unsealed").GetInt64());
        Assert.Equal(await CountAsync(db), result.GetProperty("entriesVerified").GetInt64());
    }
}
