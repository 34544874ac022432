-- Back-fills, retries and the connector page's chart (docs/decisions/0017).
-- A back-fill is a run with trigger 'backfill' over [range_from, range_to): its own progress is the run's cursor_after
-- (the connector's cursor does not move), so a killed back-fill resumes from it. A run queued to retry or resume another
-- names it in retry_of. newest_event_at is the connector's newest stored source event time when the run ended, so the
-- lag at the end of each run (ended_at - newest_event_at) can be charted without a scan of the history.
alter table sync_run drop constraint sync_run_trigger_check;
alter table sync_run add constraint sync_run_trigger_check check (trigger in ('schedule', 'manual', 'reprocess', 'push', 'backfill'));
alter table sync_run
    add column range_from      timestamptz,
    add column range_to        timestamptz,
    add column retry_of        bigint references sync_run (id),
    add column newest_event_at timestamptz,
    add constraint sync_run_range check ((trigger = 'backfill') = (range_from is not null and range_to is not null) and (range_from is null or range_from < range_to));
create index sync_run_by_connector_ended on sync_run (connector_id, ended_at) where ended_at is not null;
