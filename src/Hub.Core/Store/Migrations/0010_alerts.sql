-- Maintenance windows: while one covers now, the connector's alerts are muted (docs/decisions/0014). A cancelled window
-- is kept with who cancelled it and why.
create table maintenance_window (
    id             bigint      generated always as identity primary key,
    connector_id   text        not null references connector (id) on delete cascade,
    starts_at      timestamptz not null,
    ends_at        timestamptz not null,
    reason         text        not null,
    created_by     text        not null,
    created_at     timestamptz not null default now(),
    cancelled_at   timestamptz,
    cancelled_by   text,
    cancel_reason  text,
    check (ends_at > starts_at)
);
create index maintenance_window_by_connector on maintenance_window (connector_id, ends_at) where cancelled_at is null;

-- Alerts: one row per firing of a rule for a connector (connector_id '' for hub-wide rules such as the signing
-- certificate). At most one open row per (rule, connector): the evaluator claims a firing with an insert that does
-- nothing on conflict, so a restart or a second hub process never fires twice. The row is delivered once when it
-- fires and once when it is resolved; failed deliveries are retried at the next evaluation.
create table alert (
    id                      bigint      generated always as identity primary key,
    rule                    text        not null,
    connector_id            text        not null,
    state                   text        not null,
    since                   timestamptz,
    message                 text        not null,
    fired_at                timestamptz not null,
    delivered_at            timestamptz,
    resolved_at             timestamptz,
    resolved_delivered_at   timestamptz,
    delivery_attempts       integer     not null default 0,
    last_delivery_at        timestamptz,
    last_delivery_error     text
);
create unique index alert_open on alert (rule, connector_id) where resolved_at is null;
create index alert_undelivered on alert (id) where delivered_at is null or (resolved_at is not null and resolved_delivered_at is null);
