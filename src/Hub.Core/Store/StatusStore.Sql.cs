namespace Hub.Core.Store;

public sealed partial class StatusStore
{
    internal const string ChangeColumns =
        "source_system, native_id, change_hash, dossier_code, event_time, source_version, status, source_status, mapping_version, " +
        "procedure_code, procedure_base_code, procedure_name, sector_code, agency_code, handling_unit, applicant_type, channel, " +
        "paid_online, submitted_at, received_at, due_at, processing_finished_at, result_returned_at, refused_at";

    internal const string StepColumns =
        "source_system, native_id, step_key, content_hash, step_time, status_after, officer, officer_title, department, action, started_at, deadline";

    private const string StageChangesSql = $"""
        create temp table stage_change on commit drop as
        select {ChangeColumns}, false as is_latest from dossier_change with no data;
        create temp table stage_added (source_system text, native_id text, change_hash bytea, event_time timestamptz,
            source_version bigint, status smallint) on commit drop;
        create temp table stage_current (source_system text, native_id text, change_hash bytea) on commit drop
        """;

    private const string StageStepsSql = $"""
        create temp table stage_step on commit drop as
        select {StepColumns} from dossier_step with no data
        """;

    // The rows really added are kept (stage_added) to classify their transitions after the insert: a data-modifying
    // CTE's own statement cannot see the rows it inserts.
    private const string InsertHistorySql = $"""
        with added as (
            insert into dossier_change ({ChangeColumns})
            select {ChangeColumns} from stage_change
            order by source_system, native_id, change_hash
            on conflict do nothing
            returning source_system, native_id, change_hash, event_time, source_version, status)
        insert into stage_added select * from added
        """;

    // Each added change with the status just before it in its dossier's history (by event time, version, hash).
    private const string AddedTransitionsSql = """
        select (select c.status from dossier_change c
                where c.source_system = a.source_system and c.native_id = a.native_id
                  and (c.event_time, coalesce(c.source_version, -9223372036854775808), c.change_hash)
                    < (a.event_time, coalesce(a.source_version, -9223372036854775808), a.change_hash)
                order by c.event_time desc, coalesce(c.source_version, -9223372036854775808) desc, c.change_hash desc
                limit 1) as previous,
               a.status
        from stage_added a
        """;

    // The newest change wins: (event_time, source_version, change_hash), as StatusStore.CompareNewness. The changes that
    // became current are kept (stage_current) for the outbox.
    private const string UpsertCurrentSql = $"""
        with upserted as (
        insert into dossier ({ChangeColumns})
        select {ChangeColumns} from stage_change where is_latest
        order by source_system, native_id
        on conflict (source_system, native_id) do update set
            change_hash = excluded.change_hash, dossier_code = excluded.dossier_code, event_time = excluded.event_time,
            source_version = excluded.source_version, status = excluded.status, source_status = excluded.source_status,
            mapping_version = excluded.mapping_version, procedure_code = excluded.procedure_code,
            procedure_base_code = excluded.procedure_base_code, procedure_name = excluded.procedure_name,
            sector_code = excluded.sector_code, agency_code = excluded.agency_code, handling_unit = excluded.handling_unit,
            applicant_type = excluded.applicant_type, channel = excluded.channel, paid_online = excluded.paid_online,
            submitted_at = excluded.submitted_at, received_at = excluded.received_at, due_at = excluded.due_at,
            processing_finished_at = excluded.processing_finished_at, result_returned_at = excluded.result_returned_at,
            refused_at = excluded.refused_at, updated_at = now()
        where (excluded.event_time, coalesce(excluded.source_version, -9223372036854775808), excluded.change_hash)
            > (dossier.event_time, coalesce(dossier.source_version, -9223372036854775808), dossier.change_hash)
        returning source_system, native_id, change_hash)
        insert into stage_current select * from upserted
        """;

    // Every change added to the history is announced in the outbox, in the same transaction; whether it became the
    // current state is known once the current state is upserted, so this runs after it.
    private const string OutboxChangesSql = """
        insert into outbox (kind, source_system, native_id, record_key, is_current)
        select 'dossier-status-changed', a.source_system, a.native_id, a.change_hash, c.change_hash is not null
        from stage_added a
        left join stage_current c on c.source_system = a.source_system and c.native_id = a.native_id and c.change_hash = a.change_hash
        order by a.source_system, a.native_id, a.event_time, a.change_hash
        """;

    // Every step stored or replaced is announced in the outbox with the content it was stored with.
    private const string UpsertStepsSql = $"""
        with changed as (
            insert into dossier_step ({StepColumns})
            select {StepColumns} from stage_step
            order by source_system, native_id, step_key
            on conflict (source_system, native_id, step_key) do update set
                content_hash = excluded.content_hash, status_after = excluded.status_after, officer = excluded.officer,
                officer_title = excluded.officer_title, department = excluded.department, action = excluded.action,
                started_at = excluded.started_at, deadline = excluded.deadline, recorded_at = now()
            where excluded.content_hash > dossier_step.content_hash
            returning source_system, native_id, step_key, content_hash, step_time)
        insert into outbox (kind, source_system, native_id, record_key, content_hash)
        select 'dossier-step-added', source_system, native_id, step_key, content_hash from changed
        order by source_system, native_id, step_time, step_key
        """;
}
