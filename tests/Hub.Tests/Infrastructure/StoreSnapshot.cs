using System.Text;
using Npgsql;

namespace Hub.Tests.Infrastructure;

/// <summary>
/// Everything the store holds about dossiers, as text, minus the hub's own arrival times (recorded_at, first_stored_at,
/// updated_at), which differ by nature between two runs. Two snapshots are equal when the stored state is.
/// </summary>
public static class StoreSnapshot
{
    public static async Task<string> TakeAsync(NpgsqlDataSource dataSource)
    {
        var text = new StringBuilder();
        await AppendAsync(dataSource, text, "current", """
            select source_system, native_id, encode(change_hash, 'hex'), dossier_code, event_time, source_version, status, source_status,
                   mapping_version, procedure_code, procedure_base_code, procedure_name, sector_code, agency_code, handling_unit,
                   applicant_type, channel, paid_online, submitted_at, received_at, due_at, processing_finished_at, result_returned_at, refused_at
            from dossier order by 1, 2
            """);
        await AppendAsync(dataSource, text, "history", """
            select source_system, native_id, encode(change_hash, 'hex'), dossier_code, event_time, source_version, status, source_status,
                   mapping_version, procedure_code, due_at, processing_finished_at
            from dossier_change order by 1, 2, 3
            """);
        await AppendAsync(dataSource, text, "steps", """
            select source_system, native_id, encode(step_key, 'hex'), encode(content_hash, 'hex'), step_time, status_after, officer,
                   officer_title, department, action, started_at, deadline
            from dossier_step order by 1, 2, 3
            """);
        await AppendAsync(dataSource, text, "due dates",
            "select source_system, native_id, changed_at, due_at, previous_due_at from dossier_due_date_history order by 1, 2, 3");
        return text.ToString();
    }

    private static async Task AppendAsync(NpgsqlDataSource dataSource, StringBuilder text, string title, string sql)
    {
        text.Append("## ").AppendLine(title);
        await using var command = dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            for (var i = 0; i < reader.FieldCount; i++)
            {
                text.Append(reader.GetValue(i) switch
                {
                    DBNull => "∅",
                    DateTime t => t.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                    var v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture),
                }).Append('|');
            }

            text.AppendLine();
        }
    }
}
