using Npgsql;

namespace Hub.Core.Sync;

/// <summary>
/// The deliveries json-webhook connectors accepted, in the <c>webhook_delivery</c> table: an exact replay of one inside
/// the connector's tolerance is refused by whichever hub process receives it.
/// </summary>
public static class WebhookDeliveries
{
    /// <summary>
    /// Kept beyond the tolerance before a delivery is forgotten, for the clocks of hub processes that disagree: a process
    /// whose clock is behind must not accept a copy that another process has already forgotten.
    /// </summary>
    public static readonly TimeSpan ClockSkewMargin = TimeSpan.FromMinutes(1);

    /// <summary>Whether the connector already accepted a delivery with this digest (a cheap check before mapping and storing).</summary>
    public static async Task<bool> SeenAsync(NpgsqlDataSource dataSource, string connectorId, byte[] digest, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select exists (select 1 from webhook_delivery where connector_id = $1 and digest = $2)");
        command.Parameters.Add(new() { Value = connectorId });
        command.Parameters.Add(new() { Value = digest });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Records a delivery in the transaction of the connection given (the one that stores its records). A concurrent
    /// copy of it waits for that transaction: if it commits, the copy is refused; if it rolls back, the copy is stored.
    /// </summary>
    /// <exception cref="ReplayedDeliveryException">The connector already accepted a delivery with the digest.</exception>
    public static async Task RecordAsync(NpgsqlConnection connection, string connectorId, WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            insert into webhook_delivery (connector_id, digest, signed_at, received_at) values ($1, $2, $3, $4)
            on conflict (connector_id, digest) do nothing
            """, connection)
        {
            Parameters =
            {
                new() { Value = connectorId },
                new() { Value = delivery.Digest },
                new() { Value = delivery.SignedAt },
                new() { Value = delivery.ReceivedAt },
            },
        };
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            throw new ReplayedDeliveryException(connectorId);
        }
    }

    /// <summary>
    /// Deletes the connector's deliveries signed before <paramref name="signedBefore"/>. Rows another transaction holds
    /// are left for the next time, so that concurrent deliveries never wait on each other here.
    /// </summary>
    /// <returns>The number of rows deleted.</returns>
    public static async Task<int> ForgetAsync(NpgsqlDataSource dataSource, string connectorId, DateTimeOffset signedBefore, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            delete from webhook_delivery where ctid in (
                select ctid from webhook_delivery where connector_id = $1 and signed_at < $2 for update skip locked)
            """);
        command.Parameters.Add(new() { Value = connectorId });
        command.Parameters.Add(new() { Value = signedBefore });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>An accepted webhook delivery, to record with its records.</summary>
/// <param name="Digest">SHA-256 of its signed content (32 bytes).</param>
/// <param name="SignedAt">The signing time its sender gave.</param>
/// <param name="ReceivedAt">When the hub received it.</param>
public sealed record WebhookDelivery(byte[] Digest, DateTimeOffset SignedAt, DateTimeOffset ReceivedAt);

/// <summary>The connector already accepted a delivery with the same signed content.</summary>
public sealed class ReplayedDeliveryException : Exception
{
    /// <summary>Creates the exception for a connector.</summary>
    public ReplayedDeliveryException(string connectorId)
        : base($"Connector '{connectorId}' already accepted a delivery with the same timestamp and body.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ReplayedDeliveryException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public ReplayedDeliveryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
