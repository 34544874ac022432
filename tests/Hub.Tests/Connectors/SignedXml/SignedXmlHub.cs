using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Core.Sync;
using Hub.Tests.Infrastructure;
using Hub.Tests.Xml;
using Npgsql;

namespace Hub.Tests.Connectors.SignedXml;

[CollectionDefinition(Name)]
public sealed class SignedXmlHubCollection : ICollectionFixture<SignedXmlHub>
{
    public const string Name = "signed-xml-hub";
}

/// <summary>
/// The real hub process on a loopback port, over a test schema of the throwaway PostgreSQL. Tests register signed-xml
/// connectors of their own in its database (the hub reads a connector's registration on every document), so each test
/// owns its connector, source system, rows and exchange-log entries.
/// </summary>
public sealed class SignedXmlHub : IAsyncLifetime
{
    private string _work = "";

    public NpgsqlDataSource Db { get; private set; } = null!;

    public HubProcess Process { get; private set; } = null!;

    public ConnectorCatalog Catalog { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateSchemaAsync("signedxml");
        Catalog = TestSecrets.Catalog(Db);
        _work = Directory.CreateTempSubdirectory("hub-signed-xml-").FullName;
        Process = HubProcess.Start(_work, new Dictionary<string, string>
        {
            ["ConnectionStrings__Hub"] = Db.ConnectionString,
            ["Hub__Scheduler__Enabled"] = "false",
        });
        await Process.WaitReadyAsync(TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        await Process.DisposeAsync();
        await Db.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    /// <summary>Registers a signed-xml connector of the test's own, with a registered certificate of the corpus keys.</summary>
    public async Task<XmlConnector> RegisterAsync(string name, string certificate = "sender", Action<JsonObject>? configure = null, bool active = true)
    {
        var id = $"{name}-{Guid.NewGuid():N}"[..Math.Min(60, name.Length + 13)];
        var configuration = new JsonObject { ["certificate"] = CorpusKeys.CertificatePem(certificate) };
        configure?.Invoke(configuration);
        await Catalog.SaveAsync(new ConnectorRegistration
        {
            Id = id,
            Kind = "signed-xml",
            SourceSystem = "sys-" + id,
            DisplayName = name,
            Configuration = JsonSerializer.SerializeToElement(configuration),
            Mapping = SignedXmlSamples.Mapping(),
            Active = active,
        }, CancellationToken.None);
        return new XmlConnector(id, "sys-" + id);
    }

    /// <summary>Posts a document to a connector's endpoint.</summary>
    public async Task<HttpResponseMessage> PostAsync(string connectorId, byte[] body, bool chunked = false)
    {
        HttpContent content = chunked ? new StreamContent(new UnknownLengthStream(body)) : new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/xml");
        return await Process.Client.PostAsync($"/api/connectors/{connectorId}/signed-xml", content);
    }

    /// <summary>What the hub stored for a connector: history rows, current dossiers, steps, quarantined records.</summary>
    public async Task<(long History, long Dossiers, long Steps, long Quarantined)> StoredAsync(XmlConnector connector)
    {
        await using var command = Db.CreateCommand("""
            select (select count(*) from dossier_change where source_system = $1),
                   (select count(*) from dossier where source_system = $1),
                   (select count(*) from dossier_step where source_system = $1),
                   (select count(*) from quarantined_record where connector_id = $2)
            """);
        command.Parameters.Add(new() { Value = connector.SourceSystem });
        command.Parameters.Add(new() { Value = connector.Id });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    /// <summary>The exchange-log message entries of a connector (not its administrative ones), oldest first, with their stored payload bytes (if kept).</summary>
    public async Task<IReadOnlyList<LoggedMessage>> EntriesAsync(string connectorId)
    {
        await using var command = Db.CreateCommand("""
            select e.id, e.direction, e.transport, e.outcome, e.reason, e.payload_sha256, e.payload_size, e.payload_withheld, e.dossiers, e.detail, p.content
              from exchange_entry e left join exchange_payload p on p.sha256 = e.payload_sha256
             where e.connector_id = $1 and e.kind = 'message' order by e.id
            """);
        command.Parameters.Add(new() { Value = connectorId });
        await using var reader = await command.ExecuteReaderAsync();
        var entries = new List<LoggedMessage>();
        while (await reader.ReadAsync())
        {
            entries.Add(new LoggedMessage(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : (byte[])reader[5],
                reader.IsDBNull(6) ? null : reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                (string[])reader[8], reader.IsDBNull(9) ? null : reader.GetString(9), reader.IsDBNull(10) ? null : (byte[])reader[10]));
        }

        return entries;
    }

    /// <summary>The hub's current signing certificate, as auditors fetch it.</summary>
    public async Task<string> HubCertificatePemAsync()
    {
        var pem = await Process.Client.GetStringAsync("/api/exchange/certificate");
        const string end = "-----END CERTIFICATE-----";
        return pem[..(pem.IndexOf(end, StringComparison.Ordinal) + end.Length)] + "\n";
    }

    /// <summary>A stream whose length is unknown, so that HttpClient sends the body chunked, without Content-Length.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}

/// <summary>A connector registered by a test.</summary>
public sealed record XmlConnector(string Id, string SourceSystem);

/// <summary>An exchange-log entry as stored.</summary>
public sealed record LoggedMessage(
    long Id, string Direction, string Transport, string Outcome, string? Reason, byte[]? PayloadSha256, long? PayloadSize,
    string? PayloadWithheld, string[] Dossiers, string? Detail, byte[]? Payload);
