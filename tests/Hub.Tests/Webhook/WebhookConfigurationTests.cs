using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors;
using Hub.Connectors.BuiltIn;
using Hub.Connectors.BuiltIn.Webhook;
using Microsoft.Extensions.Logging.Abstractions;
using NJsonSchema;

namespace Hub.Tests.Webhook;

public class WebhookConfigurationTests
{
    private static readonly JsonWebhookConnectorKind Kind = new();

    private static ConnectorContext Context(JsonNode configuration) =>
        new("h56-webhook", "h56", JsonSerializer.SerializeToElement(configuration), new HttpClient(), NullLogger.Instance, TimeProvider.System);

    [Fact]
    public void The_kind_is_named_json_webhook_and_receives_pushes()
    {
        Assert.Equal("json-webhook", Kind.Name);
        Assert.False(string.IsNullOrWhiteSpace(Kind.Description));
        Assert.IsAssignableFrom<IPushConnectorKind>(Kind);
    }

    [Fact]
    public void A_configuration_with_only_a_secret_takes_the_documented_defaults_and_cannot_print_its_secret()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var settings = JsonWebhookSettings.Parse(JsonSerializer.SerializeToElement(new { secret = Convert.ToBase64String(key) }));

        Assert.Equal(key, settings.Secret);
        Assert.Null(settings.PreviousSecret);
        Assert.Equal("X-Hub-Signature", settings.SignatureHeader);
        Assert.Equal("X-Hub-Timestamp", settings.TimestampHeader);
        Assert.Equal(TimeSpan.FromMinutes(5), settings.Tolerance);
        Assert.Equal(10 * 1024 * 1024, settings.MaxBodyBytes);
        Assert.DoesNotContain(Convert.ToBase64String(key), settings.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_lists_every_problem_at_once_without_quoting_values()
    {
        var configuration = new JsonObject
        {
            ["secret"] = "not base64 at all!",
            ["previousSecret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)),
            ["signatureHeader"] = "X Signature",
            ["timestampHeader"] = 5,
            ["tolerance"] = "2 hours",
            ["maxBodyBytes"] = 10,
            ["records"] = "dossiers",
        };

        var e = Assert.Throws<ConnectorException>(() => Kind.CreateReceiver(Context(configuration)));

        Assert.Equal(FailureSide.Configuration, e.Side);
        Assert.False(e.Retryable);
        Assert.Contains("has 7 problem(s)", e.Message, StringComparison.Ordinal);
        Assert.Contains("records: is not a setting here", e.Message, StringComparison.Ordinal);
        Assert.Contains("secret: must be base64", e.Message, StringComparison.Ordinal);
        Assert.Contains("previousSecret: must decode to at least 32 bytes (it decodes to 16)", e.Message, StringComparison.Ordinal);
        Assert.Contains("signatureHeader: must be an HTTP header name", e.Message, StringComparison.Ordinal);
        Assert.Contains("timestampHeader: must be a string, not a number", e.Message, StringComparison.Ordinal);
        Assert.Contains("tolerance: must be a duration 'hh:mm:ss' from 00:00:10 to 01:00:00", e.Message, StringComparison.Ordinal);
        Assert.Contains("maxBodyBytes: must be a whole number of bytes from 1024 to 104857600", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not base64 at all", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain((string)configuration["previousSecret"]!, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing", "secret: is required")]
    [InlineData("typed", "secret: does not look random")]
    [InlineData("same-as-previous", "previousSecret: must differ from secret")]
    [InlineData("same-headers", "timestampHeader: must differ from signatureHeader")]
    public void A_secret_that_is_missing_weak_or_ambiguous_is_refused(string @case, string problem)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var configuration = @case switch
        {
            "missing" => new JsonObject(),
            // 44 characters of a passphrase, base64-encoded: long enough, but far from 32 bytes of entropy.
            "typed" => new JsonObject { ["secret"] = Convert.ToBase64String(Encoding.ASCII.GetBytes("aaaaaaaabbbbbbbbccccccccdddddddd-secret-1234")) },
            "same-as-previous" => new JsonObject { ["secret"] = key, ["previousSecret"] = key },
            _ => new JsonObject { ["secret"] = key, ["signatureHeader"] = "X-Sig", ["timestampHeader"] = "x-sig" },
        };

        var e = Assert.Throws<ConnectorException>(() => JsonWebhookSettings.Parse(JsonSerializer.SerializeToElement(configuration)));

        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_configuration_schema_is_draft_07_marks_both_secrets_and_accepts_the_README_example()
    {
        var schema = await JsonSchema.FromJsonAsync(Kind.ConfigurationSchema);
        var json = JsonNode.Parse(Kind.ConfigurationSchema)!;

        Assert.Equal("http://json-schema.org/draft-07/schema#", (string?)json["$schema"]);
        var secrets = json["properties"]!.AsObject().Where(p => p.Value?["x-secret"]?.GetValue<bool>() == true).Select(p => p.Key).Order().ToList();
        Assert.Equal(["previousSecret", "secret"], secrets);

        var example = WebhookReadme.Block("Configuration", "json");
        Assert.Empty(schema.Validate(example));
        Assert.NotEmpty(schema.Validate("""{ "secret": "short" }"""));
        Assert.NotEmpty(schema.Validate("""{ "secret": "3q1v0m8uWcL2xJ9kq0yq3m7mYk3QeQ0l8m1c9o8YQ1E=", "records": [] }"""));
        JsonWebhookSettings.Parse(JsonDocument.Parse(example).RootElement);
    }

    [Fact]
    public async Task Through_the_SDK_interface_a_signed_delivery_becomes_dossier_records_then_step_records()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        IPushConnectorKind kind = Kind;
        var receiver = kind.CreateReceiver(Context(new JsonObject { ["secret"] = Convert.ToBase64String(key), ["signatureHeader"] = "X-Province-Signature" }));
        var body = Encoding.UTF8.GetBytes("""{"steps": [{"id": "s"}], "dossiers": [{"id": "d1"}, {"id": "d2"}]}""");
        var now = DateTimeOffset.UtcNow;
        var ts = now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string> { ["x-province-signature"] = WebhookHub.Sign(key, ts, body), ["x-hub-timestamp"] = ts };

        var accepted = await receiver.AcceptAsync(new PushMessage(headers, body, now), CancellationToken.None);
        var refused = await receiver.AcceptAsync(new PushMessage(headers, body, now.AddMinutes(6)), CancellationToken.None);

        Assert.Null(accepted.Rejection);
        Assert.Equal([RawRecordKind.Dossier, RawRecordKind.Dossier, RawRecordKind.Step], accepted.Records.Select(r => r.Kind));
        Assert.Equal(["d1", "d2", "s"], accepted.Records.Select(r => r.Payload.GetProperty("id").GetString()));
        Assert.Equal(PushRejectionKind.Replay, refused.Rejection?.Kind);
        Assert.Empty(refused.Records);
    }
}
