namespace Hub.Core.Identity;

/// <summary>The roles a principal can hold. Deny by default: a principal can do only what a role it holds allows.</summary>
public static class Roles
{
    /// <summary>Registers, tests and maintains the connectors of the agencies (provinces or ministries) it is granted.</summary>
    public const string ProvinceAdmin = "province-admin";

    /// <summary>Central operations: approves, pauses and monitors every connector and sync.</summary>
    public const string Operator = "operator";

    /// <summary>Reads the exchange log and evidence, the only role that sees raw payloads; writes nothing.</summary>
    public const string Auditor = "auditor";

    /// <summary>Manages principals and their keys.</summary>
    public const string Admin = "admin";

    /// <summary>Every role.</summary>
    public static IReadOnlyList<string> All { get; } = [ProvinceAdmin, Operator, Auditor, Admin];
}

/// <summary>A role granted to a principal; <see cref="AgencyCode"/> is set for <see cref="Roles.ProvinceAdmin"/> only.</summary>
/// <param name="Role">One of <see cref="Roles"/>.</param>
/// <param name="AgencyCode">The agency (province or ministry code) a province-admin grant is for.</param>
public sealed record RoleGrant(string Role, string? AgencyCode = null);

/// <summary>Someone (or some system) who calls the hub's API.</summary>
/// <param name="Id">Its id: lower-case letters, digits and <c>. _ @ -</c>.</param>
/// <param name="DisplayName">Its name as people know it.</param>
/// <param name="Grants">Its roles.</param>
/// <param name="Disabled">Whether it was disabled (its keys no longer authenticate).</param>
public sealed record Principal(string Id, string DisplayName, IReadOnlyList<RoleGrant> Grants, bool Disabled = false)
{
    /// <summary>Whether it holds <paramref name="role"/> (for any agency).</summary>
    public bool Has(string role) => Grants.Any(g => g.Role == role);

    /// <summary>The agencies it is a province-admin of.</summary>
    public IReadOnlyList<string> Agencies => [.. Grants.Where(g => g.Role == Roles.ProvinceAdmin).Select(g => g.AgencyCode!).Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// Whether it may maintain the connectors of <paramref name="agencyCode"/>: as an operator, or as a province-admin of
    /// exactly that agency (agency codes are opaque: no hierarchy is read into them). Central connectors (no agency) are
    /// the operators' only.
    /// </summary>
    public bool MayManageAgency(string? agencyCode) =>
        Has(Roles.Operator)
        || (agencyCode is not null && Grants.Any(g => g.Role == Roles.ProvinceAdmin && g.AgencyCode is not null && string.Equals(g.AgencyCode, agencyCode, StringComparison.Ordinal)));
}

/// <summary>Agency codes (mã định danh điện tử, Decision 20/2020): up to 35 characters, dot-separated groups, e.g. <c>H56</c>, <c>G09.20</c>.</summary>
public static partial class AgencyCodes
{
    /// <summary>What a valid code looks like, for error messages.</summary>
    public const string Expected = "an agency code: up to 35 characters, dot-separated groups of digits and capitals, e.g. H56 or G09.20";

    /// <summary>Whether <paramref name="code"/> is a well-formed agency code.</summary>
    public static bool IsValid(string? code) => code is not null && Pattern().IsMatch(code);

    [System.Text.RegularExpressions.GeneratedRegex("^(?=.{1,35}$)[0-9A-Z]+(\\.[0-9A-Z]+)*$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex Pattern();
}
