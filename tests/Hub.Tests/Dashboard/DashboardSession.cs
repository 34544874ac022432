using System.Net;
using System.Text.RegularExpressions;

namespace Hub.Tests.Dashboard;

/// <summary>A dashboard session over plain HTTP: signs in with an API key on <c>/ui/login</c> and keeps the cookie.</summary>
public static partial class DashboardSession
{
    /// <summary>A client (redirects not followed) whose cookie is a signed-in session of the key's principal.</summary>
    public static async Task<HttpClient> SignInAsync(Uri hub, string key)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = hub };
        using var form = await client.GetAsync("/ui/login");
        var token = Token().Match(await form.Content.ReadAsStringAsync()).Groups[1].Value;
        using var signedIn = await client.PostAsync("/ui/login", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["key"] = key, ["__RequestVerificationToken"] = token }));
        Assert.True(signedIn.StatusCode == HttpStatusCode.Redirect, $"signing in failed: {(int)signedIn.StatusCode} {await signedIn.Content.ReadAsStringAsync()}");
        return client;
    }

    /// <summary>The key of a client made by the test hubs' principal helpers.</summary>
    public static string KeyOf(HttpClient client) => client.DefaultRequestHeaders.Authorization!.Parameter!;

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
