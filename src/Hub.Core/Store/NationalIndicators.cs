using Hub.Contracts;
using Hub.Core.Model;
using Npgsql;
using NpgsqlTypes;

namespace Hub.Core.Store;

/// <summary>Which indicators to compute.</summary>
public sealed record IndicatorQuery
{
    /// <summary>Only this agency's dossiers (the agency owning the connectors of their source system); <c>null</c>: every agency.</summary>
    public string? Agency { get; init; }

    /// <summary>One row per agency and procedure (base code) instead of one per agency.</summary>
    public bool ByProcedure { get; init; }
}

/// <summary>
/// The national indicators of one agency (or of one procedure of it), from the stored dossiers. Rates are <c>null</c>
/// when nothing counts towards them.
/// </summary>
/// <param name="Agency">The agency owning the source systems; <c>null</c> for dossiers of central connectors.</param>
/// <param name="Procedure">The national procedure base code, when by procedure (<c>null</c> there: no procedure code).</param>
/// <param name="Dossiers">Dossiers stored.</param>
/// <param name="OnTime">Finished on time (the on-time rule, paused time subtracted).</param>
/// <param name="Overdue">Finished late, or with more than one supplement request.</param>
/// <param name="Undetermined">Without a due date to judge by.</param>
/// <param name="InProgress">Not finished and not past their due date.</param>
/// <param name="OverdueNow">Not finished and already past their due date: the dossiers to chase now.</param>
/// <param name="Withdrawn">Withdrawn by the applicant: the on-time rule does not apply.</param>
/// <param name="Online">Submitted online (KenhThucHien 2).</param>
/// <param name="PaidOnline">Fees paid online.</param>
public sealed record IndicatorRow(
    string? Agency,
    string? Procedure,
    int Dossiers,
    int OnTime,
    int Overdue,
    int Undetermined,
    int InProgress,
    int OverdueNow,
    int Withdrawn,
    int Online,
    int PaidOnline)
{
    /// <summary>On time among the finished dossiers judged (on time + overdue): the national on-time KPI.</summary>
    public double? OnTimeRate => OnTime + Overdue == 0 ? null : (double)OnTime / (OnTime + Overdue);

    /// <summary>Share of dossiers submitted online.</summary>
    public double? OnlineShare => Dossiers == 0 ? null : (double)Online / Dossiers;

    /// <summary>Share of dossiers whose fees were paid online.</summary>
    public double? PaidOnlineShare => Dossiers == 0 ? null : (double)PaidOnline / Dossiers;
}

/// <summary>
/// National indicators per agency and procedure, computed from the stored dossiers with the same on-time rule as a
/// dossier's own verdict (<see cref="OnTimeRule"/>, decision 0002): each dossier is read once, with its status history
/// and due dates, in one snapshot, and judged at <c>now</c>. A dossier's agency is the agency owning the connectors of
/// its source system (one owner per source system, decision 0010); agency codes in the records are not parsed.
/// </summary>
public sealed class NationalIndicators(NpgsqlDataSource dataSource)
{
    private const string Sql = """
        with owner as (select source_system, min(agency) as agency from connector group by source_system)
        select o.agency, d.procedure_base_code, d.channel, d.paid_online, d.received_at, d.processing_finished_at,
               array(select c.event_time from dossier_change c
                     where c.source_system = d.source_system and c.native_id = d.native_id order by c.event_time, coalesce(c.source_version, -9223372036854775808), c.change_hash),
               array(select c.status from dossier_change c
                     where c.source_system = d.source_system and c.native_id = d.native_id order by c.event_time, coalesce(c.source_version, -9223372036854775808), c.change_hash),
               array(select h.changed_at from dossier_due_date_history h
                     where h.source_system = d.source_system and h.native_id = d.native_id order by h.changed_at),
               array(select h.due_at from dossier_due_date_history h
                     where h.source_system = d.source_system and h.native_id = d.native_id order by h.changed_at)
        from dossier d left join owner o on o.source_system = d.source_system
        where $1::text is null or o.agency = $1
        """;

    /// <summary>Computes the indicators, rows ordered by agency then procedure.</summary>
    public async Task<IReadOnlyList<IndicatorRow>> ComputeAsync(IndicatorQuery query, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var totals = new Dictionary<(string? Agency, string? Procedure), Counts>();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using (var command = new NpgsqlCommand(Sql, connection))
        {
            command.Parameters.Add(new() { Value = (object?)query.Agency ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var agency = reader.IsDBNull(0) ? null : reader.GetString(0);
                var procedure = query.ByProcedure && !reader.IsDBNull(1) ? reader.GetString(1) : null;
                var times = reader.GetFieldValue<DateTimeOffset[]>(6);
                var statuses = reader.GetFieldValue<short[]>(7);
                var dueChanged = reader.GetFieldValue<DateTimeOffset[]>(8);
                var dueAt = reader.GetFieldValue<DateTimeOffset[]>(9);
                var verdict = OnTimeRule.Evaluate(new OnTimeInput
                {
                    ReceivedAt = reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4),
                    StatusHistory = [.. times.Select((t, i) => new StatusAt(t, (NationalStatus)statuses[i]))],
                    DueDateHistory = [.. dueChanged.Select((t, i) => new DueDateAt(t, dueAt[i]))],
                    ProcessingFinishedAt = reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
                    Now = now,
                });

                var key = (agency, procedure);
                if (!totals.TryGetValue(key, out var counts))
                {
                    counts = new Counts();
                    totals[key] = counts;
                }

                counts.Add(verdict.Outcome, !reader.IsDBNull(2) && reader.GetInt16(2) == (short)Channel.Online, !reader.IsDBNull(3) && reader.GetBoolean(3));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return [.. totals
            .OrderBy(t => t.Key.Agency ?? "", StringComparer.Ordinal).ThenBy(t => t.Key.Procedure ?? "", StringComparer.Ordinal)
            .Select(t => t.Value.Row(t.Key.Agency, t.Key.Procedure))];
    }

    private sealed class Counts
    {
        private readonly int[] _outcomes = new int[Enum.GetValues<OnTimeOutcome>().Length];
        private int _dossiers;
        private int _online;
        private int _paidOnline;

        public void Add(OnTimeOutcome outcome, bool online, bool paidOnline)
        {
            _dossiers++;
            _outcomes[(int)outcome]++;
            _online += online ? 1 : 0;
            _paidOnline += paidOnline ? 1 : 0;
        }

        public IndicatorRow Row(string? agency, string? procedure) => new(
            agency,
            procedure,
            _dossiers,
            _outcomes[(int)OnTimeOutcome.OnTime],
            _outcomes[(int)OnTimeOutcome.Overdue],
            _outcomes[(int)OnTimeOutcome.Undetermined],
            _outcomes[(int)OnTimeOutcome.InProgress],
            _outcomes[(int)OnTimeOutcome.OverdueInProgress],
            _outcomes[(int)OnTimeOutcome.NotApplicable],
            _online,
            _paidOnline);
    }
}
