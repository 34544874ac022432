-- The transactional outbox: one row per event to publish, written by the store's batch write in the same transaction
-- as the change it announces, so that what is stored and what is published cannot disagree after a crash.
-- A row names what it announces (the history row of a change, or the step row with its content hash); the dispatcher
-- reads that row when it publishes, so the event carries the change exactly as stored. A dispatcher claims rows with
-- FOR UPDATE SKIP LOCKED, publishes them and marks them sent in one transaction: a crash before the commit leaves them
-- to be published again (at least once).
create table outbox (
    id            bigint      generated always as identity primary key,
    kind          text        not null check (kind in ('dossier-status-changed', 'dossier-step-added')),
    source_system text        not null,
    native_id     text        not null,
    -- dossier-status-changed: the change's hash (dossier_change key); dossier-step-added: the step's key.
    record_key    bytea       not null,
    -- dossier-step-added: the content hash of the step as stored; a later change of the step has its own row.
    content_hash  bytea,
    -- Whether the change became the dossier's current state when stored.
    is_current    boolean,
    created_at    timestamptz not null default now(),
    sent_at       timestamptz,
    check ((kind = 'dossier-step-added') = (content_hash is not null))
);
create index outbox_pending on outbox (id) where sent_at is null;
