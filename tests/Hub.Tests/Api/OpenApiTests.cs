using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Api;

/// <summary>A real hub process serving its OpenAPI document and UI.</summary>
public sealed class OpenApiHub : IAsyncLifetime
{
    private string _work = "";

    public NpgsqlDataSource Db { get; private set; } = null!;

    public HubProcess Process { get; private set; } = null!;

    public HttpClient Anonymous { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateSchemaAsync("openapi");
        _work = Directory.CreateTempSubdirectory("hub-openapi-").FullName;
        Process = HubProcess.Start(_work, new Dictionary<string, string> { ["ConnectionStrings__Hub"] = Db.ConnectionString });
        await Process.WaitReadyAsync(TimeSpan.FromSeconds(90));
        Anonymous = new HttpClient { BaseAddress = Process.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync()
    {
        Anonymous.Dispose();
        await Process.DisposeAsync();
        await Db.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }
}

/// <summary>The OpenAPI document: served, valid by independent validators, and every operation in it tested.</summary>
public sealed class OpenApiTests(OpenApiHub hub) : IClassFixture<OpenApiHub>
{
    /// <summary>
    /// Every operation of the document and a test (class and method) that calls it over HTTP. A new endpoint fails
    /// <see cref="Every_operation_in_the_document_has_a_test_that_calls_it"/> until it is listed here with its test.
    /// </summary>
    private static readonly Dictionary<string, string> TestedBy = new()
    {
        ["GET /api/connector-kinds"] = "ConnectorValidationApiTests.Kinds_are_listed_with_their_configuration_schema_and_secrets_marked_write_only",
        ["POST /api/connectors/validate"] = "ConnectorValidationApiTests.Bad_registration_is_answered_422_naming_the_field_and_the_problem",
        ["POST /api/connectors/{id}/check"] = "ConnectorProbeApiTests.Check_succeeds_against_the_simulator_and_fails_at_the_stage_that_failed",
        ["POST /api/connectors/{id}/preview"] = "ConnectorProbeApiTests.Preview_of_a_registered_connector_shows_canonical_records_and_mapping_problems_and_changes_nothing_in_the_database",
        ["POST /api/connectors/check"] = "ConnectorProbeApiTests.Preview_and_check_of_a_registration_in_the_body_work_and_register_nothing",
        ["POST /api/connectors/preview"] = "ConnectorProbeApiTests.Preview_and_check_of_a_registration_in_the_body_work_and_register_nothing",
        ["GET /api/connectors"] = "ConnectorsApiTests.Operators_see_connectors_their_runs_and_quarantined_records_with_reasons_but_no_secret_or_payload",
        ["POST /api/connectors"] = "ConnectorOwnershipApiTests.A_province_admin_lists_only_its_agencies_connectors_and_registers_only_for_them",
        ["GET /api/connectors/{id}"] = "ConnectorOwnershipApiTests.A_connector_that_never_ran_is_deleted_one_with_history_is_retired_instead",
        ["PUT /api/connectors/{id}"] = "ConnectorOwnershipApiTests.Changes_are_validated_mappings_are_versioned_and_a_reviewed_connector_that_changes_returns_to_draft",
        ["DELETE /api/connectors/{id}"] = "ConnectorOwnershipApiTests.A_connector_that_never_ran_is_deleted_one_with_history_is_retired_instead",
        ["POST /api/connectors/{id}/lifecycle/{step}"] = "ConnectorOwnershipApiTests.A_connector_goes_from_draft_to_retired_each_step_with_a_reason_approval_by_an_operator_all_logged",
        ["GET /api/connectors/{id}/mappings"] = "ConnectorOwnershipApiTests.Changes_are_validated_mappings_are_versioned_and_a_reviewed_connector_that_changes_returns_to_draft",
        ["GET /api/connectors/freshness"] = "AlertsTests.A_province_admin_sees_only_its_agencies_freshness_and_cannot_reach_another_agencys_windows",
        ["GET /api/connectors/{id}/maintenance"] = "AlertsTests.No_alert_arrives_for_a_connector_inside_its_maintenance_window_and_it_fires_once_the_window_is_cancelled",
        ["POST /api/connectors/{id}/maintenance"] = "AlertsTests.No_alert_arrives_for_a_connector_inside_its_maintenance_window_and_it_fires_once_the_window_is_cancelled",
        ["DELETE /api/connectors/{id}/maintenance/{windowId}"] = "AlertsTests.No_alert_arrives_for_a_connector_inside_its_maintenance_window_and_it_fires_once_the_window_is_cancelled",
        ["GET /api/connectors/{id}/runs"] = "ConnectorsApiTests.Operators_see_connectors_their_runs_and_quarantined_records_with_reasons_but_no_secret_or_payload",
        ["GET /api/connectors/{id}/quarantine"] = "ConnectorsApiTests.Operators_see_connectors_their_runs_and_quarantined_records_with_reasons_but_no_secret_or_payload",
        ["POST /api/connectors/{id}/sync"] = "ApiActionExchangeTests.A_request_is_logged_with_the_actor_the_reason_and_the_job_and_the_reply_names_the_entry",
        ["POST /api/connectors/{id}/backfill"] = "BackfillTests.A_dry_run_counts_the_range_and_stores_nothing_and_the_back_fill_stores_exactly_the_range_without_moving_the_cursor",
        ["POST /api/connectors/{id}/runs/{runId}/retry"] = "BackfillTests.A_failed_sync_and_a_failed_back_fill_are_retried_once_the_source_is_up_the_back_fill_from_where_it_stopped",
        ["POST /api/connectors/{id}/quarantine/reprocess"] = "ApiActionExchangeTests.A_request_is_logged_with_the_actor_the_reason_and_the_job_and_the_reply_names_the_entry",
        ["GET /api/subscriptions"] = "SubscriberDeliveryTests.A_registration_with_mistakes_is_refused_with_every_problem_and_a_stored_secret_is_encrypted_and_never_shown",
        ["PUT /api/subscriptions/{id}"] = "SubscriberDeliveryTests.A_registration_with_mistakes_is_refused_with_every_problem_and_a_stored_secret_is_encrypted_and_never_shown",
        ["GET /api/subscriptions/{id}"] = "SubscriberDeliveryTests.A_failing_subscriber_holds_back_no_other_dead_letters_after_its_budget_and_is_replayed_from_the_list_to_success",
        ["GET /api/subscriptions/{id}/deliveries"] = "SubscriberDeliveryTests.A_failing_subscriber_holds_back_no_other_dead_letters_after_its_budget_and_is_replayed_from_the_list_to_success",
        ["POST /api/subscriptions/{id}/replay"] = "SubscriberDeliveryTests.A_failing_subscriber_holds_back_no_other_dead_letters_after_its_budget_and_is_replayed_from_the_list_to_success",
        ["POST /api/connectors/{id}/webhook"] = "WebhookDeliveryTests.A_signed_batch_to_a_connector_registered_from_a_file_is_stored_and_counted_and_a_re_signed_retry_stores_nothing_twice",
        ["POST /api/connectors/{id}/signed-xml"] = "SignedXmlEndpointTests.A_document_signed_by_xmlsec1_is_stored_logged_and_answered_with_a_receipt_signed_by_the_hub",
        ["GET /api/indicators"] = "IndicatorsApiTests.Operators_and_auditors_see_every_agency_a_province_admin_only_its_own_and_bad_queries_are_400",
        ["GET /api/dossiers/{code}"] = "DossiersApiTests.A_dossier_reads_with_its_history_classified_its_steps_and_its_on_time_verdict",
        ["GET /api/exchange"] = "ExchangeApiTests.Search_filters_by_dossier_connector_and_outcome_newest_first_and_shows_payload_hashes_not_bytes",
        ["GET /api/exchange/{id}"] = "ExchangeApiTests.An_entry_reads_with_its_detail_parsed_its_dossiers_and_whether_it_is_sealed",
        ["GET /api/exchange/{id}/payload"] = "ExchangeApiTests.Reading_a_payload_returns_its_bytes_and_is_itself_logged_with_its_actor",
        ["GET /api/exchange/{id}/proof"] = "ExchangeApiTests.A_proof_leads_from_the_entry_to_the_root_of_a_checkpoint_signed_by_the_hub_certificate",
        ["POST /api/exchange/verify"] = "ExchangeApiTests.Verification_of_the_log_reports_it_valid_and_a_reversed_range_gets_400",
        ["GET /api/exchange/checkpoints"] = "ExchangeApiTests.Checkpoints_are_listed_newest_first_and_each_reads_as_its_signed_XML",
        ["GET /api/exchange/checkpoints/{size}"] = "ExchangeApiTests.Checkpoints_are_listed_newest_first_and_each_reads_as_its_signed_XML",
        ["POST /api/exchange/checkpoints"] = "ExchangeApiTests.Checkpoints_are_listed_newest_first_and_each_reads_as_its_signed_XML",
        ["GET /api/exchange/consistency"] = "ExchangeApiTests.A_consistency_proof_links_a_checkpoint_an_auditor_kept_to_the_latest_signed_one",
        ["GET /api/exchange/certificate"] = "ExchangeApiTests.The_certificate_endpoint_gives_the_configured_signing_certificate_in_PEM",
        ["GET /api/exchange/evidence"] = "ExchangeApiTests.An_evidence_download_verifies_offline_with_the_published_certificate_and_its_export_is_logged",
        ["GET /api/me"] = "IdentityApiTests.The_bootstrap_admin_creates_a_principal_whose_key_works_once_shown_and_never_again",
        ["GET /api/principals"] = "IdentityApiTests.An_admin_lists_principals_changes_roles_and_disables_one_whose_keys_then_stop",
        ["POST /api/principals"] = "IdentityApiTests.Bad_principals_get_400_naming_each_problem_and_a_taken_id_409",
        ["GET /api/principals/{id}"] = "IdentityApiTests.The_bootstrap_admin_creates_a_principal_whose_key_works_once_shown_and_never_again",
        ["PUT /api/principals/{id}/roles"] = "IdentityApiTests.An_admin_lists_principals_changes_roles_and_disables_one_whose_keys_then_stop",
        ["POST /api/principals/{id}/disable"] = "IdentityApiTests.An_admin_lists_principals_changes_roles_and_disables_one_whose_keys_then_stop",
        ["POST /api/principals/{id}/keys"] = "IdentityApiTests.The_bootstrap_admin_creates_a_principal_whose_key_works_once_shown_and_never_again",
        ["POST /api/keys/{keyId}/revoke"] = "IdentityApiTests.A_revoked_key_stops_at_once_and_the_revocation_needs_a_reason",
        ["POST /portal/login"] = "NationalPortalAdapterTests.Login_with_a_connectors_credentials_answers_success_with_a_session_stored_only_as_its_hash",
        ["POST /portal/sync"] = "NationalPortalAdapterTests.A_new_dossier_is_stored_and_answered_with_the_portals_success_shape",
        ["POST /portal/{service}"] = "NationalPortalAdapterTests.Steps_are_stored_from_posts_to_the_service_path_and_a_resent_step_is_kept_once",
    };

    private async Task<JsonElement> DocumentAsync()
    {
        using var response = await hub.Anonymous.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static IEnumerable<(string Operation, JsonElement Body)> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Where(o => o.Name is "get" or "post" or "put" or "delete" or "patch")
            .Select(o => ($"{o.Name.ToUpperInvariant()} {path.Name}", o.Value)));

    [Fact]
    public async Task Every_request_body_and_every_problem_answer_has_an_example_and_the_hub_takes_each_request_example()
    {
        var document = await DocumentAsync();
        var missing = new List<string>();
        var requests = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (operation, body) in Operations(document))
        {
            if (body.TryGetProperty("requestBody", out var request))
            {
                var media = request.GetProperty("content").EnumerateObject().First();
                if (media.Value.TryGetProperty("example", out var example))
                {
                    requests[operation] = example;
                }
                else
                {
                    missing.Add($"{operation}: request body ({media.Name})");
                }
            }

            foreach (var response in body.TryGetProperty("responses", out var responses) ? responses.EnumerateObject() : Enumerable.Empty<JsonProperty>())
            {
                if (response.Value.TryGetProperty("content", out var content) && content.TryGetProperty("application/problem+json", out var problem)
                    && !(problem.TryGetProperty("example", out var shown) && shown.GetProperty("status").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture) == response.Name))
                {
                    missing.Add($"{operation}: problem answer {response.Name}");
                }
            }
        }

        Assert.Empty(missing);
        Assert.True(requests.Count >= 8, string.Join(", ", requests.Keys));

        // The examples are real requests: the hub takes each one (the process's client has every central role).
        async Task<HttpStatusCode> SendAsync(HttpMethod method, string path, string operation)
        {
            using var message = new HttpRequestMessage(method, path) { Content = new StringContent(requests[operation].GetRawText(), System.Text.Encoding.UTF8, "application/json") };
            using var response = await hub.Process.Client.SendAsync(message);
            Assert.True(response.IsSuccessStatusCode, $"{operation}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return response.StatusCode;
        }

        var registration = requests["POST /api/connectors"];
        var id = registration.GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Post, "/api/connectors/validate", "POST /api/connectors/validate"));
        Assert.Equal(HttpStatusCode.Created, await SendAsync(HttpMethod.Post, "/api/connectors", "POST /api/connectors"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, $"/api/connectors/{id}", "PUT /api/connectors/{id}"));
        var principal = requests["POST /api/principals"].GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.Created, await SendAsync(HttpMethod.Post, "/api/principals", "POST /api/principals"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, $"/api/principals/{principal}/roles", "PUT /api/principals/{id}/roles"));
        Assert.Equal(HttpStatusCode.Created, await SendAsync(HttpMethod.Post, $"/api/principals/{principal}/keys", "POST /api/principals/{id}/keys"));
        // The key example's expiry is in Vietnam time: stored as the same instant.
        using var keys = JsonDocument.Parse(await hub.Process.Client.GetStringAsync($"/api/principals/{principal}"));
        Assert.Contains(keys.RootElement.GetProperty("keys").EnumerateArray(),
            k => k.GetProperty("expiresAt").GetDateTimeOffset() == new DateTimeOffset(2027, 6, 30, 0, 0, 0, TimeSpan.FromHours(7)));
        var subscription = requests["PUT /api/subscriptions/{id}"].GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.Created, await SendAsync(HttpMethod.Put, $"/api/subscriptions/{subscription}", "PUT /api/subscriptions/{id}"));
        // The check and preview examples are the registration (whose example address does not resolve here).
        Assert.Equal(registration.GetRawText(), requests["POST /api/connectors/check"].GetRawText());
        Assert.Equal(registration.GetRawText(), requests["POST /api/connectors/preview"].GetRawText());
    }

    [Fact]
    public async Task The_document_is_served_without_a_key_and_passes_two_independent_validators()
    {
        using var response = await hub.Anonymous.GetAsync("/openapi/v1.json");
        var file = Path.Combine(Path.GetTempPath(), $"hub-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllBytesAsync(file, await response.Content.ReadAsByteArrayAsync());
        try
        {
            var start = new ProcessStartInfo("node", [Path.Combine(RepoRoot.Path, "tools", "openapi-validator", "validate.mjs"), file])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Path.Combine(RepoRoot.Path, "tools", "openapi-validator"),
            };
            using var node = System.Diagnostics.Process.Start(start)!;
            var output = await node.StandardOutput.ReadToEndAsync();
            var errors = await node.StandardError.ReadToEndAsync();
            await node.WaitForExitAsync();

            Assert.True(node.ExitCode == 0, $"the validators refused the document:\n{output}\n{errors}");
            Assert.Contains("openapi-schema-validator: valid OpenAPI 3.1", output, StringComparison.Ordinal);
            Assert.Contains("swagger-parser: valid", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_broken_document_is_refused_by_the_validators()
    {
        // The validator run above can fail: the same script refuses a document without its required info object and
        // with a response that is not an object.
        var file = Path.Combine(Path.GetTempPath(), $"hub-openapi-broken-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """{"openapi":"3.1.1","paths":{"/a":{"get":{"responses":{"200":"ok"}}}}}""");
        try
        {
            using var node = System.Diagnostics.Process.Start(new ProcessStartInfo("node", [Path.Combine(RepoRoot.Path, "tools", "openapi-validator", "validate.mjs"), file])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var errors = await node.StandardError.ReadToEndAsync();
            await node.WaitForExitAsync();
            Assert.Equal(1, node.ExitCode);
            Assert.Contains("openapi-schema-validator", errors, StringComparison.Ordinal);
            Assert.Contains("swagger-parser", errors, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Operations_that_need_a_key_say_so_and_the_open_ones_do_not()
    {
        var document = await DocumentAsync();
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey").GetProperty("scheme").GetString());
        foreach (var (operation, body) in Operations(document))
        {
            var open = operation.Contains("/webhook", StringComparison.Ordinal) || operation.Contains("/signed-xml", StringComparison.Ordinal)
                || operation.Contains(" /portal/", StringComparison.Ordinal) || operation.Contains(" /health/", StringComparison.Ordinal)
                || operation == "GET /openapi/v1.json";
            Assert.True(open != body.TryGetProperty("security", out _), $"{operation}: {(open ? "open, but asks for a key" : "needs a key, but the document does not say so")}");
        }
    }

    [Fact]
    public async Task Every_operation_in_the_document_has_a_test_that_calls_it()
    {
        var operations = Operations(await DocumentAsync()).Select(o => o.Operation).Order(StringComparer.Ordinal).ToList();

        var untested = operations.Except(TestedBy.Keys).ToList();
        var gone = TestedBy.Keys.Except(operations).ToList();
        Assert.True(untested.Count == 0, "operations without a test listed:\n" + string.Join("\n", untested));
        Assert.True(gone.Count == 0, "listed operations not in the document:\n" + string.Join("\n", gone));
        var assembly = typeof(OpenApiTests).Assembly;
        foreach (var (operation, test) in TestedBy)
        {
            var dot = test.LastIndexOf('.');
            var type = assembly.GetTypes().SingleOrDefault(t => t.Name == test[..dot]);
            Assert.True(type?.GetMethod(test[(dot + 1)..]) is not null, $"{operation}: no test {test}");
        }
    }

    [Fact]
    public async Task The_browsable_ui_is_served_at_docs_and_points_at_the_document()
    {
        using var page = await hub.Anonymous.GetAsync("/docs/index.html");
        using var init = await hub.Anonymous.GetAsync("/docs/index.js");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("swagger-ui", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("/openapi/v1.json", await init.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
