using System.Diagnostics;
using Hub.Core.Audit;
using Hub.Tests.Infrastructure;

namespace Hub.Tests.Audit;

/// <summary>
/// An exported bundle checked by tools outside the hub's process: xmlsec1 (an independent XML-DSig implementation)
/// verifies both of its signatures, and the hub's own command line verifies it offline with only the certificate.
/// </summary>
public sealed class EvidenceToolsTests : IAsyncLifetime
{
    private const string Ns = Checkpoint.Namespace;
    private const string CheckpointSignature = "//*[local-name()='Checkpoint']/*[local-name()='Signature']";
    private const string BundleSignature = "/*/*[local-name()='Signature']";

    private EvidenceKit _kit = null!;
    private string _work = "";
    private byte[] _bundle = [];
    private string _certificate = "";

    public async Task InitializeAsync()
    {
        _kit = await EvidenceKit.CreateAsync("evidence_tools");
        _bundle = await _kit.DossierBundleAsync();
        _work = Directory.CreateTempSubdirectory("hub-evidence-").FullName;
        _certificate = EvidenceKit.WriteCertificate(_work);
    }

    public async Task DisposeAsync()
    {
        await _kit.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public void Xmlsec1_verifies_the_checkpoint_signature_and_the_bundle_signature_with_the_hub_certificate_only()
    {
        var file = Write("bundle.xml", _bundle);

        var checkpoint = XmlsecVerify(file, _certificate, $"{Ns}:Checkpoint", CheckpointSignature);
        var bundle = XmlsecVerify(file, _certificate, $"{Ns}:Content", BundleSignature);

        Assert.True(checkpoint.Verified, $"{checkpoint.CommandLine}\n{checkpoint.Output}");
        Assert.True(bundle.Verified, $"{bundle.CommandLine}\n{bundle.Output}");
        var other = Path.Combine(_work, "other.pem");
        File.WriteAllText(other, TestSigning.Other.Certificate.ExportCertificatePem());
        Assert.False(XmlsecVerify(file, other, $"{Ns}:Content", BundleSignature).Verified);
        Assert.False(XmlsecVerify(file, other, $"{Ns}:Checkpoint", CheckpointSignature).Verified);
    }

    [Fact]
    public void One_byte_flipped_in_an_entry_fails_in_xmlsec1_and_in_the_hub_command_line_which_names_the_entry()
    {
        var file = Write("entry-flipped.xml", EvidenceKit.Flip(_bundle, EvidenceKit.Inside(_bundle, "new mapping")));

        var xmlsec = XmlsecVerify(file, _certificate, $"{Ns}:Content", BundleSignature);
        var cli = Cli("evidence", "verify", file, "--certificate", _certificate);

        Assert.False(xmlsec.Verified, xmlsec.Output);
        Assert.NotEqual(0, xmlsec.ExitCode);
        Assert.Equal(1, cli.ExitCode);
        Assert.Contains($"INVALID: entry {_kit.DossierEntries[^3]} ", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void One_byte_flipped_in_the_checkpoint_fails_both_xmlsec1_checks_and_the_hub_command_line()
    {
        var file = Write("checkpoint-flipped.xml", EvidenceKit.Flip(_bundle, EvidenceKit.DigitAfter(_bundle, "<RootHash>")));

        Assert.False(XmlsecVerify(file, _certificate, $"{Ns}:Checkpoint", CheckpointSignature).Verified);
        Assert.False(XmlsecVerify(file, _certificate, $"{Ns}:Content", BundleSignature).Verified);
        var cli = Cli("evidence", "verify", file, "--certificate", _certificate);
        Assert.Equal(1, cli.ExitCode);
        Assert.Contains("INVALID: the checkpoint of 13 leaves: the checkpoint's signature does not verify", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_hub_command_line_says_what_it_checked_and_valid_with_exit_code_0()
    {
        var file = Write("bundle.xml", _bundle);

        var cli = Cli("evidence", "verify", file, "--certificate", _certificate);

        Assert.True(cli.ExitCode == 0, cli.Output);
        var lines = cli.Output.TrimEnd().Split('\n');
        Assert.Equal("valid", lines[^1]);
        Assert.Contains($"Query:        dossier {EvidenceKit.Dossier}", cli.Output, StringComparison.Ordinal);
        Assert.Contains("Checkpoint:   13 entries, root ", cli.Output, StringComparison.Ordinal);
        Assert.Contains($"Entries:      {_kit.DossierEntries.Count} checked", cli.Output, StringComparison.Ordinal);
        Assert.Contains($"signed by {Checkpoint.ThumbprintOf(TestSigning.Hub.Certificate)}", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_hub_command_line_refuses_a_bundle_checked_against_another_certificate_and_a_call_without_one()
    {
        var file = Write("bundle.xml", _bundle);
        var other = Path.Combine(_work, "other.pem");
        File.WriteAllText(other, TestSigning.Other.Certificate.ExportCertificatePem());

        var wrong = Cli("evidence", "verify", file, "--certificate", other);
        var missing = Cli("evidence", "verify", file);
        var absent = Cli("evidence", "verify", Path.Combine(_work, "absent.xml"), "--certificate", _certificate);

        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("not among the certificates given", wrong.Output, StringComparison.Ordinal);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--certificate is needed", missing.Output, StringComparison.Ordinal);
        Assert.Equal(2, absent.ExitCode);
        Assert.Contains("does not exist", absent.Output, StringComparison.Ordinal);
    }

    private string Write(string name, byte[] content)
    {
        var path = Path.Combine(_work, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private XmlsecResult XmlsecVerify(string file, string certificate, string idNode, string signatureXPath) =>
        Xmlsec.Run(_work, "--verify", "--enabled-reference-uris", "same-doc", "--pubkey-cert-pem", certificate, "--id-attr:Id", idNode,
            "--node-xpath", signatureXPath, file);

    /// <summary>Runs the hub's program (Hub.Worker.dll from the build) as an auditor would, with no database configured.</summary>
    private static (int ExitCode, string Output) Cli(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Hub.Worker.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result + errors.Result);
    }
}
