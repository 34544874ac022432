using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors.Mapping;
using Hub.Core.Sync;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Webhook;

[CollectionDefinition(Name)]
public sealed class WebhookHubCollection : ICollectionFixture<WebhookHub>
{
    public const string Name = "webhook-hub";
}

/// <summary>
/// The real hub process on a loopback port, over a test schema of the throwaway PostgreSQL, with one json-webhook
/// connector registered from a file. Tests register connectors of their own in its database (the hub reads a
/// connector's registration on every delivery), so each test owns its connector, source system and rows.
/// </summary>
public sealed class WebhookHub : IAsyncLifetime
{
    public const string FileConnectorId = "h57-webhook";
    public const string FileSourceSystem = "h57";

    /// <summary>The file-registered connector's key.</summary>
    public static readonly byte[] FileKey = RandomNumberGenerator.GetBytes(32);

    private string _work = "";

    public NpgsqlDataSource Db { get; private set; } = null!;

    public HubProcess Process { get; private set; } = null!;

    public ConnectorCatalog Catalog { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateSchemaAsync("webhook");
        Catalog = TestSecrets.Catalog(Db);
        _work = Directory.CreateTempSubdirectory("hub-webhook-").FullName;
        var connectors = Directory.CreateDirectory(Path.Combine(_work, "connectors")).FullName;
        var file = new JsonObject
        {
            ["id"] = FileConnectorId,
            ["kind"] = "json-webhook",
            ["sourceSystem"] = FileSourceSystem,
            ["displayName"] = "Province 57 one-stop system (pushes)",
            ["configuration"] = new JsonObject { ["secret"] = Convert.ToBase64String(FileKey) },
            ["mapping"] = JsonSerializer.SerializeToNode(Mapping(), ConnectorCatalog.Json),
        };
        await File.WriteAllTextAsync(Path.Combine(connectors, "h57-webhook.json"), file.ToJsonString());

        Process = HubProcess.Start(_work, new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = Db.ConnectionString,
            ["Hub__Connectors__Directory"] = connectors,
        });
        await Process.WaitReadyAsync(TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        await Process.DisposeAsync();
        await Db.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    /// <summary>Records {id, code, t, s, owner} as dossiers and {id, t, what} as steps; owner is not mapped (it stands for personal data).</summary>
    public static MappingDefinition Mapping() => new()
    {
        Version = "webhook-test/1",
        StatusCodes = Enumerable.Range(1, 10).ToDictionary(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture), i => i),
        Dossier = new Dictionary<string, FieldMapping>
        {
            ["NativeId"] = "id",
            ["DossierCode"] = "code",
            ["EventTime"] = "t",
            ["Status"] = "s",
        },
        Steps = new StepMapping
        {
            Fields = new Dictionary<string, FieldMapping> { ["NativeId"] = "id", ["StepTime"] = "t", ["Action"] = "what" },
        },
    };

    /// <summary>Registers a json-webhook connector of the test's own, with a fresh random key.</summary>
    public async Task<TestConnector> RegisterAsync(string name, Action<JsonObject>? configure = null, bool active = true)
    {
        var id = $"{name}-{Guid.NewGuid():N}"[..Math.Min(60, name.Length + 13)];
        var key = RandomNumberGenerator.GetBytes(32);
        var configuration = new JsonObject { ["secret"] = Convert.ToBase64String(key) };
        configure?.Invoke(configuration);
        await Catalog.SaveAsync(new ConnectorRegistration
        {
            Id = id,
            Kind = "json-webhook",
            SourceSystem = "sys-" + id,
            DisplayName = name,
            Configuration = JsonSerializer.SerializeToElement(configuration),
            Mapping = Mapping(),
            Active = active,
        }, CancellationToken.None);
        return new TestConnector(id, "sys-" + id, key);
    }

    /// <summary>Posts a body to a connector's webhook with the headers given (none added).</summary>
    public async Task<HttpResponseMessage> PostAsync(string connectorId, byte[] body, IReadOnlyDictionary<string, string> headers, bool chunked = false)
    {
        HttpContent content = chunked ? new StreamContent(new UnknownLengthStream(body)) : new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/connectors/{connectorId}/webhook") { Content = content };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await Process.Client.SendAsync(request);
    }

    /// <summary>Posts a body signed as a sender does, with the key and time given (now by default).</summary>
    public Task<HttpResponseMessage> PostSignedAsync(string connectorId, byte[] key, byte[] body, long? timestamp = null, bool chunked = false)
    {
        var ts = (timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds()).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return PostAsync(connectorId, body, new Dictionary<string, string>
        {
            ["X-Hub-Timestamp"] = ts,
            ["X-Hub-Signature"] = Sign(key, ts, body),
        }, chunked);
    }

    /// <summary>The signature, computed here independently of the hub's code: sha256= and the lowercase hex HMAC-SHA256 of "{ts}.{body}".</summary>
    public static string Sign(byte[] key, string timestamp, byte[] body) =>
        "sha256=" + Convert.ToHexString(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(timestamp + ".").Concat(body).ToArray())).ToLowerInvariant();

    /// <summary>What the hub holds for a connector: history rows, current dossiers, steps, quarantined records, recorded deliveries.</summary>
    public async Task<StoredCounts> CountsAsync(TestConnector connector)
    {
        await using var command = Db.CreateCommand("""
            select (select count(*) from dossier_change where source_system = $1),
                   (select count(*) from dossier where source_system = $1),
                   (select count(*) from dossier_step where source_system = $1),
                   (select count(*) from quarantined_record where connector_id = $2),
                   (select count(*) from webhook_delivery where connector_id = $2)
            """);
        command.Parameters.Add(new() { Value = connector.SourceSystem });
        command.Parameters.Add(new() { Value = connector.Id });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new StoredCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
    }

    /// <summary>
    /// Waits until the hub's output holds a log entry containing <paramref name="text"/> and returns it (level line and
    /// message). The console logger writes on a thread of its own, so an entry may appear just after the reply.
    /// </summary>
    public async Task<string> LogEntryAsync(string text)
    {
        for (var i = 0; i < 100; i++)
        {
            var entries = Entries(Process.Output);
            if (entries.FirstOrDefault(e => e.Contains(text, StringComparison.Ordinal)) is { } entry)
            {
                return entry;
            }

            await Task.Delay(100);
        }

        throw new Xunit.Sdk.XunitException($"No log entry contains '{text}'. The hub wrote:\n{Process.Output}");
    }

    /// <summary>The simple console format: an entry starts with "level: category[event]" and continues on indented lines.</summary>
    private static List<string> Entries(string output)
    {
        var entries = new List<string>();
        foreach (var line in output.Split('\n'))
        {
            if (line.Length > 5 && !line.StartsWith(' ') && line.IndexOf(':', StringComparison.Ordinal) == 4)
            {
                entries.Add(line.TrimEnd('\r'));
            }
            else if (entries.Count > 0)
            {
                entries[^1] += "\n" + line.TrimEnd('\r');
            }
        }

        return entries;
    }

    /// <summary>A stream whose length is unknown, so that HttpClient sends the body chunked, without Content-Length.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}

/// <summary>A connector registered by a test, and the key its sender signs with.</summary>
public sealed record TestConnector(string Id, string SourceSystem, byte[] Key)
{
    public string Secret => Convert.ToBase64String(Key);
}

public sealed record StoredCounts(long History, long Dossiers, long Steps, long Quarantined, long Deliveries)
{
    public static readonly StoredCounts Nothing = new(0, 0, 0, 0, 0);
}
