using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Contracts;
using Hub.Tests.Infrastructure;
using Hub.Tests.Registration;

namespace Hub.Tests.Api;

/// <summary><c>GET /api/indicators</c> over real HTTP: operators and auditors see every agency, a province-admin only its own.</summary>
public sealed class IndicatorsApiTests(RegistrationApiHub hub) : IClassFixture<RegistrationApiHub>
{
    private static readonly DateTimeOffset T = new(2026, 3, 2, 8, 0, 0, TimeSpan.FromHours(7));

    /// <summary>Registers a connector of <paramref name="agency"/> through the API and stores two dossiers of its source system.</summary>
    private async Task<string> AgencyWithDossiersAsync(HttpClient operatorClient, string agency)
    {
        var registration = ConnectorValidationApiTests.ValidRegistration();
        var source = registration["id"]!.GetValue<string>() + "-src";
        registration["agency"] = agency;
        registration["sourceSystem"] = source;
        using var created = await operatorClient.PostAsJsonAsync("/api/connectors", registration);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        DossierChange Change(string id, int hours, NationalStatus status, Channel channel) => new()
        {
            SourceSystem = source,
            NativeId = id,
            DossierCode = $"{source}-{id}",
            EventTime = T.AddHours(hours),
            Status = status,
            ProcedureBaseCode = "1.000001",
            Channel = channel,
            ReceivedAt = T,
            DueAt = T.AddDays(1),
        };
        var result = await Changes.Store(hub.Db).WriteAsync(new ChangeBatch
        {
            Dossiers = [Change("1", 0, NationalStatus.Received, Channel.Online), Change("1", 5, NationalStatus.Resolved, Channel.Online),
                        Change("2", 0, NationalStatus.Received, Channel.InPerson), Change("2", 50, NationalStatus.Resolved, Channel.InPerson)],
        }, CancellationToken.None);
        Assert.Empty(result.Rejected);
        return source;
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task Operators_and_auditors_see_every_agency_a_province_admin_only_its_own_and_bad_queries_are_400()
    {
        using var operatorClient = await hub.WithRolesAsync("operator");
        using var auditor = await hub.WithRolesAsync("auditor");
        using var admin = await hub.WithRolesAsync("admin");
        var (h64, _) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H64" });
        using var _1 = h64;
        await AgencyWithDossiersAsync(operatorClient, "H64");
        await AgencyWithDossiersAsync(operatorClient, "H65");

        var all = await JsonAsync(await operatorClient.GetAsync("/api/indicators"), HttpStatusCode.OK);
        var audited = await JsonAsync(await auditor.GetAsync("/api/indicators?by=procedure"), HttpStatusCode.OK);
        var own = await JsonAsync(await h64.GetAsync("/api/indicators"), HttpStatusCode.OK);
        var other = await JsonAsync(await h64.GetAsync("/api/indicators?agency=H65"), HttpStatusCode.Forbidden);
        var notAllowed = await JsonAsync(await admin.GetAsync("/api/indicators"), HttpStatusCode.Forbidden);
        var badGrouping = await JsonAsync(await operatorClient.GetAsync("/api/indicators?by=province"), HttpStatusCode.BadRequest);
        var badAgency = await JsonAsync(await operatorClient.GetAsync("/api/indicators?agency=h64"), HttpStatusCode.BadRequest);

        var agencies = all.EnumerateArray().Select(r => r.GetProperty("agency").GetString()).ToList();
        Assert.Contains("H64", agencies);
        Assert.Contains("H65", agencies);
        var h64Row = all.EnumerateArray().Single(r => r.GetProperty("agency").GetString() == "H64");
        // One finished in 5 h against a day, one in 50 h: on time 1 of 2; one of two online.
        Assert.Equal((2, 1, 1, 0.5, 0.5), (h64Row.GetProperty("dossiers").GetInt32(), h64Row.GetProperty("onTime").GetInt32(),
            h64Row.GetProperty("overdue").GetInt32(), h64Row.GetProperty("onTimeRate").GetDouble(), h64Row.GetProperty("onlineShare").GetDouble()));
        Assert.Contains(audited.EnumerateArray(), r => r.GetProperty("agency").GetString() == "H65" && r.GetProperty("procedure").GetString() == "1.000001");
        Assert.Equal(["H64"], own.EnumerateArray().Select(r => r.GetProperty("agency").GetString()));
        Assert.Contains("You do not maintain agency 'H65'", other.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("may not GET /api/indicators", notAllowed.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("'by' is 'province'", badGrouping.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("'agency' is 'h64'", badAgency.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
