-- Connectors, their sync runs and their quarantined records. The hub keeps its own record of every run: the
-- scheduler's tables expire, operators and auditors need the history.

-- A registered connector: a kind, its configuration (secrets included; never returned or logged), its mapping,
-- its schedule and the cursor it owns. The cursor only moves in the transaction that stores the data it covers.
create table connector (
    id                   text        primary key check (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    kind                 text        not null,
    source_system        text        not null,
    display_name         text        not null,
    configuration        jsonb       not null,
    mapping              jsonb       not null,
    schedule             text,
    time_zone            text        not null default 'Asia/Ho_Chi_Minh',
    resilience           jsonb       not null default '{}',
    quarantine_threshold double precision not null default 0.05 check (quarantine_threshold between 0 and 1),
    active               boolean     not null default true,
    cursor               text,
    cursor_moved_at      timestamptz,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now()
);

-- One run of a connector: manual, scheduled, or a quarantine re-processing.
create table sync_run (
    id               bigint      generated always as identity primary key,
    connector_id     text        not null references connector (id),
    trigger          text        not null check (trigger in ('schedule', 'manual', 'reprocess', 'push')),
    host             text        not null,
    started_at       timestamptz not null,
    ended_at         timestamptz,
    outcome          text        not null default 'running' check (outcome in ('running', 'succeeded', 'failed', 'skipped', 'abandoned')),
    attempts         integer     not null default 0,
    pages            integer     not null default 0,
    records_read     bigint      not null default 0,
    changes_stored   bigint      not null default 0,
    unchanged        bigint      not null default 0,
    steps_stored     bigint      not null default 0,
    irregular        bigint      not null default 0,
    quarantined      bigint      not null default 0,
    mapping_version  text,
    cursor_before    text,
    cursor_after     text,
    failure_side     text        check (failure_side in ('source_unreachable', 'source_auth', 'source_data', 'configuration', 'hub')),
    failure_retryable boolean,
    failure_reason   text
);
create index sync_run_by_connector on sync_run (connector_id, started_at desc);

-- A record that could not be mapped or stored, kept whole with why, so nothing is lost and it can be
-- re-processed once the mapping is fixed. The same bad record resent is kept once. The payload is the exact text
-- received (jsonb would normalise it); it holds personal data and is never logged.
create table quarantined_record (
    id              bigint      generated always as identity primary key,
    connector_id    text        not null references connector (id),
    payload_hash    bytea       not null,
    record_kind     text        not null check (record_kind in ('dossier', 'step')),
    payload         text        not null,
    reason          text        not null,
    mapping_version text        not null,
    first_run_id    bigint      references sync_run (id),
    last_run_id     bigint      references sync_run (id),
    first_seen_at   timestamptz not null,
    last_seen_at    timestamptz not null,
    times_seen      integer     not null default 1,
    resolved_at     timestamptz,
    resolved_run_id bigint      references sync_run (id),
    unique (connector_id, payload_hash)
);
create index quarantined_record_open on quarantined_record (connector_id, id) where resolved_at is null;
