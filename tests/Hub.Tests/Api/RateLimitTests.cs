using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Tests.Infrastructure;

namespace Hub.Tests.Api;

/// <summary>Per-principal rate limits on a real hub configured with a small one.</summary>
public class RateLimitTests
{
    [Fact]
    public async Task A_principal_over_its_limit_gets_429_with_retry_after_while_others_health_and_signed_pushes_go_on_and_keyless_calls_are_limited_by_address()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("rate_limits");
        var work = Directory.CreateTempSubdirectory("hub-limits-").FullName;
        try
        {
            await using var hub = HubProcess.Start(work, new Dictionary<string, string>
            {
                ["ConnectionStrings__Hub"] = db.ConnectionString,
                ["Hub__Limits__PermitsPerMinute"] = "5",
                ["Hub__Limits__AnonymousPermitsPerMinute"] = "3",
            });
            await hub.WaitReadyAsync(TimeSpan.FromSeconds(90));
            using var admin = new HttpClient { BaseAddress = hub.BaseAddress };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", HubProcess.TestBootstrapKey);

            var statuses = new List<HttpStatusCode>();
            HttpResponseMessage? refused = null;
            for (var i = 0; i < 7; i++)
            {
                var response = await hub.Client.GetAsync("/api/me");
                statuses.Add(response.StatusCode);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    refused ??= response;
                }
            }

            using var other = await admin.GetAsync("/api/me");
            using var health = await hub.Client.GetAsync("/health/ready");
            using var anonymous = new HttpClient { BaseAddress = hub.BaseAddress };
            var guesses = new List<HttpStatusCode>();
            var pushes = new List<HttpStatusCode>();
            for (var i = 0; i < 5; i++)
            {
                using var guess = await anonymous.GetAsync("/api/me");
                guesses.Add(guess.StatusCode);
                using var push = await anonymous.PostAsync("/api/connectors/none/webhook", new StringContent("{}"));
                pushes.Add(push.StatusCode);
            }

            Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 5), statuses.Take(5));
            Assert.Equal(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 2), statuses.Skip(5));
            Assert.Equal("application/problem+json", refused!.Content.Headers.ContentType?.MediaType);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains($"principal '{hub.PrincipalId}' made more than 5 requests in a minute", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 60);
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            // Calls without a key are limited by address; signed pushes are not (they reach their own checks).
            Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 3), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 2)], guesses);
            Assert.All(pushes, p => Assert.Equal(HttpStatusCode.NotFound, p));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
