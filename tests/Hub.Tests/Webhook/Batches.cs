using System.Text;
using System.Text.Json.Nodes;

namespace Hub.Tests.Webhook;

/// <summary>Bodies as a sender writes them: {"dossiers": [...], "steps": [...]} of the records <see cref="WebhookHub.Mapping"/> reads.</summary>
public static class Batches
{
    public static readonly DateTimeOffset T0 = new(2025, 11, 17, 8, 0, 0, TimeSpan.FromHours(7));

    /// <summary>
    /// A dossier record with the code <c>{scope}-{id}</c>: dossier codes are unique across source systems, so each test
    /// scopes its codes with its connector's id. <paramref name="owner"/> is not mapped and stands for the personal data
    /// a body carries.
    /// </summary>
    public static JsonObject Dossier(string scope, string id, int minute, string status, string owner) => new()
    {
        ["id"] = id,
        ["code"] = $"{scope}-{id}",
        ["t"] = T0.AddMinutes(minute).ToString("O"),
        ["s"] = status,
        ["owner"] = owner,
    };

    public static JsonObject Step(string id, int minute, string what) => new()
    {
        ["id"] = id,
        ["t"] = T0.AddMinutes(minute).ToString("O"),
        ["what"] = what,
    };

    public static byte[] Body(IEnumerable<JsonNode> dossiers, IEnumerable<JsonNode>? steps = null)
    {
        var body = new JsonObject { ["dossiers"] = new JsonArray([.. dossiers]) };
        if (steps is not null)
        {
            body["steps"] = new JsonArray([.. steps]);
        }

        return Encoding.UTF8.GetBytes(body.ToJsonString());
    }

    /// <summary>A marker of personal data, unique to a test, to look for in the hub's output.</summary>
    public static string Owner() => "Owner-" + Guid.NewGuid().ToString("N")[..12];
}
