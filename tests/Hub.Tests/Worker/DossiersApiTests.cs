using System.Net;
using System.Text.Json;
using Hub.Contracts;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Worker;

/// <summary>The dossier API of a real hub process, on a schema of the test server given by ConnectionStrings:Hub.</summary>
public sealed class DossiersApiTests : IAsyncLifetime
{
    private NpgsqlDataSource _db = null!;
    private HubProcess _hub = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateSchemaAsync("api");
        _hub = HubProcess.Start(Path.GetTempPath(), new Dictionary<string, string> { ["ConnectionStrings__Hub"] = _db.ConnectionString });
        await _hub.WaitReadyAsync(TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task An_unknown_dossier_code_gets_404_with_a_problem_body_naming_the_code()
    {
        using var response = await _hub.Client.GetAsync("/api/dossiers/G09.20-20260609-0000000");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Dossier not found", body.RootElement.GetProperty("title").GetString());
        Assert.Contains("G09.20-20260609-0000000", body.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dossier_reads_with_its_history_classified_its_steps_and_its_on_time_verdict()
    {
        var store = Changes.Store(_db);
        await store.WriteAsync(new ChangeBatch
        {
            Dossiers =
            [
                Changes.Change("H56", "API1", 0, NationalStatus.Received),
                Changes.Change("H56", "API1", 60, NationalStatus.Processing),
                Changes.Change("H56", "API1", 120, NationalStatus.Resolved),
                Changes.Change("H56", "API1", 180, NationalStatus.ResultReturned),
                Changes.Change("H56", "API1", 240, NationalStatus.Processing), // result cancelled: 10→4
                Changes.Change("H56", "API1", 300, NationalStatus.Resolved),
            ],
            Steps = [Changes.Step("H56", "API1", 60, NationalStatus.Processing, "Thẩm định hồ sơ")],
        }, CancellationToken.None);

        using var response = await _hub.Client.GetAsync("/api/dossiers/H56-API1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        Assert.Equal(9, root.GetProperty("current").GetProperty("status").GetInt32());
        Assert.Equal("2025-11-17T13:00:00+07:00", root.GetProperty("current").GetProperty("eventTime").GetString());
        Assert.Equal(
            ["Expected", "Expected", "Expected", "Expected", "Correction", "Expected"],
            root.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("transition").GetString()));
        Assert.Equal("Thẩm định hồ sơ", root.GetProperty("steps")[0].GetProperty("action").GetString());
        Assert.Equal("OnTime", root.GetProperty("onTime").GetProperty("outcome").GetString());
    }
}
