using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Xml;

namespace Hub.Core.Xml;

/// <summary>
/// Verifies enveloped XML-DSig documents as <see cref="SignedXmlPolicy"/> requires, against the certificates
/// registered for the sender only (current, then previous): parse once under limits, find exactly one signature, a
/// child of the document element, whose single reference <c>#Id</c> names exactly one element, the document element
/// itself; check every algorithm before any is run; then let <see cref="SignedXml"/> check the digest and the
/// signature with a registered key, never a key from the message, and the certificate's validity at receipt.
/// </summary>
/// <remarks>
/// The accepted <see cref="SignedXmlVerification.Element"/> is the very element the signature covers: a reader that
/// takes its data from it alone cannot be shown content that was not signed. An instance is not thread-safe (it
/// holds the registered public keys); create one per connector and request.
/// </remarks>
public sealed class SignedXmlVerifier
{
    private const string ExcC14NNamespace = "http://www.w3.org/2001/10/xml-exc-c14n#";

    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string EcOid = "1.2.840.10045.2.1";

    private readonly SignedXmlPolicy _policy;
    private readonly X509Certificate2[] _certificates;

    /// <summary>Public keys, extracted when first needed (about 0.1 ms each): the previous certificate's only during a rotation.</summary>
    private readonly AsymmetricAlgorithm?[] _keys;

    static SignedXmlVerifier() => EcdsaSignatureDescription.Register();

    /// <summary>A verifier for one sender.</summary>
    /// <param name="policy">The rules.</param>
    /// <param name="certificates">The sender's registered certificates, the current one first (rotation: then the previous one).</param>
    public SignedXmlVerifier(SignedXmlPolicy policy, IReadOnlyList<X509Certificate2> certificates)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(certificates);
        if (certificates.Count == 0)
        {
            throw new ArgumentException("At least one registered certificate is needed.", nameof(certificates));
        }

        if (certificates.FirstOrDefault(c => c.PublicKey.Oid.Value is not (RsaOid or EcOid)) is { } unusable)
        {
            throw new ArgumentException($"Certificate {unusable.Subject} has neither an RSA nor an ECDSA public key.", nameof(certificates));
        }

