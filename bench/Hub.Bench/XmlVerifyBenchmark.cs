using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml;
using Hub.Core.Xml;

namespace Hub.Bench;

/// <summary>
/// The hub's whole verification path for signed XML (limited parse, hardening checks, signature against the registered
/// certificate: <see cref="SignedXmlVerifier"/>, created per document as the endpoint does) next to a bare
/// <see cref="SignedXml.CheckSignature(X509Certificate2, bool)"/> of the same documents (XmlDocument load + check) and to
/// raw RSA verification of the same bytes, in one process, one thread, the three taking turns on every document.
/// </summary>
internal static class XmlVerifyBenchmark
{
    /// <summary>Heading of this scenario's section in the results file.</summary>
    public const string Heading = "## Signed XML verification";

    private const string Namespace = "urn:hub:signed-xml:1";

    public static void Run(BenchOptions options)
    {
        var c = CultureInfo.InvariantCulture;
        var now = DateTimeOffset.UtcNow;
        using var certificate = XmlDsigSigner.CreateSelfSigned("CN=Bench sender", now.AddDays(-1), now.AddYears(1), keySize: 2048);
        using var publicCertificate = X509CertificateLoader.LoadCertificate(certificate.RawData);
        var documents = Enumerable.Range(0, options.XmlDocuments).Select(i => Document(i, options.XmlItems, certificate)).ToArray();
        using var signer = certificate.GetRSAPrivateKey()!;
        var rawSignatures = documents.Select(d => signer.SignData(d, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)).ToArray();
        using var rsa = publicCertificate.GetRSAPublicKey()!;
        var policy = new SignedXmlPolicy { RootNamespace = Namespace, RootName = "GoiTinHoSo" };
        var averageBytes = documents.Average(d => d.Length);
        Console.WriteLine(string.Create(c, $"{documents.Length} documents of {options.XmlItems} dossier items and {options.XmlItems} steps, {averageBytes:F0} bytes on average, RSA-2048 / SHA-256, {options.XmlRounds} rounds"));

        void Hub(byte[] document)
        {
            var verification = new SignedXmlVerifier(policy, [publicCertificate]).Verify(document, now);
            if (!verification.Accepted)
            {
                throw new InvalidOperationException("The hub refused a bench document: " + verification.Rejection!.Reason);
            }
        }

        void Bare(byte[] document)
        {
            var xml = new XmlDocument { PreserveWhitespace = true };
            using (var stream = new MemoryStream(document, writable: false))
            {
                xml.Load(stream);
            }

            var signedXml = new SignedXml(xml);
            signedXml.LoadXml((XmlElement)xml.GetElementsByTagName("Signature", SignedXml.XmlDsigNamespaceUrl)[0]!);
            if (!signedXml.CheckSignature(publicCertificate, verifySignatureOnly: true))
            {
                throw new InvalidOperationException("SignedXml refused a bench document.");
            }
        }

        void Raw(int i)
        {
            if (!rsa.VerifyData(documents[i], rawSignatures[i], HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            {
                throw new InvalidOperationException("RSA refused a bench signature.");
            }
        }

        // Warm-up: JIT and the crypto providers' first calls out of the figures.
        for (var i = 0; i < Math.Min(50, documents.Length); i++)
        {
            Hub(documents[i]);
            Bare(documents[i]);
            Raw(i);
        }

        // The three take turns on every document, so that load from elsewhere on the machine falls on all of them alike.
        long hubTicks = 0, bareTicks = 0, rawTicks = 0;
        for (var round = 0; round < options.XmlRounds; round++)
        {
            for (var i = 0; i < documents.Length; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                Bare(documents[i]);
                var t1 = Stopwatch.GetTimestamp();
                Hub(documents[i]);
                var t2 = Stopwatch.GetTimestamp();
                Raw(i);
                var t3 = Stopwatch.GetTimestamp();
                bareTicks += t1 - t0;
                hubTicks += t2 - t1;
                rawTicks += t3 - t2;
            }
        }

        var hubTime = TimeSpan.FromSeconds((double)hubTicks / Stopwatch.Frequency);
        var bareTime = TimeSpan.FromSeconds((double)bareTicks / Stopwatch.Frequency);
        var rawTime = TimeSpan.FromSeconds((double)rawTicks / Stopwatch.Frequency);

        var count = (double)documents.Length * options.XmlRounds;
        var hubRate = count / hubTime.TotalSeconds;
        var bareRate = count / bareTime.TotalSeconds;
        var rawRate = count / rawTime.TotalSeconds;
        string[] figures =
        [
            string.Create(c, $"hub verifications/s: {hubRate:F0}"),
            string.Create(c, $"bare SignedXml verifications/s: {bareRate:F0}"),
            string.Create(c, $"raw RSA verifications/s: {rawRate:F0}"),
            string.Create(c, $"verify/signedxml ratio: {hubRate / bareRate:F2}"),
            string.Create(c, $"verify/rsa ratio: {hubRate / rawRate:F2}"),
        ];
        foreach (var line in figures)
        {
            Console.WriteLine(line);
        }

        if (options.ResultsFile is { } file)
        {
            List<string> section =
            [
                Heading,
                "",
                "Signed XML verification per second on one thread of this machine, three measurements of the same documents in one",
                "process, taking turns on every document: the hub's whole path (`SignedXmlVerifier`, created per document as the",
                "endpoint does: limited parse without DTD, size and depth limits, one signature where expected, reference to the",
                "document element only, allowed algorithms and transforms, signature against the registered certificate and its",
                "validity), a bare `SignedXml.CheckSignature(certificate, true)` after `XmlDocument.Load`, and raw `RSA.VerifyData`",
                "of each document's bytes (SHA-256, PKCS#1 v1.5).",
                "",
                "Command:",
                "",
                "```",
                "dotnet run -c Release --project bench/Hub.Bench -- --scenario xmlverify --results bench/RESULTS.md",
                "```",
                "",
                string.Create(c, $"Workload: {documents.Length} distinct `GoiTinHoSo` documents of {options.XmlItems} dossier items and {options.XmlItems} steps ({averageBytes:F0} bytes on average), each signed as the hub signs (enveloped, exclusive c14n, RSA-SHA256, 2048-bit key), verified {options.XmlRounds} times by each path. Run at {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, .NET {Environment.Version}."),
                "",
                "| measurement | rate | time |",
                "|---|---|---|",
                string.Create(c, $"| hub verification path | {hubRate:F0} documents/s | {hubTime.TotalSeconds:F2} s for {count:N0} |"),
                string.Create(c, $"| bare SignedXml (load + CheckSignature) | {bareRate:F0} documents/s | {bareTime.TotalSeconds:F2} s for {count:N0} |"),
                string.Create(c, $"| raw RSA.VerifyData of the same bytes | {rawRate:F0} documents/s | {rawTime.TotalSeconds:F2} s for {count:N0} |"),
                "",
                .. figures.SelectMany(f => new[] { f, "" }),
            ];
            Results.WriteSection(file, Heading, section);
            Console.WriteLine($"results written to {file}");
        }
    }

    /// <summary>A signed document of the signed-xml kind, distinct per index.</summary>
    private static byte[] Document(int index, int items, X509Certificate2 certificate)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"<GoiTinHoSo xmlns=\"{Namespace}\" Id=\"goi-{index:D6}\">\n");
        for (var i = 0; i < items; i++)
        {
            var code = string.Create(CultureInfo.InvariantCulture, $"H56.10-260302-{index:D4}{i:D3}");
            text.Append(CultureInfo.InvariantCulture,
                $"  <HoSo>\n    <MaHoSo>{code}</MaHoSo>\n    <MaTTHC>1.003560.000.00.00.H56</MaTTHC>\n    <TrangThaiHoSo>{2 + (i % 3)}</TrangThaiHoSo>\n    <NgayCapNhat>20260302{8 + (i % 9):D2}{i % 60:D2}00</NgayCapNhat>\n    <NgayHenTra>20260320170000</NgayHenTra>\n    <DonViXuLy>H56.10</DonViXuLy>\n  </HoSo>\n");
            text.Append(CultureInfo.InvariantCulture,
                $"  <TienDoXuLy>\n    <MaHoSo>{code}</MaHoSo>\n    <ThoiDiemXuLy>20260302{8 + (i % 9):D2}{i % 60:D2}30</ThoiDiemXuLy>\n    <NoiDungXuLy>Chuyen xu ly buoc {i}</NoiDungXuLy>\n    <TrangThai>4</TrangThai>\n  </TienDoXuLy>\n");
        }

        text.Append("</GoiTinHoSo>");
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml(text.ToString());
        XmlDsigSigner.SignEnveloped(document.DocumentElement!, certificate);
        using var stream = new MemoryStream();
        using (var writer = XmlWriter.Create(stream, new XmlWriterSettings { Encoding = new UTF8Encoding(false) }))
        {
            document.Save(writer);
        }

        return stream.ToArray();
    }
}
