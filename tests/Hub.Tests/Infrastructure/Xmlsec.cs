using System.ComponentModel;
using System.Diagnostics;

namespace Hub.Tests.Infrastructure;

/// <summary>
/// <c>xmlsec1</c>, the command-line tool of the XML Security Library (Debian package <c>xmlsec1</c>): an XML-DSig
/// implementation independent of .NET's, to check that what the hub signs verifies elsewhere and the other way round.
/// </summary>
public static class Xmlsec
{
    private const string Program = "xmlsec1";

    /// <summary>Runs xmlsec1 with the arguments, in <paramref name="workingDirectory"/>; fails the test if xmlsec1 is not installed.</summary>
    public static XmlsecResult Run(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(Program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException(
                $"{Program} is not installed ({e.Message}): the XML-DSig interop tests need it. Install Debian's package: "
                + "apt-get install --no-install-recommends xmlsec1 (scripts/test does it)");
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            return new XmlsecResult(process.ExitCode, output.Result + errors.Result, $"{Program} {string.Join(' ', arguments)}");
        }
    }

    /// <summary>
    /// <c>xmlsec1 --verify --pubkey-cert-pem cert.pem --id-attr:Id {idNode} [--node-xpath {xpath}] doc.xml</c>: verifies
    /// the document's signature (the first one, or the one <paramref name="signatureXPath"/> selects) with only the
    /// signer's certificate given.
    /// </summary>
    /// <param name="document">The signed document.</param>
    /// <param name="certificatePem">The signer's certificate, PEM.</param>
    /// <param name="idNode">The element whose <c>Id</c> attribute is an ID: <c>[namespace-uri:]local-name</c>.</param>
    /// <param name="signatureXPath">The ds:Signature to verify, when it is not the first in the document.</param>
    public static XmlsecResult Verify(string document, string certificatePem, string idNode, string? signatureXPath = null)
    {
        using var work = new WorkFolder();
        File.WriteAllText(work.File("doc.xml"), document);
        File.WriteAllText(work.File("cert.pem"), certificatePem);
        var arguments = new List<string> { "--verify", "--pubkey-cert-pem", "cert.pem", "--id-attr:Id", idNode };
        if (signatureXPath is not null)
        {
            arguments.AddRange(["--node-xpath", signatureXPath]);
        }

        arguments.Add("doc.xml");
        return Run(work.Path, [.. arguments]);
    }

    /// <summary>
    /// <c>xmlsec1 --sign --privkey-pem key.pem,cert.pem --id-attr:Id {idNode} --output signed.xml template.xml</c>: fills
    /// the template's empty DigestValue and SignatureValue; fails the test if xmlsec1 refuses.
    /// </summary>
    public static string Sign(string template, string privateKeyPem, string certificatePem, string idNode)
    {
        using var work = new WorkFolder();
        File.WriteAllText(work.File("template.xml"), template);
        File.WriteAllText(work.File("key.pem"), privateKeyPem);
        File.WriteAllText(work.File("cert.pem"), certificatePem);
        var result = Run(work.Path, "--sign", "--privkey-pem", "key.pem,cert.pem", "--id-attr:Id", idNode, "--output", "signed.xml", "template.xml");
        Assert.True(result.ExitCode == 0, $"{result.CommandLine} failed with exit code {result.ExitCode}:\n{result.Output}");
        return File.ReadAllText(work.File("signed.xml"));
    }

    private sealed class WorkFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("hub-xmlsec-").FullName;

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

/// <summary>What an xmlsec1 run gave.</summary>
/// <param name="ExitCode">0 when the operation succeeded.</param>
/// <param name="Output">Standard output then standard error.</param>
/// <param name="CommandLine">The command, for messages.</param>
public sealed record XmlsecResult(int ExitCode, string Output, string CommandLine)
{
    /// <summary>Whether xmlsec1 verified the signature: exit code 0 and "OK" on its output.</summary>
    public bool Verified => ExitCode == 0 && Output.Contains("OK", StringComparison.Ordinal);
}
