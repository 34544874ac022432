-- The central dossier status store: current state, full change history, processing steps, due-date history.
-- Every change goes through StatusStore.WriteAsync; nothing else writes these tables.

-- Every distinct change a source reported, whatever its order of arrival. A change is identified by the hash
-- of its whole content, so a resent change is stored once.
create table dossier_change (
    source_system          text        not null,
    native_id              text        not null,
    change_hash            bytea       not null,
    dossier_code           text        not null,
    event_time             timestamptz not null,
    source_version         bigint,
    status                 smallint    not null check (status between 1 and 10),
    source_status          text,
    mapping_version        text,
    procedure_code         text,
    procedure_base_code    text,
    procedure_name         text,
    sector_code            text,
    agency_code            text,
    handling_unit          text,
    applicant_type         smallint    check (applicant_type between 1 and 4),
    channel                smallint    check (channel between 1 and 3),
    paid_online            boolean,
    submitted_at           timestamptz,
    received_at            timestamptz,
    due_at                 timestamptz,
    processing_finished_at timestamptz,
    result_returned_at     timestamptz,
    refused_at             timestamptz,
    recorded_at            timestamptz not null default now(),
    primary key (source_system, native_id, change_hash)
);

-- The current state: for each dossier the newest change by (event_time, source_version, change_hash).
-- The hash only breaks exact ties, so that any arrival order gives the same winner.
create table dossier (
    source_system          text        not null,
    native_id              text        not null,
    change_hash            bytea       not null,
    dossier_code           text        not null,
    event_time             timestamptz not null,
    source_version         bigint,
    status                 smallint    not null check (status between 1 and 10),
    source_status          text,
    mapping_version        text,
    procedure_code         text,
    procedure_base_code    text,
    procedure_name         text,
    sector_code            text,
    agency_code            text,
    handling_unit          text,
    applicant_type         smallint    check (applicant_type between 1 and 4),
    channel                smallint    check (channel between 1 and 3),
    paid_online            boolean,
    submitted_at           timestamptz,
    received_at            timestamptz,
    due_at                 timestamptz,
    processing_finished_at timestamptz,
    result_returned_at     timestamptz,
    refused_at             timestamptz,
    first_stored_at        timestamptz not null default now(),
    updated_at             timestamptz not null default now(),
    primary key (source_system, native_id)
) with (fillfactor = 80); -- room for HOT updates: most changes rewrite a row without touching its indexed columns

-- MaHoSo is unique across the country.
create unique index dossier_code_unique on dossier (dossier_code);

-- Processing steps, deduplicated on the natural key (dossier, ThoiDiemXuLy, TrangThai, hash of NoiDungXuLy),
-- computed by the writer as step_key. When a resend of the same step differs in its other fields, the row with
-- the greater content hash wins, so the outcome does not depend on arrival order.
create table dossier_step (
    source_system  text        not null,
    native_id      text        not null,
    step_key       bytea       not null,
    content_hash   bytea       not null,
    step_time      timestamptz not null,
    status_after   smallint    check (status_after between 1 and 10),
    officer        text,
    officer_title  text,
    department     text,
    action         text,
    started_at     timestamptz,
    deadline       timestamptz,
    recorded_at    timestamptz not null default now(),
    primary key (source_system, native_id, step_key)
);

-- Due-date history, derived from the change history in source order: the first due date issued, then every
-- move to a different one. Empty due dates (a known quirk of some senders) are not moves.
create view dossier_due_date_history as
select source_system, native_id, event_time as changed_at, due_at, previous_due_at
from (
    select source_system, native_id, event_time, due_at,
           lag(due_at) over w as previous_due_at
    from dossier_change
    where due_at is not null
    window w as (partition by source_system, native_id
                 order by event_time, coalesce(source_version, -9223372036854775808), change_hash)
) ordered
where previous_due_at is null or previous_due_at <> due_at;
