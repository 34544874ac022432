using System.Text.RegularExpressions;

namespace Hub.Core.Model;

/// <summary>Procedure codes (<c>MaTTHC</c>).</summary>
public static partial class ProcedureCodes
{
    /// <summary>
    /// The national base code of a procedure code: the national form is <c>1.005129</c>; provinces append an
    /// agency suffix (<c>1.003560.000.00.00.H56</c>) and the national portal wants the base code back.
    /// Returns the first two dot-separated groups when both are ASCII digits; null when the code is missing or
    /// does not start with the national form. Surrounding whitespace is ignored.
    /// </summary>
    public static string? BaseCode(string? localCode)
    {
        if (string.IsNullOrWhiteSpace(localCode))
        {
            return null;
        }

        var match = NationalPrefix().Match(localCode.Trim());
        return match.Success ? match.Groups["base"].Value : null;
    }

    // [0-9], not \d: \d also matches non-ASCII digits. The base must be followed by a dot or the end, so that
    // 1.005129abc is not taken for 1.005129.
    [GeneratedRegex(@"^(?<base>[0-9]+\.[0-9]+)(?:\.|$)", RegexOptions.CultureInvariant)]
    private static partial Regex NationalPrefix();
}
