using System.Text;
using Hub.Core.Audit;
using Hub.Core.Identity;
using Hub.Tests.Connectors.RestPull;
using Hub.Tests.Infrastructure;
using Npgsql;

namespace Hub.Tests.Identity;

/// <summary>Principals, roles and API keys in PostgreSQL: keys shown once, stored hashed, revocable, expiring; every change logged.</summary>
public class IdentityStoreTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    private static async Task<(NpgsqlDataSource Db, IdentityStore Store, ManualTime Time)> StoreAsync(string schema)
    {
        var db = await TestDatabase.CreateSchemaAsync(schema);
        var time = new ManualTime(Start);
        return (db, new IdentityStore(db, time), time);
    }

    [Fact]
    public async Task A_new_key_is_shown_once_authenticates_as_its_principal_and_is_stored_only_as_a_hash()
    {
        var (db, store, _) = await StoreAsync("identity_keys");
        await using var _ = db;
        await store.CreatePrincipalAsync("it@h56", "Province H56 IT", [new(Roles.ProvinceAdmin, "H56"), new(Roles.ProvinceAdmin, "H56.10")], "admin", "onboarding", None);

        var created = await store.CreateKeyAsync("it@h56", "sync robot", Start.AddDays(30), "admin", null, None);
        var auth = await store.AuthenticateAsync(created.Key, None);

        Assert.Matches("^hub_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$", created.Key);
        Assert.Null(auth.Failure);
        Assert.Equal("it@h56", auth.Principal!.Id);
        Assert.Equal(created.Id, auth.KeyId);
        Assert.Equal(["H56", "H56.10"], auth.Principal.Agencies);
        var secret = created.Key[(created.Key.LastIndexOf('_') + 1)..];
        await using var command = db.CreateCommand("select row_to_json(k)::text, encode(secret_sha256, 'escape') from api_key k");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.DoesNotContain(secret, reader.GetString(0), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, reader.GetString(1), StringComparison.Ordinal);
        Assert.Equal(created.Id, Assert.Single(await store.ListKeysAsync("it@h56", None)).Id);
    }

    [Fact]
    public async Task A_wrong_secret_a_revoked_key_an_expired_key_and_a_disabled_principal_do_not_authenticate_and_say_why()
    {
        var (db, store, time) = await StoreAsync("identity_refusals");
        await using var _ = db;
        await store.CreatePrincipalAsync("ops", "Central operations", [new(Roles.Operator)], "admin", null, None);
        var revoked = await store.CreateKeyAsync("ops", "old laptop", Start.AddDays(30), "admin", null, None);
        var expiring = await store.CreateKeyAsync("ops", "short-lived", Start.AddHours(1), "admin", null, None);
        var live = await store.CreateKeyAsync("ops", "current", Start.AddDays(30), "admin", null, None);

        Assert.True(await store.RevokeKeyAsync(revoked.Id, "admin", "laptop lost", None));
        Assert.False(await store.RevokeKeyAsync(revoked.Id, "admin", "again", None));
        time.Advance(TimeSpan.FromHours(2));

        var wrongSecret = live.Key[..^4] + (live.Key.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        Assert.Equal("the API key is not known", (await store.AuthenticateAsync(wrongSecret, None)).Failure);
        Assert.Equal("the API key is not known", (await store.AuthenticateAsync("not a key at all", None)).Failure);
        Assert.Contains($"API key '{revoked.Id}' was revoked at", (await store.AuthenticateAsync(revoked.Key, None)).Failure, StringComparison.Ordinal);
        Assert.Contains($"API key '{expiring.Id}' expired at 2026-11-23T09:00:00Z", (await store.AuthenticateAsync(expiring.Key, None)).Failure, StringComparison.Ordinal);
        Assert.Equal("ops", (await store.AuthenticateAsync(live.Key, None)).Principal?.Id);

        Assert.True(await store.DisablePrincipalAsync("ops", "admin", "left the team", None));
        Assert.Equal("principal 'ops' is disabled", (await store.AuthenticateAsync(live.Key, None)).Failure);
        var refused = await Assert.ThrowsAsync<IdentityException>(() => store.CreateKeyAsync("ops", "new", Start.AddDays(3), "admin", null, None));
        Assert.Equal(IdentityProblem.Conflict, refused.Problem);
    }

    public static TheoryData<string, RoleGrant[], string> BadPrincipals => new()
    {
        { "Upper", [new(Roles.Operator)], "id 'Upper' must be" },
        { "ok", [], "at least one role is needed" },
        { "ok", [new("superuser")], "role 'superuser' is not one of province-admin, operator, auditor, admin" },
        { "ok", [new(Roles.ProvinceAdmin)], "a province-admin grant needs an agency code" },
        { "ok", [new(Roles.ProvinceAdmin, "h56 ")], "got 'h56 '" },
        { "ok", [new(Roles.Auditor, "H56")], "role 'auditor' is central: it takes no agency code" },
    };

    [Theory]
    [MemberData(nameof(BadPrincipals))]
    public async Task A_bad_principal_is_refused_naming_the_problem_and_nothing_is_stored(string id, RoleGrant[] grants, string expected)
    {
        var (db, store, _) = await StoreAsync("identity_bad_" + Math.Abs(string.Join(",", grants.Select(g => g.ToString())).GetHashCode(StringComparison.Ordinal) % 100000) + "_" + id.ToLowerInvariant());
        await using var _ = db;

        var e = await Assert.ThrowsAsync<IdentityException>(() => store.CreatePrincipalAsync(id, "Someone", grants, "admin", null, None));

        Assert.Equal(IdentityProblem.Invalid, e.Problem);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Empty(await store.ListPrincipalsAsync(None));
    }

    [Fact]
    public async Task Taken_ids_unknown_principals_and_bad_expiries_are_refused_with_their_reason()
    {
        var (db, store, _) = await StoreAsync("identity_refused_changes");
        await using var _ = db;
        await store.CreatePrincipalAsync("aud", "Inspector", [new(Roles.Auditor)], "admin", null, None);

        Assert.Equal(IdentityProblem.Conflict, (await Assert.ThrowsAsync<IdentityException>(
            () => store.CreatePrincipalAsync("aud", "Again", [new(Roles.Auditor)], "admin", null, None))).Problem);
        Assert.Equal(IdentityProblem.NotFound, (await Assert.ThrowsAsync<IdentityException>(
            () => store.CreateKeyAsync("nobody", "k", Start.AddDays(1), "admin", null, None))).Problem);
        Assert.Equal(IdentityProblem.NotFound, (await Assert.ThrowsAsync<IdentityException>(
            () => store.RevokeKeyAsync("nokey", "admin", "why", None))).Problem);
        Assert.Contains("is not in the future", (await Assert.ThrowsAsync<IdentityException>(
            () => store.CreateKeyAsync("aud", "k", Start.AddMinutes(-1), "admin", null, None))).Message, StringComparison.Ordinal);
        Assert.Contains("more than 366 days away", (await Assert.ThrowsAsync<IdentityException>(
            () => store.CreateKeyAsync("aud", "k", Start.AddDays(400), "admin", null, None))).Message, StringComparison.Ordinal);
        Assert.Empty(await store.ListKeysAsync("aud", None));
    }

    [Fact]
    public async Task Changing_roles_replaces_them_and_scopes_what_a_province_admin_may_manage()
    {
        var (db, store, _) = await StoreAsync("identity_grants");
        await using var _ = db;
        await store.CreatePrincipalAsync("it@h56", "H56 IT", [new(Roles.ProvinceAdmin, "H56")], "admin", null, None);

        await store.SetGrantsAsync("it@h56", [new(Roles.ProvinceAdmin, "H57"), new(Roles.Auditor)], "admin", "moved", None);
        var principal = (await store.GetPrincipalAsync("it@h56", None))!;

        Assert.True(principal.MayManageAgency("H57"));
        Assert.False(principal.MayManageAgency("H56"));
        // Agency codes are opaque: a grant is for that code only, and never for central connectors (no agency).
        Assert.False(principal.MayManageAgency("H57.10"));
        Assert.False(principal.MayManageAgency("H570"));
        Assert.False(principal.MayManageAgency(null));
        Assert.True(principal.Has(Roles.Auditor));
        Assert.True(new Principal("ops", "Ops", [new(Roles.Operator)]).MayManageAgency("H56"));
        Assert.True(new Principal("ops", "Ops", [new(Roles.Operator)]).MayManageAgency(null));
        Assert.False(new Principal("aud", "Aud", [new(Roles.Auditor)]).MayManageAgency("H56"));
    }

    [Fact]
    public async Task The_bootstrap_admin_is_created_once_from_configuration_and_its_key_authenticates()
    {
        var (db, store, _) = await StoreAsync("identity_bootstrap");
        await using var _ = db;
        var key = Convert.ToHexString(Encoding.UTF8.GetBytes("bootstrap key for tests, long enough"));

        await Assert.ThrowsAsync<IdentityException>(() => store.EnsureBootstrapAdminAsync("short", TimeSpan.FromDays(7), None));
        Assert.True(await store.EnsureBootstrapAdminAsync(key, TimeSpan.FromDays(7), None));
        Assert.False(await store.EnsureBootstrapAdminAsync(key + "-changed", TimeSpan.FromDays(7), None));

        var auth = await store.AuthenticateAsync(key, None);
        Assert.Equal("bootstrap-admin", auth.Principal?.Id);
        Assert.True(auth.Principal!.Has(Roles.Admin));
        Assert.Equal("the API key is not known", (await store.AuthenticateAsync(key + "-changed", None)).Failure);
    }

    [Fact]
    public async Task Every_change_is_an_administrative_exchange_log_entry_with_its_actor_and_no_key_in_it()
    {
        var (db, store, _) = await StoreAsync("identity_logged");
        await using var _ = db;
        await store.CreatePrincipalAsync("it@h56", "H56 IT", [new(Roles.ProvinceAdmin, "H56")], "admin@central", "onboarding", None);
        var key = await store.CreateKeyAsync("it@h56", "robot", Start.AddDays(10), "admin@central", null, None);
        await store.SetGrantsAsync("it@h56", [new(Roles.ProvinceAdmin, "H57")], "admin@central", "moved", None);
        await store.RevokeKeyAsync(key.Id, "admin@central", "rotated", None);
        await store.DisablePrincipalAsync("it@h56", "admin@central", "left", None);

        var log = new ExchangeLog(db, TimeProvider.System);
        var entries = (await log.SearchAsync(new ExchangeSearch { Kind = ExchangeRecord.AdminKind }, None)).OrderBy(e => e.Id).ToList();

        Assert.Equal(["principal.created", "key.created", "principal.roles-changed", "key.revoked", "principal.disabled"], entries.Select(e => e.Action));
        Assert.All(entries, e => Assert.Equal(("admin@central", "done"), (e.Actor, e.Outcome)));
        Assert.Equal(["onboarding", null, "moved", "rotated", "left"], entries.Select(e => e.Reason));
        Assert.All(entries, e => Assert.DoesNotContain(key.Key[^43..], e.Detail ?? "", StringComparison.Ordinal));
        Assert.Contains("\"province-admin:H57\"", entries[2].Detail, StringComparison.Ordinal);
    }
}
