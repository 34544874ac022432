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

    /// <summary>Whether it may maintain the connectors of <paramref name="agencyCode"/>: as an operator, or as that agency's province-admin.</summary>
    public bool MayManageAgency(string agencyCode) =>
        Has(Roles.Operator) || Grants.Any(g => g.Role == Roles.ProvinceAdmin && string.Equals(g.AgencyCode, agencyCode, StringComparison.Ordinal));
}
