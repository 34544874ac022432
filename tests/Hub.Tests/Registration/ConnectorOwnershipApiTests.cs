using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Core.Audit;

namespace Hub.Tests.Registration;

/// <summary>
/// Connector registration over real HTTP against a real hub and PostgreSQL: each agency's province-admins maintain their
/// own connectors and cannot reach another agency's; operators approve; auditors write nothing; every step is logged
/// with who and why, and every refusal is a problem-details body that says why.
/// </summary>
public sealed class ConnectorOwnershipApiTests(RegistrationApiHub hub) : IClassFixture<RegistrationApiHub>
{
    private static string Tag() => Guid.NewGuid().ToString("N")[..8];

    /// <summary>A valid registration of agency <paramref name="agency"/> with its own id and source system.</summary>
    private static JsonObject Registration(string agency, string? id = null)
    {
        var registration = ConnectorValidationApiTests.ValidRegistration(id ?? $"{agency.ToLowerInvariant().Replace('.', '-')}-own-{Tag()}");
        registration["agency"] = agency;
        registration["sourceSystem"] = registration["id"]!.GetValue<string>() + "-src";
        return registration;
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        return problem;
    }

    private static async Task<JsonElement> OkAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private static Task<HttpResponseMessage> Step(HttpClient client, string id, string step, string? reason = "test") =>
        client.PostAsync($"/api/connectors/{id}/lifecycle/{step}" + (reason is null ? "" : "?reason=" + Uri.EscapeDataString(reason)), null);

    private async Task<List<ExchangeEntry>> AdminEntriesAsync(string connectorId) =>
        [.. (await new ExchangeLog(hub.Db, TimeProvider.System).SearchAsync(
            new ExchangeSearch { Kind = ExchangeRecord.AdminKind, ConnectorId = connectorId, Limit = 1000 }, CancellationToken.None)).OrderBy(e => e.Id)];

    /// <summary>Every route that reads or acts on one connector, as another agency's province-admin would call it.</summary>
    public static TheoryData<string, string> ConnectorRoutes => new()
    {
        { "GET", "" },
        { "PUT", "" },
        { "DELETE", "?reason=r" },
        { "POST", "/lifecycle/submit?reason=r" },
        { "POST", "/lifecycle/retire?reason=r" },
        { "GET", "/mappings" },
        { "GET", "/runs" },
        { "POST", "/sync" },
        { "POST", "/check" },
        { "POST", "/preview" },
        { "GET", "/quarantine" },
        { "POST", "/quarantine/reprocess" },
    };

    [Theory]
    [MemberData(nameof(ConnectorRoutes))]
    public async Task A_province_admin_cannot_reach_another_agencys_connector_by_any_route(string method, string route)
    {
        var (h56, _) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H56" });
        var (h57, _) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H57" });
        using var _1 = h56;
        using var _2 = h57;
        var registration = Registration("H56");
        var id = registration["id"]!.GetValue<string>();
        await OkAsync(await h56.PostAsJsonAsync("/api/connectors", registration), HttpStatusCode.Created);
        await OkAsync(await h56.SendAsync(new HttpRequestMessage(HttpMethod.Post, $"/api/connectors/{id}/lifecycle/submit?reason=ready")));

        using var request = new HttpRequestMessage(new HttpMethod(method), $"/api/connectors/{id}{route}");
        if (method == "PUT")
        {
            var changed = Registration("H57", id);
            request.Content = JsonContent.Create(changed);
        }

        using var response = await h57.SendAsync(request);

        // Answered as if it did not exist, with a body that says why; and nothing changed.
        var detail = (await ProblemAsync(response, HttpStatusCode.NotFound)).GetProperty("detail").GetString();
        Assert.Contains($"No connector with id '{id}' is registered to an agency you maintain", detail, StringComparison.Ordinal);
        var own = await OkAsync(await h56.GetAsync($"/api/connectors/{id}"));
        Assert.Equal(("H56", "submitted"), (own.GetProperty("agency").GetString(), own.GetProperty("lifecycle").GetString()));
        Assert.Equal(["connector.registered", "connector.submitted"], (await AdminEntriesAsync(id)).Select(e => e.Action));
    }

