using System.Diagnostics;
using System.Security.Cryptography.Xml;
using System.Text.Json;

namespace Hub.Tests.Xml;

/// <summary>The XML-DSig code the hub runs is the pinned package, not an older copy of the installed framework.</summary>
public class XmlPackageVersionTests
{
    private static readonly Version Fixed = new(10, 0, 15);

    [Fact]
    public void The_loaded_SignedXml_is_at_least_the_release_that_fixes_the_2026_advisories()
    {
        var file = FileVersionInfo.GetVersionInfo(typeof(SignedXml).Assembly.Location);
        var product = Version.Parse(file.ProductVersion!.Split('+', '-')[0]);
        Assert.True(product >= Fixed, $"{typeof(SignedXml).Assembly.Location} is {file.ProductVersion}, older than {Fixed}");
    }

    [Fact]
    public void The_hub_and_the_command_line_ship_the_pinned_package()
    {
        foreach (var program in new[] { "Hub.Worker", "hub" })
        {
            using var deps = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, program + ".deps.json")));
            var libraries = deps.RootElement.GetProperty("libraries").EnumerateObject().Select(l => l.Name).ToList();
            var xml = Assert.Single(libraries, l => l.StartsWith("System.Security.Cryptography.Xml/", StringComparison.Ordinal));
            Assert.True(Version.Parse(xml.Split('/')[1]) >= Fixed, $"{program} resolves {xml}");
        }
    }
}
