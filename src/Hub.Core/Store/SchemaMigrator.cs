using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Hub.Core.Store;

/// <summary>
/// Applies the versioned SQL files embedded from <c>Store/Migrations</c> (<c>NNNN_name.sql</c>) in order, each in its
/// own transaction, under an advisory lock so that several hub processes starting at once apply each file once.
/// A migration that was applied and later edited is an error: applied files are history and never change.
/// </summary>
public static class SchemaMigrator
{
    private const string ResourcePrefix = "Hub.Core.Store.Migrations.";

    /// <summary>The migrations this build carries, in order.</summary>
    public static IReadOnlyList<Migration> Migrations { get; } = LoadMigrations();

    /// <summary>Applies every migration not yet applied to the data source's schema (its search path).</summary>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(connection, "select pg_advisory_lock(hashtext(current_schema() || '/hub-migrations'))", cancellationToken);
        try
        {
            await ExecuteAsync(connection, """
                create table if not exists schema_migrations (
                    version    integer primary key,
                    name       text not null,
                    checksum   text not null,
                    applied_at timestamptz not null default now())
                """, cancellationToken);
            var applied = await AppliedAsync(connection, cancellationToken);
            foreach (var migration in Migrations)
            {
                if (applied.TryGetValue(migration.Version, out var checksum))
                {
                    if (checksum != migration.Checksum)
                    {
                        throw new InvalidOperationException(
                            $"Migration {migration.Version} ({migration.Name}) was changed after it was applied; applied migrations must not change. Add a new migration instead.");
                    }

                    continue;
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, migration.Sql, cancellationToken);
                await using var record = new NpgsqlCommand("insert into schema_migrations (version, name, checksum) values ($1, $2, $3)", connection)
                {
                    Parameters = { new() { Value = migration.Version }, new() { Value = migration.Name }, new() { Value = migration.Checksum } },
                };
                await record.ExecuteNonQueryAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
        }
        finally
        {
            await ExecuteAsync(connection, "select pg_advisory_unlock(hashtext(current_schema() || '/hub-migrations'))", CancellationToken.None);
        }
    }

    /// <summary>The versions this build carries that the database has not applied (empty when up to date).</summary>
    public static async Task<IReadOnlyList<int>> PendingAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("select to_regclass('schema_migrations') is not null", connection);
        var applied = (bool)(await exists.ExecuteScalarAsync(cancellationToken))!
            ? await AppliedAsync(connection, cancellationToken)
            : [];
        return Migrations.Where(m => !applied.ContainsKey(m.Version)).Select(m => m.Version).ToList();
    }

    private static async Task<Dictionary<int, string>> AppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<int, string>();
        await using var command = new NpgsqlCommand("select version, checksum from schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            applied[reader.GetInt32(0)] = reader.GetString(1);
        }

        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static List<Migration> LoadMigrations()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            var file = resource[ResourcePrefix.Length..];
            var separator = file.IndexOf('_', StringComparison.Ordinal);
            if (separator <= 0 || !int.TryParse(file[..separator], System.Globalization.CultureInfo.InvariantCulture, out var version))
            {
                throw new InvalidOperationException($"Migration file '{file}' is not named NNNN_name.sql.");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var sql = reader.ReadToEnd();
            var checksum = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sql.ReplaceLineEndings("\n"))));
            migrations.Add(new Migration(version, Path.GetFileNameWithoutExtension(file)[(separator + 1)..], sql, checksum));
        }

        if (migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            throw new InvalidOperationException($"Two migrations have version {duplicate.Key}.");
        }

        return [.. migrations.OrderBy(m => m.Version)];
    }
}

/// <summary>One versioned schema migration.</summary>
public sealed record Migration(int Version, string Name, string Sql, string Checksum);
