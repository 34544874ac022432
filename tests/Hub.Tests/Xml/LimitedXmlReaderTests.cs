using System.Net;
using System.Net.Sockets;
using System.Text;
using Hub.Core.Xml;

namespace Hub.Tests.Xml;

public class LimitedXmlReaderTests
{
    [Theory]
    [InlineData(32, true)]
    [InlineData(33, false)]
    public void Nesting_up_to_the_limit_parses_and_one_level_more_is_refused(int depth, bool parses)
    {
        var xml = string.Concat(Enumerable.Repeat("<a>", depth)) + string.Concat(Enumerable.Repeat("</a>", depth));

        var document = LimitedXmlReader.Load(Encoding.UTF8.GetBytes(xml), new SignedXmlPolicy { MaxDepth = 32 }, out var rejection);

        Assert.Equal(parses, document is not null);
        Assert.Equal(parses ? null : SignedXmlCodes.TooDeep, rejection?.Code);
    }

    [Fact]
    public void The_byte_limit_is_inclusive_and_whitespace_is_kept_as_sent()
    {
        var xml = "<a>\n  <b> x </b>\n</a>";
        var bytes = Encoding.UTF8.GetBytes(xml);

        var document = LimitedXmlReader.Load(bytes, new SignedXmlPolicy { MaxBytes = bytes.Length }, out _);
        var refused = LimitedXmlReader.Load(bytes, new SignedXmlPolicy { MaxBytes = bytes.Length - 1 }, out var rejection);

        Assert.Equal(xml, document!.OuterXml);
        Assert.Null(refused);
        Assert.Equal(SignedXmlCodes.TooLarge, rejection!.Code);
        Assert.Contains($"the document is {bytes.Length} bytes, more than the limit of {bytes.Length - 1} bytes", rejection.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_external_entity_is_never_fetched()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var xml = $"<!DOCTYPE a [<!ENTITY e SYSTEM \"http://127.0.0.1:{port}/secret\">]><a>&e;</a>";

        var document = LimitedXmlReader.Load(Encoding.UTF8.GetBytes(xml), new SignedXmlPolicy(), out var rejection);

        Assert.Null(document);
        Assert.Equal(SignedXmlCodes.ExternalEntity, rejection!.Code);
        Assert.Contains("line 1, position 1", rejection.Reason, StringComparison.Ordinal);
        Assert.False(listener.Pending(), "the parser connected to the entity's URL");
    }
}
