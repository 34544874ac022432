using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hub.Core.Audit;
using Npgsql;

namespace Hub.Core.Identity;

/// <summary>
/// Principals, their roles and their API keys in PostgreSQL. Every change is appended to the exchange log as an
/// administrative entry in the same transaction, with who made it and why; keys are shown once and never stored.
/// </summary>
public sealed partial class IdentityStore(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    /// <summary>The longest a key may live.</summary>
    public static readonly TimeSpan MaxKeyLifetime = TimeSpan.FromDays(366);

    /// <summary>How often a key's last use is written, at most (a write per request would cost more than the request).</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    /// <summary>Creates a principal with its roles.</summary>
    /// <exception cref="IdentityException">Bad id, name or grants, or the id is taken.</exception>
    public async Task<Principal> CreatePrincipalAsync(string id, string displayName, IReadOnlyList<RoleGrant> grants, string actor, string? reason, CancellationToken cancellationToken)
    {
        var principal = new Principal(id, displayName?.Trim() ?? "", grants);
        if (Problems(principal) is { Count: > 0 } problems)
        {
            throw new IdentityException(IdentityProblem.Invalid, $"Principal '{id}' is not valid: {string.Join("; ", problems)}.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var now = timeProvider.GetUtcNow();
        await using (var insert = new NpgsqlCommand(
            "insert into principal (id, display_name, created_at, created_by) values ($1, $2, $3, $4) on conflict do nothing", connection, transaction))
        {
            insert.Parameters.Add(new() { Value = id });
            insert.Parameters.Add(new() { Value = principal.DisplayName });
            insert.Parameters.Add(new() { Value = now });
            insert.Parameters.Add(new() { Value = actor });
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw new IdentityException(IdentityProblem.Conflict, $"A principal with id '{id}' already exists.");
            }
        }

        await InsertGrantsAsync(connection, transaction, id, grants, cancellationToken);
        await LogAsync(connection, "principal.created", actor, reason, new { principal = id, displayName = principal.DisplayName, grants = GrantsView(grants) }, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return principal;
    }

    /// <summary>Replaces a principal's roles.</summary>
    /// <exception cref="IdentityException">Unknown principal or bad grants.</exception>
    public async Task<Principal> SetGrantsAsync(string id, IReadOnlyList<RoleGrant> grants, string actor, string? reason, CancellationToken cancellationToken)
    {
        var problems = GrantProblems(grants);
        if (problems.Count > 0)
        {
            throw new IdentityException(IdentityProblem.Invalid, $"The roles for principal '{id}' are not valid: {string.Join("; ", problems)}.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await LoadAsync(connection, transaction, id, forUpdate: true, cancellationToken)
            ?? throw new IdentityException(IdentityProblem.NotFound, $"No principal has id '{id}'.");
        await using (var delete = new NpgsqlCommand("delete from principal_role where principal_id = $1", connection, transaction))
        {
            delete.Parameters.Add(new() { Value = id });
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        await InsertGrantsAsync(connection, transaction, id, grants, cancellationToken);
        await LogAsync(connection, "principal.roles-changed", actor, reason,
            new { principal = id, before = GrantsView(current.Grants), after = GrantsView(grants) }, timeProvider.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return current with { Grants = grants };
    }

    /// <summary>Disables a principal: none of its keys authenticates any more.</summary>
    /// <returns>Whether it was enabled until now.</returns>
    /// <exception cref="IdentityException">Unknown principal.</exception>
    public async Task<bool> DisablePrincipalAsync(string id, string actor, string? reason, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await LoadAsync(connection, transaction, id, forUpdate: true, cancellationToken)
            ?? throw new IdentityException(IdentityProblem.NotFound, $"No principal has id '{id}'.");
        if (current.Disabled)
        {
            return false;
        }

        var now = timeProvider.GetUtcNow();
        await using (var update = new NpgsqlCommand("update principal set disabled_at = $2, disabled_by = $3 where id = $1", connection, transaction))
        {
            update.Parameters.Add(new() { Value = id });
            update.Parameters.Add(new() { Value = now });
            update.Parameters.Add(new() { Value = actor });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await LogAsync(connection, "principal.disabled", actor, reason, new { principal = id }, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>One principal, or <c>null</c>.</summary>
    public async Task<Principal?> GetPrincipalAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await LoadAsync(connection, null, id, forUpdate: false, cancellationToken);
    }

    /// <summary>Every principal, by id.</summary>
    public async Task<IReadOnlyList<Principal>> ListPrincipalsAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"{SelectPrincipal} order by p.id");
        var principals = new List<Principal>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            principals.Add(ReadPrincipal(reader, 0));
        }

        return principals;
    }

    /// <summary>Creates an API key for a principal. The key is in the result only: it cannot be read again.</summary>
    /// <exception cref="IdentityException">Unknown or disabled principal, or a bad expiry or description.</exception>
    public async Task<NewApiKey> CreateKeyAsync(string principalId, string description, DateTimeOffset expiresAt, string actor, string? reason, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        if (KeyProblems(description, expiresAt, now) is { } problem)
        {
            throw new IdentityException(IdentityProblem.Invalid, $"The key for principal '{principalId}' is not valid: {problem}.");
        }

        var (keyId, key) = ApiKeys.Create();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var principal = await LoadAsync(connection, transaction, principalId, forUpdate: true, cancellationToken)
            ?? throw new IdentityException(IdentityProblem.NotFound, $"No principal has id '{principalId}'.");
        if (principal.Disabled)
        {
            throw new IdentityException(IdentityProblem.Conflict, $"Principal '{principalId}' is disabled: it cannot be given keys.");
        }

        await InsertKeyAsync(connection, transaction, keyId, principalId, ApiKeys.Hash(key), description.Trim(), now, actor, expiresAt, cancellationToken);
        await LogAsync(connection, "key.created", actor, reason, new { principal = principalId, key = keyId, expiresAt = Utc(expiresAt) }, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new NewApiKey(keyId, key, principalId, expiresAt.ToUniversalTime());
    }

    /// <summary>A principal's keys (never their secrets), newest first.</summary>
    public async Task<IReadOnlyList<ApiKeyInfo>> ListKeysAsync(string principalId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select id, principal_id, description, created_at, created_by, expires_at, revoked_at, revoked_by, revoked_reason, last_used_at
            from api_key where principal_id = $1 order by created_at desc, id
            """);
        command.Parameters.Add(new() { Value = principalId });
        var keys = new List<ApiKeyInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(new ApiKeyInfo(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
                reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
                reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9)));
        }

        return keys;
    }

    /// <summary>Revokes a key: it stops authenticating at once.</summary>
    /// <returns>Whether it was live until now (<c>false</c>: already revoked).</returns>
    /// <exception cref="IdentityException">Unknown key, or no reason given.</exception>
    public async Task<bool> RevokeKeyAsync(string keyId, string actor, string reason, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new IdentityException(IdentityProblem.Invalid, $"Revoking key '{keyId}' needs a reason.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        string principalId;
        bool revoked;
        await using (var select = new NpgsqlCommand("select principal_id, revoked_at is not null from api_key where id = $1 for update", connection, transaction))
        {
            select.Parameters.Add(new() { Value = keyId });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new IdentityException(IdentityProblem.NotFound, $"No API key has id '{keyId}'.");
            }

            (principalId, revoked) = (reader.GetString(0), reader.GetBoolean(1));
        }

        if (revoked)
        {
            return false;
        }

        var now = timeProvider.GetUtcNow();
        await using (var update = new NpgsqlCommand("update api_key set revoked_at = $2, revoked_by = $3, revoked_reason = $4 where id = $1", connection, transaction))
        {
            update.Parameters.Add(new() { Value = keyId });
            update.Parameters.Add(new() { Value = now });
            update.Parameters.Add(new() { Value = actor });
            update.Parameters.Add(new() { Value = reason.Trim() });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await LogAsync(connection, "key.revoked", actor, reason, new { principal = principalId, key = keyId }, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Creates the bootstrap admin with the key from configuration when no principal holds the admin role yet (the first
    /// start); later starts change nothing, so a bootstrap key left in configuration after real admins exist gives nothing.
    /// </summary>
    /// <returns>Whether the bootstrap admin was created now.</returns>
    /// <exception cref="IdentityException">The configured key is too short.</exception>
    public async Task<bool> EnsureBootstrapAdminAsync(string key, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        if (key.Length < ApiKeys.MinBootstrapKeyLength || key.Any(char.IsWhiteSpace))
        {
            throw new IdentityException(IdentityProblem.Invalid,
                $"The bootstrap admin key must be at least {ApiKeys.MinBootstrapKeyLength} characters without spaces (for example `openssl rand -hex 32`).");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("select pg_advisory_xact_lock(hashtext(current_schema() || '/hub-bootstrap-admin'))", connection, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var exists = new NpgsqlCommand("select exists (select 1 from principal_role where role = 'admin') or exists (select 1 from api_key where id = $1)", connection, transaction))
        {
            exists.Parameters.Add(new() { Value = ApiKeys.BootstrapKeyId });
            if ((bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                return false;
            }
        }

        var now = timeProvider.GetUtcNow();
        const string Id = "bootstrap-admin";
        await using (var insert = new NpgsqlCommand(
            "insert into principal (id, display_name, created_at, created_by) values ($1, 'Bootstrap administrator', $2, 'configuration') on conflict do nothing", connection, transaction))
        {
            insert.Parameters.Add(new() { Value = Id });
            insert.Parameters.Add(new() { Value = now });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await InsertGrantsAsync(connection, transaction, Id, [new RoleGrant(Roles.Admin)], cancellationToken);
        var expiresAt = now + (lifetime > MaxKeyLifetime ? MaxKeyLifetime : lifetime);
        await InsertKeyAsync(connection, transaction, ApiKeys.BootstrapKeyId, Id, ApiKeys.Hash(key), "bootstrap admin key from configuration", now, "configuration", expiresAt, cancellationToken);
        await LogAsync(connection, "principal.bootstrapped", "configuration", "first start: no admin yet",
            new { principal = Id, key = ApiKeys.BootstrapKeyId, expiresAt = Utc(expiresAt) }, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Who presents <paramref name="key"/>, or why it does not authenticate.</summary>
    public Task<Authentication> AuthenticateAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return CheckKeyAsync(ApiKeys.IdOf(key) ?? ApiKeys.BootstrapKeyId, key, cancellationToken);
    }

    /// <summary>
    /// Whether the key <paramref name="keyId"/>, whose secret was shown when a session was opened with it, still
    /// authenticates (not revoked or expired, its principal enabled), with the principal's current grants.
    /// </summary>
    public Task<Authentication> CheckSessionKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        return CheckKeyAsync(keyId, null, cancellationToken);
    }

    private async Task<Authentication> CheckKeyAsync(string keyId, string? key, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        byte[] stored;
        DateTimeOffset expiresAt;
        DateTimeOffset? revokedAt;
        DateTimeOffset? lastUsed;
        Principal principal;
        await using (var command = new NpgsqlCommand($"""
            select k.secret_sha256, k.expires_at, k.revoked_at, k.last_used_at, p.*
            from api_key k cross join lateral ({SelectPrincipal} where p.id = k.principal_id) p
            where k.id = $1
            """, connection))
        {
            command.Parameters.Add(new() { Value = keyId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return Authentication.Failed("the API key is not known");
            }

            stored = reader.GetFieldValue<byte[]>(0);
            expiresAt = reader.GetFieldValue<DateTimeOffset>(1);
            revokedAt = reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2);
            lastUsed = reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3);
            principal = ReadPrincipal(reader, 4);
        }

        if (key is not null && !CryptographicOperations.FixedTimeEquals(stored, ApiKeys.Hash(key)))
        {
            return Authentication.Failed("the API key is not known");
        }

        var now = timeProvider.GetUtcNow();
        if (revokedAt is { } revoked)
        {
            return Authentication.Failed($"API key '{keyId}' was revoked at {Utc(revoked)}");
        }

        if (expiresAt <= now)
        {
            return Authentication.Failed($"API key '{keyId}' expired at {Utc(expiresAt)}");
        }

        if (principal.Disabled)
        {
            return Authentication.Failed($"principal '{principal.Id}' is disabled");
        }

        if (lastUsed is null || now - lastUsed.Value >= LastUsedResolution)
        {
            await using var touch = new NpgsqlCommand("update api_key set last_used_at = $2 where id = $1", connection);
            touch.Parameters.Add(new() { Value = keyId });
            touch.Parameters.Add(new() { Value = now });
            await touch.ExecuteNonQueryAsync(cancellationToken);
        }

        return new Authentication(principal, keyId, null);
    }

    /// <summary>What is wrong with a principal's id, name or grants.</summary>
    public static IReadOnlyList<string> Problems(Principal principal)
    {
        var problems = new List<string>();
        if (!PrincipalId().IsMatch(principal.Id ?? ""))
        {
            problems.Add($"id '{principal.Id}' must be 1 to 100 characters: lower-case letters, digits and . _ @ -, starting with a letter or digit");
        }

        if (string.IsNullOrWhiteSpace(principal.DisplayName) || principal.DisplayName.Length > 200)
        {
            problems.Add("displayName must be 1 to 200 characters");
        }

        problems.AddRange(GrantProblems(principal.Grants));
        return problems;
    }

    /// <summary>What is wrong with a set of grants.</summary>
    public static IReadOnlyList<string> GrantProblems(IReadOnlyList<RoleGrant> grants)
    {
        var problems = new List<string>();
        if (grants.Count == 0)
        {
            problems.Add($"at least one role is needed ({string.Join(", ", Roles.All)})");
        }

        foreach (var grant in grants)
        {
            if (!Roles.All.Contains(grant.Role))
            {
                problems.Add($"role '{grant.Role}' is not one of {string.Join(", ", Roles.All)}");
            }
            else if (grant.Role == Roles.ProvinceAdmin && !AgencyCodes.IsValid(grant.AgencyCode))
            {
                problems.Add($"a {Roles.ProvinceAdmin} grant needs an agency code (up to 35 characters, dot-separated groups of digits and capitals, e.g. H56 or G09.20); got '{grant.AgencyCode}'");
            }
            else if (grant.Role != Roles.ProvinceAdmin && grant.AgencyCode is not null)
            {
                problems.Add($"role '{grant.Role}' is central: it takes no agency code (got '{grant.AgencyCode}')");
            }
        }

        return problems;
    }

    private static string? KeyProblems(string description, DateTimeOffset expiresAt, DateTimeOffset now) =>
        string.IsNullOrWhiteSpace(description) || description.Length > 200 ? "description must be 1 to 200 characters"
        : expiresAt <= now ? $"expiresAt {Utc(expiresAt)} is not in the future"
        : expiresAt - now > MaxKeyLifetime ? $"expiresAt {Utc(expiresAt)} is more than {MaxKeyLifetime.TotalDays:0} days away"
        : null;

    private const string SelectPrincipal = """
        select p.id, p.display_name, p.disabled_at is not null as disabled,
               coalesce((select array_agg(r.role || '|' || r.agency_code order by r.role, r.agency_code)
                         from principal_role r where r.principal_id = p.id), '{}') as grants
        from principal p
        """;

    private static Principal ReadPrincipal(NpgsqlDataReader reader, int at)
    {
        var grants = reader.GetFieldValue<string[]>(at + 3)
            .Select(g => g.Split('|', 2))
            .Select(g => new RoleGrant(g[0], g[1].Length == 0 ? null : g[1]))
            .ToList();
        return new Principal(reader.GetString(at), reader.GetString(at + 1), grants, reader.GetBoolean(at + 2));
    }

    private static async Task<Principal?> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string id, bool forUpdate, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"{SelectPrincipal} where p.id = $1{(forUpdate ? " for update of p" : "")}", connection, transaction);
        command.Parameters.Add(new() { Value = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadPrincipal(reader, 0) : null;
    }

    private static async Task InsertGrantsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string id, IReadOnlyList<RoleGrant> grants, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "insert into principal_role (principal_id, role, agency_code) select $1, g.role, g.agency from unnest($2::text[], $3::text[]) g(role, agency) on conflict do nothing",
            connection, transaction);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = grants.Select(g => g.Role).ToArray() });
        command.Parameters.Add(new() { Value = grants.Select(g => g.AgencyCode ?? "").ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task InsertKeyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string keyId, string principalId, byte[] hash, string description,
        DateTimeOffset now, string actor, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            insert into api_key (id, principal_id, secret_sha256, description, created_at, created_by, expires_at)
            values ($1, $2, $3, $4, $5, $6, $7)
            """, connection, transaction);
        command.Parameters.Add(new() { Value = keyId });
        command.Parameters.Add(new() { Value = principalId });
        command.Parameters.Add(new() { Value = hash });
        command.Parameters.Add(new() { Value = description });
        command.Parameters.Add(new() { Value = now });
        command.Parameters.Add(new() { Value = actor });
        command.Parameters.Add(new() { Value = expiresAt.ToUniversalTime() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static Task<long> LogAsync(NpgsqlConnection connection, string action, string actor, string? reason, object detail, DateTimeOffset now, CancellationToken cancellationToken) =>
        ExchangeLog.AppendAsync(connection, new ExchangeRecord
        {
            Kind = ExchangeRecord.AdminKind,
            Transport = "api",
            ReceivedAt = now,
            Outcome = "done",
            Actor = actor,
            Action = action,
            Reason = reason,
            Detail = JsonSerializer.Serialize(detail),
        }, now, cancellationToken);

    private static object GrantsView(IEnumerable<RoleGrant> grants) => grants.Select(g => g.AgencyCode is null ? g.Role : $"{g.Role}:{g.AgencyCode}").ToArray();

    private static string Utc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [GeneratedRegex("^[a-z0-9][a-z0-9._@-]{0,99}$", RegexOptions.CultureInvariant)]
    private static partial Regex PrincipalId();

}

/// <summary>Why an identity change was refused.</summary>
public enum IdentityProblem
{
    /// <summary>What was asked is not valid.</summary>
    Invalid,

    /// <summary>The principal or key does not exist.</summary>
    NotFound,

    /// <summary>It conflicts with what exists.</summary>
    Conflict,
}

/// <summary>An identity change the store refused, with a message that says what and why.</summary>
public sealed class IdentityException(IdentityProblem problem, string message) : Exception(message)
{
    /// <summary>What kind of refusal.</summary>
    public IdentityProblem Problem { get; } = problem;
}

/// <summary>A key just created: <see cref="Key"/> is shown once and cannot be read again.</summary>
public sealed record NewApiKey(string Id, string Key, string PrincipalId, DateTimeOffset ExpiresAt);

/// <summary>A key as stored: never its secret.</summary>
public sealed record ApiKeyInfo(
    string Id, string PrincipalId, string Description, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset ExpiresAt,
    DateTimeOffset? RevokedAt, string? RevokedBy, string? RevokedReason, DateTimeOffset? LastUsedAt);

/// <summary>Who presented a key (<see cref="Principal"/>, <see cref="KeyId"/>) or why it does not authenticate (<see cref="Failure"/>).</summary>
public sealed record Authentication(Principal? Principal, string? KeyId, string? Failure)
{
    /// <summary>A key that does not authenticate, and why.</summary>
    public static Authentication Failed(string why) => new(null, null, why);
}