    [Fact]
    public async Task A_province_admin_lists_only_its_agencies_connectors_and_registers_only_for_them()
    {
        var (h56, h56Id) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H56" });
        var (h57, _) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H57" });
        using var operatorClient = await hub.WithRolesAsync("operator");
        using var _1 = h56;
        using var _2 = h57;
        var mine = Registration("H56");
        var unit = Registration("H56.10");
        var theirs = Registration("H57");

        var created = await OkAsync(await h56.PostAsJsonAsync("/api/connectors", mine), HttpStatusCode.Created);
        // Agency codes are opaque: a grant for H56 is for H56 only, not H56.10 nor another code that starts alike.
        var forUnit = await ProblemAsync(await h56.PostAsJsonAsync("/api/connectors", unit), HttpStatusCode.Forbidden);
        await OkAsync(await h57.PostAsJsonAsync("/api/connectors", theirs), HttpStatusCode.Created);
        var forOther = await ProblemAsync(await h56.PostAsJsonAsync("/api/connectors", Registration("H57")), HttpStatusCode.Forbidden);
        var lookAlike = await ProblemAsync(await h56.PostAsJsonAsync("/api/connectors", Registration("H567")), HttpStatusCode.Forbidden);
        var central = Registration("H56");
        central.Remove("agency");
        var forCentral = await ProblemAsync(await h56.PostAsJsonAsync("/api/connectors", central), HttpStatusCode.Forbidden);
        // Moving one's own connector to another agency is also refused.
        var moved = Registration("H57", mine["id"]!.GetValue<string>());
        var move = await ProblemAsync(await h56.PutAsJsonAsync($"/api/connectors/{mine["id"]}", moved), HttpStatusCode.Forbidden);
        // A source system's dossiers have one owner: another agency cannot connect it too.
        var sameSource = Registration("H57");
        sameSource["sourceSystem"] = mine["sourceSystem"]!.GetValue<string>();
        var taken = await ProblemAsync(await h57.PostAsJsonAsync("/api/connectors", sameSource), HttpStatusCode.Conflict);

        Assert.Equal(("draft", "H56", h56Id), (created.GetProperty("lifecycle").GetString(), created.GetProperty("agency").GetString(), created.GetProperty("lifecycleChangedBy").GetString()));
        Assert.False(created.TryGetProperty("configuration", out _));
        Assert.Contains("You do not maintain agency 'H57'", forOther.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("You do not maintain agency 'H567'", lookAlike.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("You do not maintain agency 'H56.10'", forUnit.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("only operators maintain it", forCentral.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("You do not maintain agency 'H57'", move.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("is connected by a connector of another agency", taken.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var listedViews = (await OkAsync(await h56.GetAsync("/api/connectors"))).EnumerateArray().ToList();
        var listed = listedViews.Select(c => c.GetProperty("id").GetString()).ToList();
        Assert.Contains(mine["id"]!.GetValue<string>(), listed);
        Assert.DoesNotContain(unit["id"]!.GetValue<string>(), listed);
        Assert.DoesNotContain(theirs["id"]!.GetValue<string>(), listed);
        Assert.All(listedViews, c => Assert.Equal("H56", c.GetProperty("agency").GetString()));
        var all = (await OkAsync(await operatorClient.GetAsync("/api/connectors"))).EnumerateArray().Select(c => c.GetProperty("id").GetString()).ToList();
        Assert.Contains(theirs["id"]!.GetValue<string>(), all);
        Assert.Contains(mine["id"]!.GetValue<string>(), all);
    }

    [Fact]
    public async Task A_connector_goes_from_draft_to_retired_each_step_with_a_reason_approval_by_an_operator_all_logged()
    {
        var (owner, ownerId) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H58" });
        var (approver, approverId) = await hub.WithGrantsAsync(new { role = "operator" });
        using var _1 = owner;
        using var _2 = approver;
        var registration = Registration("H58");
        var id = registration["id"]!.GetValue<string>();
        await OkAsync(await owner.PostAsJsonAsync("/api/connectors?reason=new+vendor+system", registration), HttpStatusCode.Created);

        var draftSync = await ProblemAsync(await owner.PostAsync($"/api/connectors/{id}/sync", null), HttpStatusCode.Conflict);
        var noReason = await ProblemAsync(await Step(owner, id, "submit", reason: null), HttpStatusCode.BadRequest);
        var wrongStep = await ProblemAsync(await Step(owner, id, "activate"), HttpStatusCode.Conflict);
        var unknownStep = await ProblemAsync(await Step(owner, id, "launch"), HttpStatusCode.NotFound);
        await OkAsync(await Step(owner, id, "submit", "ready for review"));
        var selfApproval = await ProblemAsync(await Step(owner, id, "approve", "looks fine"), HttpStatusCode.Forbidden);
        var approved = await OkAsync(await Step(approver, id, "approve", "checked the preview"));
        var active = await OkAsync(await Step(owner, id, "activate", "go live"));
        var paused = await OkAsync(await Step(owner, id, "pause", "vendor maintenance"));
        var pausedSync = await ProblemAsync(await owner.PostAsync($"/api/connectors/{id}/sync", null), HttpStatusCode.Conflict);
        await OkAsync(await Step(approver, id, "resume", "maintenance over"));
        var retired = await OkAsync(await Step(owner, id, "retire", "replaced by the new system"));
        var changeRetired = await ProblemAsync(await owner.PutAsJsonAsync($"/api/connectors/{id}", registration), HttpStatusCode.Conflict);
        var stepRetired = await ProblemAsync(await Step(owner, id, "resume"), HttpStatusCode.Conflict);

        Assert.Contains("only an active connector syncs", draftSync.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("needs a reason", noReason.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("is draft: 'activate' applies to a connector that is approved", wrongStep.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("submit, return, approve, activate, pause, resume, retire", unknownStep.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("Only an operator may approve", selfApproval.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(("approved", approverId, "checked the preview"), (approved.GetProperty("lifecycle").GetString(), approved.GetProperty("lifecycleChangedBy").GetString(), approved.GetProperty("lifecycleReason").GetString()));
        Assert.Equal(("active", true), (active.GetProperty("lifecycle").GetString(), active.GetProperty("active").GetBoolean()));
        Assert.Equal(("paused", false), (paused.GetProperty("lifecycle").GetString(), paused.GetProperty("active").GetBoolean()));
        Assert.Contains("only an active connector syncs", pausedSync.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(("retired", false), (retired.GetProperty("lifecycle").GetString(), retired.GetProperty("active").GetBoolean()));
        Assert.Contains("is retired and can no longer be changed", changeRetired.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("is retired: 'resume' applies to a connector that is paused", stepRetired.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var entries = await AdminEntriesAsync(id);
        Assert.Equal(
            [
                ("connector.registered", ownerId, "new vendor system"),
                ("connector.submitted", ownerId, "ready for review"),
                ("connector.approved", approverId, "checked the preview"),
                ("connector.activated", ownerId, "go live"),
                ("connector.paused", ownerId, "vendor maintenance"),
                ("connector.resumed", approverId, "maintenance over"),
                ("connector.retired", ownerId, "replaced by the new system"),
            ],
            entries.Select(e => (e.Action!, e.Actor!, e.Reason!)));
        Assert.All(entries.Skip(1), e => Assert.Matches("^\\{\"from\":\"[a-z]+\",\"to\":\"[a-z]+\"\\}$", e.Detail!));
        Assert.All(entries, e => Assert.DoesNotContain("simulator-secret", e.Detail ?? "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_operator_who_submitted_a_connector_cannot_approve_it_and_a_returned_one_is_a_draft_again()
    {
        var (first, firstId) = await hub.WithGrantsAsync(new { role = "operator" });
        var (second, _) = await hub.WithGrantsAsync(new { role = "operator" });
        using var _1 = first;
        using var _2 = second;
        var registration = Registration("H59");
        var id = registration["id"]!.GetValue<string>();
        await OkAsync(await first.PostAsJsonAsync("/api/connectors", registration), HttpStatusCode.Created);
        await OkAsync(await Step(first, id, "submit"));

        var own = await ProblemAsync(await Step(first, id, "approve"), HttpStatusCode.Forbidden);
        var returned = await OkAsync(await Step(second, id, "return", "the cursor field is wrong"));

        Assert.Contains($"'{firstId}' submitted connector '{id}'; another operator must approve it", own.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(("draft", "the cursor field is wrong"), (returned.GetProperty("lifecycle").GetString(), returned.GetProperty("lifecycleReason").GetString()));
    }

    [Fact]
    public async Task Changes_are_validated_mappings_are_versioned_and_a_reviewed_connector_that_changes_returns_to_draft()
    {
        var (owner, ownerId) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H60" });
        using var _ = owner;
        var registration = Registration("H60");
        var id = registration["id"]!.GetValue<string>();
        await OkAsync(await owner.PostAsJsonAsync("/api/connectors", registration), HttpStatusCode.Created);
        await OkAsync(await Step(owner, id, "submit"));

        // Same version, other content: refused, nothing changed.
        var sameVersion = JsonNode.Parse(registration.ToJsonString())!.AsObject();
        sameVersion["mapping"]!["statusCodes"]!["99"] = 4;
        var conflict = await ProblemAsync(await owner.PutAsJsonAsync($"/api/connectors/{id}", sameVersion), HttpStatusCode.Conflict);
        // A new version: saved and kept next to the first; the submitted connector goes back to draft.
        var newVersion = JsonNode.Parse(sameVersion.ToJsonString())!.AsObject();
        newVersion["mapping"]!["version"] = "sim-vendor/2";
        var updated = await OkAsync(await owner.PutAsJsonAsync($"/api/connectors/{id}?reason=code+99+is+being+processed", newVersion));
        var unchanged = await OkAsync(await owner.PutAsJsonAsync($"/api/connectors/{id}", newVersion));
        // Bad bodies: field errors; a different id; 'active' is the lifecycle's.
        var invalid = JsonNode.Parse(newVersion.ToJsonString())!.AsObject();
        invalid["schedule"] = "every minute";
        var badSchedule = await ProblemAsync(await owner.PutAsJsonAsync($"/api/connectors/{id}", invalid), HttpStatusCode.UnprocessableEntity);
        var otherId = JsonNode.Parse(newVersion.ToJsonString())!.AsObject();
        otherId["id"] = "h60-other";
        var renamed = await ProblemAsync(await owner.PutAsJsonAsync($"/api/connectors/{id}", otherId), HttpStatusCode.UnprocessableEntity);
        var withActive = JsonNode.Parse(newVersion.ToJsonString())!.AsObject();
        withActive["active"] = true;
        var activeField = await ProblemAsync(await owner.PutAsJsonAsync($"/api/connectors/{id}", withActive), HttpStatusCode.UnprocessableEntity);
        var versions = await OkAsync(await owner.GetAsync($"/api/connectors/{id}/mappings"));

        Assert.Contains("Mapping version 'sim-vendor/1'", conflict.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(["mapping.changed", "connector.returned"], updated.GetProperty("actions").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(("draft", "sim-vendor/2"), (updated.GetProperty("connector").GetProperty("lifecycle").GetString(), updated.GetProperty("connector").GetProperty("mappingVersion").GetString()));
        Assert.Empty(unchanged.GetProperty("actions").EnumerateArray());
        Assert.Equal("schedule", badSchedule.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal("id", renamed.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal("active", activeField.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal(
            [("sim-vendor/2", true, ownerId, "code 99 is being processed"), ("sim-vendor/1", false, ownerId, null)],
            versions.EnumerateArray().Select(v => (v.GetProperty("version").GetString(), v.GetProperty("current").GetBoolean(), v.GetProperty("createdBy").GetString(), v.GetProperty("reason").GetString())));
        Assert.Equal(4, versions[0].GetProperty("mapping").GetProperty("statusCodes").GetProperty("99").GetInt32());
        Assert.Equal(
            ["connector.registered", "connector.submitted", "mapping.changed", "connector.returned"],
            (await AdminEntriesAsync(id)).Select(e => e.Action));
    }

    [Fact]
    public async Task A_connector_that_never_ran_is_deleted_one_with_history_is_retired_instead()
    {
        var (owner, ownerId) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H61" });
        var (approver, _) = await hub.WithGrantsAsync(new { role = "operator" });
        using var _1 = owner;
        using var _2 = approver;
        var draft = Registration("H61");
        var ran = Registration("H61");
        var draftId = draft["id"]!.GetValue<string>();
        var ranId = ran["id"]!.GetValue<string>();
        await OkAsync(await owner.PostAsJsonAsync("/api/connectors", draft), HttpStatusCode.Created);
        await OkAsync(await owner.PostAsJsonAsync("/api/connectors", ran), HttpStatusCode.Created);
        foreach (var (client, step) in new[] { (owner, "submit"), (approver, "approve"), (owner, "activate") })
        {
            await OkAsync(await Step(client, ranId, step));
        }

        // Its source (port 9) refuses connections: the run fails, but it is a run.
        await OkAsync(await owner.PostAsync($"/api/connectors/{ranId}/sync", null), HttpStatusCode.Accepted);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while ((await OkAsync(await owner.GetAsync($"/api/connectors/{ranId}/runs"))).GetArrayLength() == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The sync never started.");
            await Task.Delay(250);
        }

        var deleted = await owner.DeleteAsync($"/api/connectors/{draftId}?reason=created+by+mistake");
        var gone = await ProblemAsync(await owner.GetAsync($"/api/connectors/{draftId}"), HttpStatusCode.NotFound);
        var activeDelete = await ProblemAsync(await owner.DeleteAsync($"/api/connectors/{ranId}?reason=r"), HttpStatusCode.Conflict);
        await OkAsync(await Step(owner, ranId, "retire", "replaced"));
        var historyDelete = await ProblemAsync(await owner.DeleteAsync($"/api/connectors/{ranId}?reason=r"), HttpStatusCode.Conflict);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.NotNull(gone.GetProperty("detail").GetString());
        Assert.Contains("is active: retire it instead of deleting it", activeDelete.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("has run before: retire it instead", historyDelete.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var deletion = (await AdminEntriesAsync(draftId)).Last();
        Assert.Equal(("connector.deleted", ownerId, "created by mistake"), (deletion.Action, deletion.Actor, deletion.Reason));
        Assert.Equal("retired", (await OkAsync(await owner.GetAsync($"/api/connectors/{ranId}"))).GetProperty("lifecycle").GetString());
    }

    [Fact]
    public async Task Auditors_and_admins_register_nothing_and_province_admins_read_no_payload_or_log()
    {
        using var auditor = await hub.WithRolesAsync("auditor");
        using var admin = await hub.WithRolesAsync("admin");
        var (h56, h56Id) = await hub.WithGrantsAsync(new { role = "province-admin", agency = "H56" });
        using var _ = h56;
        var registration = Registration("H56");
        var id = registration["id"]!.GetValue<string>();
        await OkAsync(await h56.PostAsJsonAsync("/api/connectors", registration), HttpStatusCode.Created);
        var entry = (await AdminEntriesAsync(id)).Single();

        var refusals = new List<(HttpClient Client, HttpMethod Method, string Path)>
        {
            (auditor, HttpMethod.Post, "/api/connectors"),
            (auditor, HttpMethod.Put, $"/api/connectors/{id}"),
            (auditor, HttpMethod.Delete, $"/api/connectors/{id}?reason=r"),
            (auditor, HttpMethod.Post, $"/api/connectors/{id}/lifecycle/retire?reason=r"),
            (auditor, HttpMethod.Post, $"/api/connectors/{id}/sync"),
            (auditor, HttpMethod.Post, "/api/connectors/validate"),
            (admin, HttpMethod.Post, "/api/connectors"),
            (admin, HttpMethod.Get, $"/api/connectors/{id}"),
            (h56, HttpMethod.Get, $"/api/exchange/{entry.Id}/payload"),
            (h56, HttpMethod.Get, $"/api/exchange/{entry.Id}"),
            (h56, HttpMethod.Get, "/api/exchange?limit=1"),
            (h56, HttpMethod.Get, "/api/exchange/evidence?dossier=x"),
        };
        foreach (var (client, method, path) in refusals)
        {
            using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Get ? null : JsonContent.Create(registration) };
            var detail = (await ProblemAsync(await client.SendAsync(request), HttpStatusCode.Forbidden)).GetProperty("detail").GetString();
            Assert.Contains($"may not {method} {path.Split('?')[0]}", detail, StringComparison.Ordinal);
        }

        Assert.Contains(h56Id, (await ProblemAsync(await h56.GetAsync($"/api/exchange/{entry.Id}/payload"), HttpStatusCode.Forbidden)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Single(await AdminEntriesAsync(id));
    }
}
