using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Hub.Core.Audit;

/// <summary>
/// <c>Hub.Worker evidence verify &lt;bundle.xml&gt; --certificate &lt;hub-cert.pem&gt;</c>: verifies an evidence bundle
/// offline (no database, no network) and says what was checked. Exit code 0 valid, 1 invalid, 2 usage error.
/// </summary>
public static class EvidenceCommand
{
    public const int Valid = 0;
    public const int Invalid = 1;
    public const int UsageError = 2;

    private const string Usage = """
        usage: Hub.Worker evidence verify <bundle.xml> --certificate <hub-cert.pem> [--certificate <earlier-cert.pem>]...

        Verifies an evidence bundle exported by GET /api/exchange/evidence, offline: the bundle's signature and its
        checkpoint's signature against the given certificates (never a key carried in the bundle), and for every entry
        its payload's SHA-256, its leaf hash and its inclusion path to the checkpoint's root. A PEM file may hold several
        certificates (GET /api/exchange/certificate gives the hub's current and earlier ones).
        Exit code: 0 valid, 1 invalid, 2 usage error.
        """;

    private const int MaxProblemsShown = 20;

    /// <summary>Whether the command line asks for this command rather than the hub.</summary>
    public static bool Handles(string[] args) => args is ["evidence", ..];

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args is ["evidence", "verify", .. var rest])
        {
            return Verify(rest, output, error);
        }

        if (args is ["evidence", "--help" or "-h" or "help"] or ["evidence", "verify", "--help" or "-h"])
        {
            output.WriteLine(Usage);
            return Valid;
        }

        return Fail(error, args is ["evidence"] ? "a sub-command is needed" : $"unknown sub-command '{args[1]}'");
    }

    private static int Verify(string[] args, TextWriter output, TextWriter error)
    {
        if (args is ["--help" or "-h"])
        {
            output.WriteLine(Usage);
            return Valid;
        }

        string? bundlePath = null;
        var certificatePaths = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--certificate")
            {
                if (i + 1 >= args.Length)
                {
                    return Fail(error, "--certificate needs a PEM file");
                }

                certificatePaths.Add(args[++i]);
            }
            else if (arg.StartsWith("--certificate=", StringComparison.Ordinal))
            {
                certificatePaths.Add(arg["--certificate=".Length..]);
            }
            else if (arg.StartsWith('-'))
            {
                return Fail(error, $"unknown option '{arg}'");
            }
            else if (bundlePath is null)
            {
                bundlePath = arg;
            }
            else
            {
                return Fail(error, $"one bundle at a time ('{bundlePath}' and '{arg}' given)");
            }
        }

        if (bundlePath is null)
        {
            return Fail(error, "the bundle file is missing");
        }

        if (certificatePaths.Count == 0)
        {
            return Fail(error, "--certificate is needed: the hub's signing certificate (PEM), from its operators or GET /api/exchange/certificate");
        }

        var certificates = new X509Certificate2Collection();
        foreach (var path in certificatePaths)
        {
            if (!File.Exists(path))
            {
                return Fail(error, $"certificate file '{path}' does not exist");
            }

            try
            {
                var before = certificates.Count;
                certificates.ImportFromPemFile(path);
                if (certificates.Count == before)
                {
                    return Fail(error, $"certificate file '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
                }
            }
            catch (CryptographicException e)
            {
                return Fail(error, $"certificate file '{path}' cannot be read: {e.Message}");
            }
        }

        if (!File.Exists(bundlePath))
        {
            return Fail(error, $"bundle file '{bundlePath}' does not exist");
        }

        var length = new FileInfo(bundlePath).Length;
        output.WriteLine($"Bundle:       {bundlePath} ({length.ToString("N0", CultureInfo.InvariantCulture)} bytes)");
        foreach (var certificate in certificates)
        {
            output.WriteLine($"Certificate:  {certificate.Subject}, SHA-256 {Checkpoint.ThumbprintOf(certificate)}");
        }

        if (length > EvidenceBundle.MaxDocumentBytes)
        {
            output.WriteLine($"INVALID: the bundle has more than the {EvidenceBundle.MaxDocumentBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes a bundle may have");
            return Invalid;
        }

        var result = EvidenceBundle.Verify(File.ReadAllBytes(bundlePath), [.. certificates]);
        Describe(result, output);
        if (result.Valid)
        {
            output.WriteLine("valid");
            return Valid;
        }

        output.WriteLine("INVALID: " + result.FirstProblem!.Problem);
        foreach (var problem in result.Problems.Skip(1).Take(MaxProblemsShown - 1))
        {
            output.WriteLine("  also: " + problem.Problem);
        }

        if (result.Problems.Count > MaxProblemsShown)
        {
            output.WriteLine($"  and {result.Problems.Count - MaxProblemsShown} more problems");
        }

        return Invalid;
    }

    private static void Describe(EvidenceVerification result, TextWriter output)
    {
        if (result.Query is { } query)
        {
            output.WriteLine($"Query:        {query}");
        }

        if (result.ExportedAt is { } exportedAt)
        {
            output.WriteLine($"Exported:     {ExchangeEntry.FormatTime(exportedAt)}, signed by {result.Signer}");
        }

        if (result.Checkpoint is { } c)
        {
            output.WriteLine($"Checkpoint:   {c.TreeSize} entries, root {Convert.ToHexStringLower(c.RootHash)}, sealed {ExchangeEntry.FormatTime(c.SealedAt)}, origin {c.Origin}, signed by {c.Signer}");
        }

        output.WriteLine($"Entries:      {result.Entries} checked (payload SHA-256 and size, leaf hash from the fields, inclusion path to the checkpoint's root)"
            + (result.Unsealed > 0 ? $"; {result.Unsealed} matching entries were not sealed yet at the export and are not in the bundle" : ""));
    }

    private static int Fail(TextWriter error, string message)
    {
        error.WriteLine("error: " + message);
        error.WriteLine(Usage);
        return UsageError;
    }
}
