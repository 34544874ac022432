using Npgsql;

namespace Hub.Tests.Infrastructure;

/// <summary>
/// Every table of the given schemas as a row count and an MD5 over its rows (sorted by their text), read in one
/// repeatable-read transaction: two equal snapshots mean nothing was inserted, updated or deleted in between.
/// </summary>
public static class DatabaseSnapshot
{
    /// <summary>
    /// Columns that change on their own while a hub idles: the heartbeat of Hangfire's server row (every 30 s). The
    /// rest of that row is compared.
    /// </summary>
    private static readonly HashSet<(string Table, string Column)> Heartbeats = [("server", "lastheartbeat"), ("server", "updatecount")];

    /// <summary>Tables as <c>schema.table</c> → <c>rows md5</c>.</summary>
    /// <remarks>
    /// Hangfire's pollers hold table-row locks (its <c>lock</c> table) for milliseconds every few seconds; a snapshot that
    /// sees one is taken again, so that the comparison is of the hub's data and not of that moment.
    /// </remarks>
    public static async Task<SortedDictionary<string, string>> TakeAsync(NpgsqlDataSource db, params string[] schemas)
    {
        for (var attempt = 0; ; attempt++)
        {
            var snapshot = await TakeOnceAsync(db, schemas);
            var locks = snapshot.Where(t => t.Key.EndsWith(".lock", StringComparison.Ordinal) && !t.Value.StartsWith("0 ", StringComparison.Ordinal)).ToList();
            if (locks.Count == 0 || attempt >= 50)
            {
                return snapshot;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The tables whose count or digest differ, for an assertion's message.</summary>
    public static string Differences(IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after) =>
        string.Join("\n", before.Keys.Union(after.Keys).Order(StringComparer.Ordinal)
            .Where(t => before.GetValueOrDefault(t) != after.GetValueOrDefault(t))
            .Select(t => $"{t}: {before.GetValueOrDefault(t) ?? "absent"} → {after.GetValueOrDefault(t) ?? "absent"}"));

    private static async Task<SortedDictionary<string, string>> TakeOnceAsync(NpgsqlDataSource db, string[] schemas)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
        var columns = new List<(string Schema, string Table, string Column)>();
        await using (var list = new NpgsqlCommand(
            """
            select c.table_schema, c.table_name, c.column_name
            from information_schema.columns c
            join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
            where c.table_schema = any($1) and t.table_type = 'BASE TABLE'
            order by 1, 2, c.ordinal_position
            """, connection, transaction))
        {
            list.Parameters.Add(new() { Value = schemas });
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                columns.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            }
        }

        var snapshot = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in columns.GroupBy(c => (c.Schema, c.Table)))
        {
            var kept = table.Where(c => !Heartbeats.Contains((c.Table, c.Column))).Select(c => Quote(c.Column));
            await using var digest = new NpgsqlCommand(
                $"""
                select count(*)::text || ' ' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '-')
                from (select {string.Join(", ", kept)} from {Quote(table.Key.Schema)}.{Quote(table.Key.Table)}) x
                """, connection, transaction);
            snapshot[$"{table.Key.Schema}.{table.Key.Table}"] = (string)(await digest.ExecuteScalarAsync())!;
        }

        await transaction.CommitAsync();
        return snapshot;
    }

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
