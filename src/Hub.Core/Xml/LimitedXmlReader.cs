using System.Text;
using System.Text.RegularExpressions;
using System.Xml;

namespace Hub.Core.Xml;

/// <summary>
/// Parses untrusted XML once, into a whitespace-preserving <see cref="XmlDocument"/>, under hard limits: no DTD (so
/// no external entity and no entity expansion can ever be processed), no resolver (nothing is fetched), at most
/// <see cref="SignedXmlPolicy.MaxBytes"/> bytes and characters, at most <see cref="SignedXmlPolicy.MaxDepth"/> nested
/// elements (checked while reading, before the tree is built deeper).
/// </summary>
public static partial class LimitedXmlReader
{
    /// <summary>How far past a rejected DOCTYPE the reason's classification looks (the DTD itself is never processed).</summary>
    private const int DoctypeScanChars = 64 * 1024;

    /// <summary>Parses <paramref name="body"/>, or says why it cannot be read safely.</summary>
    /// <returns>The document, or <c>null</c> and the rejection.</returns>
    public static XmlDocument? Load(ReadOnlyMemory<byte> body, SignedXmlPolicy policy, out SignedXmlRejection? rejection)
    {
        ArgumentNullException.ThrowIfNull(policy);
        rejection = null;
        if (body.Length > policy.MaxBytes)
        {
            rejection = new(SignedXmlCodes.TooLarge,
                $"the document is {body.Length} bytes, more than the limit of {policy.MaxBytes} bytes; send smaller documents");
            return null;
        }

        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = policy.MaxBytes,
            // Only the five predefined entities and character references remain once DTDs are prohibited.
            MaxCharactersFromEntities = 1024,
            CloseInput = true,
        };
        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        try
        {
            using var stream = new ReadOnlyMemoryStream(body);
            using var inner = XmlReader.Create(stream, settings);
            using var reader = new DepthLimitedReader(inner, policy.MaxDepth);
            document.Load(reader);
            return document;
        }
        catch (XmlDepthException e)
        {
            rejection = new(SignedXmlCodes.TooDeep,
                $"the element <{e.Element}> at line {e.Line}, position {e.Position} is nested more than {policy.MaxDepth} elements deep, the limit: deep nesting exhausts the stack of whatever walks the tree");
            return null;
        }
        catch (XmlException e)
        {
            rejection = Classify(body, e, policy);
            return null;
        }
    }

    private static SignedXmlRejection Classify(ReadOnlyMemory<byte> body, XmlException e, SignedXmlPolicy policy)
    {
        var where = $"line {e.LineNumber}, position {e.LinePosition}";
        var head = Encoding.UTF8.GetString(body.Span[..Math.Min(body.Length, DoctypeScanChars)]);
        var doctype = head.IndexOf("<!DOCTYPE", StringComparison.Ordinal);
        if (doctype >= 0)
        {
            // Only to name the attack in the reason: the DTD was refused before any of it was processed.
            var dtd = head[doctype..];
            var line = head.AsSpan(0, doctype).Count('\n') + 1;
            where = $"line {line}, position {doctype - head.LastIndexOf('\n', Math.Max(0, doctype - 1))}";
            if (ExternalEntity().IsMatch(dtd))
            {
                return new(SignedXmlCodes.ExternalEntity,
                    $"the document has a DTD (<!DOCTYPE at {where}) declaring an external entity (SYSTEM or PUBLIC): an XXE attempt to read files or URLs; DTDs are prohibited and nothing was resolved");
            }

            if (EntityDeclaration().IsMatch(dtd))
            {
                return new(SignedXmlCodes.EntityExpansion,
                    $"the document has a DTD (<!DOCTYPE at {where}) declaring entities: an entity expansion (\"billion laughs\") can blow one small document up to gigabytes; DTDs are prohibited and nothing was expanded");
            }

            return new(SignedXmlCodes.DtdProhibited, $"the document has a DTD (<!DOCTYPE at {where}); DTDs are prohibited: they are how entity attacks get in");
        }

        if (e.Message.Contains("MaxCharactersInDocument", StringComparison.Ordinal))
        {
            return new(SignedXmlCodes.TooLarge, $"the document has more than {policy.MaxBytes} characters (at {where})");
        }

        return new(SignedXmlCodes.MalformedXml, $"the body is not well-formed XML: {e.Message}");
    }

    [GeneratedRegex(@"<!ENTITY\s+(%\s+)?[^\s>]+\s+(SYSTEM|PUBLIC)\b", RegexOptions.CultureInvariant)]
    private static partial Regex ExternalEntity();

    [GeneratedRegex(@"<!ENTITY\s", RegexOptions.CultureInvariant)]
    private static partial Regex EntityDeclaration();

    /// <summary>A stream over bytes already in memory, without copying them.</summary>
    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> memory) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => memory.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(buffer.Length, memory.Length - _position);
            memory.Span.Slice(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class XmlDepthException(int line, int position, string element) : Exception
    {
        public int Line { get; } = line;

        public int Position { get; } = position;

        public string Element { get; } = element;
    }

    /// <summary>Passes every call to the inner reader, and stops at the first element deeper than the limit.</summary>
    private sealed class DepthLimitedReader(XmlReader inner, int maxDepth) : XmlReader
    {
        public override int AttributeCount => inner.AttributeCount;

        public override string BaseURI => inner.BaseURI;

        public override int Depth => inner.Depth;

        public override bool EOF => inner.EOF;

        public override bool IsEmptyElement => inner.IsEmptyElement;

        public override string LocalName => inner.LocalName;

        public override string Name => inner.Name;

        public override string NamespaceURI => inner.NamespaceURI;

        public override XmlNameTable NameTable => inner.NameTable;

        public override XmlNodeType NodeType => inner.NodeType;

        public override string Prefix => inner.Prefix;

        public override ReadState ReadState => inner.ReadState;

        public override string Value => inner.Value;

        public override bool HasValue => inner.HasValue;

        public override bool IsDefault => inner.IsDefault;

        public override XmlSpace XmlSpace => inner.XmlSpace;

        public override string XmlLang => inner.XmlLang;

        public override bool CanResolveEntity => inner.CanResolveEntity;

        public override XmlReaderSettings? Settings => inner.Settings;

        public override string GetAttribute(int i) => inner.GetAttribute(i);

        public override string? GetAttribute(string name) => inner.GetAttribute(name);

        public override string? GetAttribute(string name, string? namespaceURI) => inner.GetAttribute(name, namespaceURI);

        public override string? LookupNamespace(string prefix) => inner.LookupNamespace(prefix);

        public override void MoveToAttribute(int i) => inner.MoveToAttribute(i);

        public override bool MoveToAttribute(string name) => inner.MoveToAttribute(name);

        public override bool MoveToAttribute(string name, string? ns) => inner.MoveToAttribute(name, ns);

        public override bool MoveToElement() => inner.MoveToElement();

        public override bool MoveToFirstAttribute() => inner.MoveToFirstAttribute();

        public override bool MoveToNextAttribute() => inner.MoveToNextAttribute();

        public override bool ReadAttributeValue() => inner.ReadAttributeValue();

        public override void ResolveEntity() => inner.ResolveEntity();

        public override bool Read()
        {
            if (!inner.Read())
            {
                return false;
            }

            if (inner.NodeType == XmlNodeType.Element)
            {
                // Depth 0 is the document element: depth d means d + 1 nested elements.
                if (inner.Depth >= maxDepth)
                {
                    var info = inner as IXmlLineInfo;
                    throw new XmlDepthException(info?.LineNumber ?? 0, info?.LinePosition ?? 0, inner.Name);
                }
            }

            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