        _policy = policy;
        _certificates = [.. certificates];
        _keys = new AsymmetricAlgorithm?[_certificates.Length];
    }

    /// <summary>Parses and verifies a document as received.</summary>
    /// <param name="body">The bytes received.</param>
    /// <param name="receivedAt">When the hub received them: the signing certificate must be valid then.</param>
    public SignedXmlVerification Verify(ReadOnlyMemory<byte> body, DateTimeOffset receivedAt)
    {
        var document = LimitedXmlReader.Load(body, _policy, out var rejection);
        return document is null ? SignedXmlVerification.Reject(rejection!) : Verify(document, receivedAt);
    }

    /// <summary>Verifies a document parsed by <see cref="LimitedXmlReader"/> (whitespace preserved); private so that no caller can skip the limited parse.</summary>
    private SignedXmlVerification Verify(XmlDocument document, DateTimeOffset receivedAt)
    {
        if (document.DocumentElement is not { } root)
        {
            return SignedXmlVerification.Reject(SignedXmlCodes.MalformedXml, "the document has no element");
        }

        if ((_policy.RootName is { } name && root.LocalName != name) || (_policy.RootNamespace is { } ns && root.NamespaceURI != ns))
        {
            return SignedXmlVerification.Reject(SignedXmlCodes.UnexpectedRoot,
                $"the document element is <{root.Name}> in namespace '{root.NamespaceURI}'; expected <{_policy.RootName ?? "*"}> in namespace '{_policy.RootNamespace ?? "*"}'");
        }

        var (signatures, identified) = Scan(root);
        if (signatures.Count == 0)
        {
            return SignedXmlVerification.Reject(SignedXmlCodes.NoSignature,
                $"the document has no XML-DSig <Signature> (namespace {XmlDsigSigner.DsigNamespace}); every document must be signed, as the last child of <{root.Name}>");
        }

        if (signatures.Count > 1)
        {
            return SignedXmlVerification.Reject(SignedXmlCodes.MultipleSignatures,
                $"the document has {signatures.Count} signatures ({string.Join(", ", signatures.Select(PathOf))}); exactly one is allowed, so that what was verified is what is read");
        }

        var signature = signatures[0];
        if (signature.ParentNode != root)
        {
            return SignedXmlVerification.Reject(SignedXmlCodes.SignatureMisplaced,
                $"the signature is at {PathOf(signature)}; it must be a child of the document element <{root.Name}>");
        }

        if (CheckSignedInfo(signature) is { } shapeProblem)
        {
            return SignedXmlVerification.Reject(shapeProblem);
        }

        var reference = Child(Child(signature, "SignedInfo")!, "Reference")!;
        var uri = reference.GetAttribute("URI");
        var id = uri[1..];
        var carriers = identified.Where(e => e.Value == id).Select(e => e.Element).Distinct().ToList();
        if (carriers.Count == 0)
        {
            return SignedXmlVerification.Reject(SignedXmlCodes.ReferenceUnresolved,
                $"the signature's reference URI \"{uri}\" names no element: no element carries Id=\"{id}\"");
        }

        if (carriers.Count > 1)
        {
            return SignedXmlVerification.Reject(SignedXmlCodes.WrappingDuplicatedElement,
                $"signature wrapping: Id=\"{id}\", which the signature references, is carried by {carriers.Count} elements ({string.Join(", ", carriers.Select(PathOf))}); "
                + "a verifier could check one and a reader use the other, so an Id must be unique");
        }

        var signed = carriers[0];
        if (signed != root)
        {
            return signed.LocalName == root.LocalName && signed.NamespaceURI == root.NamespaceURI
                ? SignedXmlVerification.Reject(SignedXmlCodes.WrappingMovedElement,
                    $"signature wrapping: the signed <{signed.Name} Id=\"{id}\"> is at {PathOf(signed)}, moved below an unsigned document element {Tag(root)}; "
                    + "the signature must cover the document element itself")
                : SignedXmlVerification.Reject(SignedXmlCodes.WrappingOtherId,
                    $"signature wrapping: the signature covers <{signed.Name} Id=\"{id}\"> at {PathOf(signed)}, not the document element {Tag(root)} that is read; "
                    + "the reference must be \"#\" and the document element's Id");
        }

        return CheckSignature(document, root, signature, receivedAt);
    }

    private SignedXmlVerification CheckSignature(XmlDocument document, XmlElement root, XmlElement signature, DateTimeOffset receivedAt)
    {
        var signedXml = new SignedXml(document);
        try
        {
            signedXml.LoadXml(signature);
        }
        catch (CryptographicException e)
        {
            return SignedXmlVerification.Reject(SignedXmlCodes.SignatureMalformed, $"the signature at {PathOf(signature)} cannot be read: {e.Message}");
        }

        for (var i = 0; i < _certificates.Length; i++)
        {
            var certificate = _certificates[i];
            var key = _keys[i] ??= (AsymmetricAlgorithm?)certificate.GetRSAPublicKey() ?? certificate.GetECDsaPublicKey()!;
            bool valid;
            try
            {
                valid = signedXml.CheckSignature(key);
            }
            catch (CryptographicException)
            {
                // A key of another type than the signature method's (an ECDSA certificate for an RSA signature).
                valid = false;
            }

            if (!valid)
            {
                continue;
            }

            var at = receivedAt.UtcDateTime;
            if (at > certificate.NotAfter.ToUniversalTime())
            {
                return SignedXmlVerification.Reject(SignedXmlCodes.CertificateExpired,
                    $"the signature verifies with the connector's registered certificate {Describe(certificate)}, which expired on {certificate.NotAfter.ToUniversalTime():u}, "
                    + $"before the document was received ({at:u}); the sender must sign with a valid certificate, and the hub's operators register it");
            }

            if (at < certificate.NotBefore.ToUniversalTime())
            {
                return SignedXmlVerification.Reject(SignedXmlCodes.CertificateNotYetValid,
                    $"the signature verifies with the connector's registered certificate {Describe(certificate)}, which is valid only from {certificate.NotBefore.ToUniversalTime():u}, "
                    + $"after the document was received ({at:u})");
            }

            return SignedXmlVerification.Accept(root, certificate);
        }

        return Explain(root, signature);
    }

    /// <summary>Why no registered key verified the signature (only on this failure path, so its cost does not matter).</summary>
    private SignedXmlVerification Explain(XmlElement root, XmlElement signature)
    {
        var signedInfo = Child(signature, "SignedInfo")!;
        var reference = Child(signedInfo, "Reference")!;
        if (!DigestMatches(root, reference))
        {
            return SignedXmlVerification.Reject(SignedXmlCodes.DigestMismatch,
                $"the digest of {Tag(root)} does not match the signature's DigestValue: the signed content was changed after signing");
        }

        var registered = string.Join(", ", _certificates.Select(Describe));
        var keyInfo = Child(signature, "KeyInfo");
        var keyValue = keyInfo is null ? null : Child(keyInfo, "KeyValue");
        var carried = keyInfo is null ? null : Child(keyInfo, "X509Data") is { } data ? Child(data, "X509Certificate") : null;
        if (keyValue is not null && carried is null)
        {
            return SignedXmlVerification.Reject(SignedXmlCodes.EmbeddedKeyNotTrusted,
                $"the signature does not verify with the connector's registered certificate ({registered}); it carries its own key in {PathOf(keyValue)}, "
                + "which the hub never trusts: anyone can sign with a key they put in the message");
        }

        var hint = carried is not null && TryReadCertificate(carried.InnerText) is { } other
            ? $"; KeyInfo names {Describe(other)}, which is not registered for the connector (keys in the message are never trusted)"
            : "";
        return SignedXmlVerification.Reject(SignedXmlCodes.WrongCertificate,
            $"the signature over SignedInfo does not verify with the connector's registered certificate ({registered}): it was made with another key{hint}");
    }

    /// <summary>Checks SignedInfo's shape and every algorithm in it, before anything is canonicalised or hashed.</summary>
    private static SignedXmlRejection? CheckSignedInfo(XmlElement signature)
    {
        var where = PathOf(signature);
        if (Single(signature, "SignedInfo", where) is { } noSignedInfo)
        {
            return noSignedInfo;
        }

        if (Single(signature, "SignatureValue", where) is { } noValue)
        {
            return noValue;
        }

        var signedInfo = Child(signature, "SignedInfo")!;
        where = PathOf(signedInfo);
        foreach (var part in new[] { "CanonicalizationMethod", "SignatureMethod" })
        {
            if (Single(signedInfo, part, where) is { } missing)
            {
                return missing;
            }
        }

        var c14n = Child(signedInfo, "CanonicalizationMethod")!.GetAttribute("Algorithm");
        if (!SignedXmlPolicy.Canonicalizations.Contains(c14n))
        {
            return new(SignedXmlCodes.CanonicalizationNotAllowed,
                $"{where}/CanonicalizationMethod is \"{c14n}\"; only exclusive c14n ({SignedXml.XmlDsigExcC14NTransformUrl}) is allowed, the method the hub and its partners sign with");
        }

        var method = Child(signedInfo, "SignatureMethod")!.GetAttribute("Algorithm");
        if (SignedXmlPolicy.Sha1SignatureMethods.Contains(method))
        {
            return new(SignedXmlCodes.Sha1Signature,
                $"{where}/SignatureMethod is \"{method}\", a SHA-1 signature: SHA-1 collisions are practical (SHAttered, 2017), so a SHA-1 signature proves nothing; allowed: {Allowed(SignedXmlPolicy.SignatureMethods)}");
        }

        if (!SignedXmlPolicy.SignatureMethods.ContainsKey(method))
        {
            return new(SignedXmlCodes.SignatureAlgorithmNotAllowed,
                $"{where}/SignatureMethod is \"{method}\"; allowed: {Allowed(SignedXmlPolicy.SignatureMethods)} (an HMAC method would let anyone holding the key forge)");
        }

        var references = Children(signedInfo, "Reference").ToList();
        if (references.Count != 1)
        {
            return new(SignedXmlCodes.ReferenceCount,
                $"{where} has {references.Count} <Reference> elements; exactly one is allowed, to the document element");
        }

        var reference = references[0];
        where = PathOf(reference);
        var uri = reference.GetAttribute("URI");
        if (!reference.HasAttribute("URI") || uri.Length < 2 || uri[0] != '#' || !IsNcName(uri.AsSpan(1)))
        {
            return new(SignedXmlCodes.ReferenceUriNotAllowed,
                $"{where} has URI=\"{uri}\"; it must be \"#\" followed by the Id of the document element (no whole-document, external or XPointer references)");
        }

        if (Single(reference, "DigestMethod", where) is { } noDigestMethod)
        {
            return noDigestMethod;
        }

        if (Single(reference, "DigestValue", where) is { } noDigestValue)
        {
            return noDigestValue;
        }

        var digest = Child(reference, "DigestMethod")!.GetAttribute("Algorithm");
        if (digest == SignedXmlPolicy.Sha1DigestMethod)
        {
            return new(SignedXmlCodes.Sha1Digest,
                $"{where}/DigestMethod is \"{digest}\", SHA-1: its collisions are practical (SHAttered, 2017), so two contents could share one signed digest; allowed: {Allowed(SignedXmlPolicy.DigestMethods)}");
        }

        if (!SignedXmlPolicy.DigestMethods.ContainsKey(digest))
        {
            return new(SignedXmlCodes.DigestAlgorithmNotAllowed, $"{where}/DigestMethod is \"{digest}\"; allowed: {Allowed(SignedXmlPolicy.DigestMethods)}");
        }

        var transformsElements = Children(reference, "Transforms").ToList();
        var transforms = transformsElements.Count == 1 ? Children(transformsElements[0], "Transform").ToList() : [];
        foreach (var transform in transforms)
        {
            var algorithm = transform.GetAttribute("Algorithm");
            if (!SignedXmlPolicy.Transforms.Contains(algorithm))
            {
                return new(SignedXmlCodes.TransformNotAllowed,
                    $"{PathOf(transform)} is \"{algorithm}\"{TransformName(algorithm)}; only the enveloped-signature transform then exclusive c14n are allowed: "
                    + "other transforms (XPath, XSLT) can run code, cost without bound, or make the signature cover something else than what is read");
            }
        }

        if (transformsElements.Count != 1 || transforms.Count != 2
            || transforms[0].GetAttribute("Algorithm") != SignedXml.XmlDsigEnvelopedSignatureTransformUrl
            || !SignedXmlPolicy.Canonicalizations.Contains(transforms[1].GetAttribute("Algorithm")))
        {
            return new(SignedXmlCodes.TransformNotAllowed,
                $"{where}/Transforms has [{string.Join(", ", transforms.Select(t => t.GetAttribute("Algorithm")))}]; it must be exactly the enveloped-signature transform then exclusive c14n");
        }

        return null;
    }

    /// <summary>The reference digest recomputed as <see cref="SignedXml"/> does for <c>#Id</c>: the document element without its signature, comments dropped, exclusive c14n.</summary>
    private static bool DigestMatches(XmlElement root, XmlElement reference)
    {
        var copy = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        var element = (XmlElement)copy.ImportNode(root, deep: true);
        copy.AppendChild(element);
        foreach (var child in element.ChildNodes.OfType<XmlElement>().Where(IsSignature).ToList())
        {
            element.RemoveChild(child);
        }

        var c14n = Child(Child(reference, "Transforms")!, "Transform", 1)!;
        var prefixes = c14n.GetElementsByTagName("InclusiveNamespaces", ExcC14NNamespace).OfType<XmlElement>().FirstOrDefault()?.GetAttribute("PrefixList");
        var transform = prefixes is null ? new XmlDsigExcC14NTransform() : new XmlDsigExcC14NTransform(prefixes);
        transform.LoadInput(copy);
        using var canonical = (Stream)transform.GetOutput(typeof(Stream));
        using HashAlgorithm hash = Child(reference, "DigestMethod")!.GetAttribute("Algorithm") switch
        {
            SignedXml.XmlDsigSHA384Url => SHA384.Create(),
            SignedXml.XmlDsigSHA512Url => SHA512.Create(),
            _ => SHA256.Create(),
        };
        var computed = hash.ComputeHash(canonical);
        try
        {
            return CryptographicOperations.FixedTimeEquals(computed, Convert.FromBase64String(Child(reference, "DigestValue")!.InnerText.Trim()));
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>One walk of the tree: every ds:Signature, and every element with an Id, ID or id attribute (those <see cref="SignedXml"/> resolves).</summary>
    private static (List<XmlElement> Signatures, List<(XmlElement Element, string Value)> Identified) Scan(XmlElement root)
    {
        var signatures = new List<XmlElement>(1);
        var identified = new List<(XmlElement, string)>(4);
        var pending = new Stack<XmlElement>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var element = pending.Pop();
            if (IsSignature(element))
            {
                signatures.Add(element);
            }

            if (element.HasAttributes)
            {
                foreach (XmlAttribute attribute in element.Attributes)
                {
                    if (attribute.NamespaceURI.Length == 0 && attribute.LocalName is "Id" or "ID" or "id")
                    {
                        identified.Add((element, attribute.Value));
                    }
                }
            }

            for (var child = element.LastChild; child is not null; child = child.PreviousSibling)
            {
                if (child is XmlElement e)
                {
                    pending.Push(e);
                }
            }
        }

        return (signatures, identified);
    }

    private static bool IsSignature(XmlElement element) => element.LocalName == "Signature" && element.NamespaceURI == XmlDsigSigner.DsigNamespace;

    private static IEnumerable<XmlElement> Children(XmlElement parent, string localName) =>
        parent.ChildNodes.OfType<XmlElement>().Where(e => e.LocalName == localName && e.NamespaceURI == XmlDsigSigner.DsigNamespace);

    private static XmlElement? Child(XmlElement parent, string localName, int index = 0) => Children(parent, localName).Skip(index).FirstOrDefault();

    private static SignedXmlRejection? Single(XmlElement parent, string localName, string where)
    {
        var count = Children(parent, localName).Count();
        return count == 1
            ? null
            : new(SignedXmlCodes.SignatureMalformed, $"{where} has {count} <{localName}> elements; XML-DSig requires exactly one");
    }

    private static string Allowed(IReadOnlyDictionary<string, string> methods) => string.Join(", ", methods.Values);

    private static string TransformName(string algorithm) => algorithm switch
    {
        SignedXml.XmlDsigXPathTransformUrl => " (XPath)",
        SignedXml.XmlDsigXsltTransformUrl => " (XSLT)",
        SignedXml.XmlDsigBase64TransformUrl => " (base64)",
        SignedXml.XmlDsigC14NTransformUrl or SignedXml.XmlDsigC14NWithCommentsTransformUrl => " (inclusive c14n)",
        _ => "",
    };

    private static string Tag(XmlElement element) =>
        element.GetAttribute("Id") is { Length: > 0 } id ? $"<{element.Name} Id=\"{id}\">" : $"<{element.Name}> (without Id)";

    private static string Describe(X509Certificate2 certificate) =>
        string.Create(CultureInfo.InvariantCulture, $"'{certificate.Subject}' (SHA-256 thumbprint {Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256))[..16]}…)");

    private static X509Certificate2? TryReadCertificate(string base64)
    {
        try
        {
            return X509CertificateLoader.LoadCertificate(Convert.FromBase64String(base64.Trim()));
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return null;
        }
    }

    /// <summary>Where an element is: its ancestors' names, with positions among same-named siblings when there are several.</summary>
    public static string PathOf(XmlElement element)
    {
        var parts = new List<string>();
        for (XmlNode? node = element; node is XmlElement e; node = node.ParentNode)
        {
            var same = e.ParentNode?.ChildNodes.OfType<XmlElement>().Where(s => s.Name == e.Name).ToList();
            parts.Add(same is { Count: > 1 } ? $"{e.Name}[{same.IndexOf(e) + 1}]" : e.Name);
        }

        parts.Reverse();
        return "/" + string.Join('/', parts);
    }

    private static bool IsNcName(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || !(char.IsLetter(text[0]) || text[0] == '_'))
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!(char.IsLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
