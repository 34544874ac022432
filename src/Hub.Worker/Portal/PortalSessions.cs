using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Hub.Worker.Portal;

/// <summary>
/// Sessions of the national portal adapter, in the <c>portal_session</c> table, so that every hub process sharing the
/// database accepts a session any of them gave. The token is 128 random bits; only its SHA-256 is stored.
/// </summary>
public sealed class PortalSessions(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    /// <summary>How long an expired session is remembered, so that its use is answered "expired" rather than "unknown".</summary>
    public static readonly TimeSpan ExpiredKeptFor = TimeSpan.FromDays(7);

    /// <summary>Opens a session for a connector and returns its token.</summary>
    public async Task<(string Token, DateTimeOffset ExpiresAt)> OpenAsync(string connectorId, byte[] credentialStamp, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var token = new Guid(RandomNumberGenerator.GetBytes(16)).ToString("D");
        var now = timeProvider.GetUtcNow();
        var expiresAt = now + lifetime;
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "insert into portal_session (token_hash, connector_id, credential_stamp, created_at, expires_at) values ($1, $2, $3, $4, $5)")
        {
            Parameters =
            {
                new() { Value = Hash(token) },
                new() { Value = connectorId },
                new() { Value = credentialStamp },
                new() { Value = now },
                new() { Value = expiresAt },
            },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("delete from portal_session where expires_at < $1")
        {
            Parameters = { new() { Value = now - ExpiredKeptFor } },
        });
        await batch.ExecuteNonQueryAsync(cancellationToken);
        return (token, expiresAt);
    }

    /// <summary>The session with the token, expired or not; <c>null</c> when unknown.</summary>
    public async Task<PortalSession?> FindAsync(string token, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "select connector_id, credential_stamp, expires_at from portal_session where token_hash = $1");
        command.Parameters.Add(new() { Value = Hash(token) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var expiresAt = reader.GetFieldValue<DateTimeOffset>(2);
        return new PortalSession(reader.GetString(0), reader.GetFieldValue<byte[]>(1), expiresAt, expiresAt <= timeProvider.GetUtcNow());
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}

/// <summary>A stored session.</summary>
/// <param name="ConnectorId">The connector it was opened for.</param>
/// <param name="CredentialStamp">The fingerprint of the connector's credentials at login.</param>
/// <param name="ExpiresAt">When it ends.</param>
/// <param name="Expired">Whether it has ended.</param>
public sealed record PortalSession(string ConnectorId, byte[] CredentialStamp, DateTimeOffset ExpiresAt, bool Expired);
