using System.Text;
using Hub.Core.Audit;
using Hub.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hub.Tests.Audit;

/// <summary>
/// An exchange log in a test schema with entries of every shape (messages with payloads, a withheld payload, rejected
/// messages, admin actions, a value that XML cannot carry unchanged), sealed in two checkpoints, and its bundle exporter.
/// </summary>
public sealed class EvidenceKit : IAsyncDisposable
{
    /// <summary>The dossier that most entries touch.</summary>
    public const string Dossier = "G09.20-260101-0001";

    /// <summary>A reason with a carriage return, a control character and a tab: written in base64 in bundles.</summary>
    public const string AwkwardReason = "line one\r\nline two \u0001 and\ta tab";

    private static readonly CancellationToken None = CancellationToken.None;

    private EvidenceKit(NpgsqlDataSource db)
    {
        Db = db;
        Log = new ExchangeLog(db, TimeProvider.System);
        Sealer = new ExchangeSealer(db, TestSigning.Hub, TimeProvider.System, NullLogger<ExchangeSealer>.Instance);
        Bundles = new EvidenceBundle(db, Log, Sealer, new ExchangeProofs(db), TestSigning.Hub, TimeProvider.System);
    }

    public NpgsqlDataSource Db { get; }

    public ExchangeLog Log { get; }

    public ExchangeSealer Sealer { get; }

    public EvidenceBundle Bundles { get; }

    /// <summary>Ids of the entries that touch <see cref="Dossier"/>, in order of writing.</summary>
    public List<long> DossierEntries { get; } = [];

    /// <summary>Ids of the entries of connector <c>c-b</c>.</summary>
    public List<long> ConnectorBEntries { get; } = [];

    /// <summary>The entry whose reason is <see cref="AwkwardReason"/>.</summary>
    public long AwkwardEntry { get; private set; }

    /// <summary>The entry whose payload is withheld.</summary>
    public long WithheldEntry { get; private set; }

    /// <summary>A message entry of the dossier with a payload.</summary>
    public long PayloadEntry { get; private set; }

    public static async Task<EvidenceKit> CreateAsync(string schema)
    {
        var kit = new EvidenceKit(await TestDatabase.CreateSchemaAsync(schema));
        await kit.FillAsync();
        return kit;
    }

    private async Task FillAsync()
    {
        for (var i = 0; i < 10; i++)
        {
            var connector = i < 5 ? "c-a" : "c-b";
            var dossiers = i % 2 == 0 ? new[] { Dossier, $"G09.20-260101-01{i:D2}" } : [$"G09.20-260101-01{i:D2}"];
            var id = await Log.AppendAsync(new ExchangeRecord
            {
                Kind = ExchangeRecord.MessageKind,
                ConnectorId = connector,
                Direction = "inbound",
                Transport = "json-webhook",
                ReceivedAt = DateTimeOffset.UtcNow,
                ContentType = "application/json",
                Payload = Encoding.UTF8.GetBytes($$"""{"MaHoSo":"{{string.Join(",", dossiers)}}","ChuHoSo":"Nguyễn Văn A","i":{{i}}}"""),
                Outcome = i == 3 ? "rejected" : "stored",
                Reason = i == 3 ? "unmapped code X" : null,
                Dossiers = dossiers,
                MappingVersion = "v1",
                RunId = i < 5 ? 7 : null,
                Detail = $$"""{"stored":{{i}}}""",
            }, None);
            Track(id, connector, dossiers);
            if (i == 0)
            {
                PayloadEntry = id;
            }

            if (i == 5)
            {
                await Sealer.SealAsync(evenIfEmpty: false, None);
            }
        }

        var admin = await Log.AppendAsync(new ExchangeRecord
        {
            Kind = ExchangeRecord.AdminKind,
            ConnectorId = "c-a",
            Outcome = "done",
            Actor = "operator@example",
            Action = "connector.changed",
            Reason = "new mapping",
            Dossiers = [Dossier],
        }, None);
        Track(admin, "c-a", [Dossier]);
        AwkwardEntry = await Log.AppendAsync(new ExchangeRecord
        {
            Kind = ExchangeRecord.MessageKind,
            ConnectorId = "c-b",
            Direction = "inbound",
            Transport = "api",
            Outcome = "rejected",
            Reason = AwkwardReason,
            Dossiers = [Dossier],
            Detail = "",
        }, None);
        Track(AwkwardEntry, "c-b", [Dossier]);
        WithheldEntry = await Log.AppendAsync(new ExchangeRecord
        {
            Kind = ExchangeRecord.MessageKind,
            ConnectorId = "c-b",
            Direction = "inbound",
            Transport = "national-portal",
            ContentType = "application/json",
            Payload = Encoding.UTF8.GetBytes("""{"username":"x","password":"secret"}"""),
            PayloadWithheld = "credentials",
            Outcome = "stored",
            Dossiers = [Dossier],
        }, None);
        Track(WithheldEntry, "c-b", [Dossier]);
        await Sealer.SealAsync(evenIfEmpty: false, None);
    }

    private void Track(long id, string connector, IEnumerable<string> dossiers)
    {
        if (dossiers.Contains(Dossier))
        {
            DossierEntries.Add(id);
        }

        if (connector == "c-b")
        {
            ConnectorBEntries.Add(id);
        }
    }

    /// <summary>The bundle of <see cref="Dossier"/>.</summary>
    public async Task<byte[]> DossierBundleAsync() =>
        (await Bundles.ExportAsync(new EvidenceQuery { Dossier = Dossier }, [TestSigning.Hub.Certificate], None)).Document;

    /// <summary>Runs SQL as someone who bypasses the append-only triggers.</summary>
    public async Task TamperAsync(string sql)
    {
        await using var connection = await Db.OpenConnectionAsync();
        await using var command = new NpgsqlCommand($"set session_replication_role = replica; {sql}; set session_replication_role = origin", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A copy of <paramref name="bundle"/> with the byte at <paramref name="position"/> XOR 0x01.</summary>
    public static byte[] Flip(byte[] bundle, int position)
    {
        var copy = (byte[])bundle.Clone();
        copy[position] ^= 0x01;
        return copy;
    }

    /// <summary>The position of the middle of the first occurrence of <paramref name="text"/> after <paramref name="after"/>.</summary>
    public static int Inside(byte[] bundle, string text, string? after = null)
    {
        var document = Encoding.UTF8.GetString(bundle);
        var start = after is null ? 0 : document.IndexOf(after, StringComparison.Ordinal);
        Assert.True(start >= 0, $"'{after}' is not in the bundle");
        var index = document.IndexOf(text, start, StringComparison.Ordinal);
        Assert.True(index >= 0, $"'{text}' is not in the bundle");
        // The bundle's text is ASCII up to there except in payload-free parts; count bytes, not characters.
        return Encoding.UTF8.GetByteCount(document.AsSpan(0, index + (text.Length / 2)));
    }

    /// <summary>The position of the first decimal digit in <paramref name="text"/>'s element value (a flip keeps it a digit).</summary>
    public static int DigitAfter(byte[] bundle, string text, string? after = null)
    {
        var position = Inside(bundle, text, after);
        while (!char.IsAsciiDigit((char)bundle[position]))
        {
            position++;
        }

        return position;
    }

    /// <summary>Writes the hub's test certificate (public part only) to a PEM file.</summary>
    public static string WriteCertificate(string directory)
    {
        var path = Path.Combine(directory, "hub.pem");
        File.WriteAllText(path, TestSigning.Hub.Certificate.ExportCertificatePem());
        return path;
    }

    public ValueTask DisposeAsync() => Db.DisposeAsync();
}
