-- Subscriptions: systems that get the hub's published events (the national portal, ministries, provinces), each
-- through a subscriber connector kind with a configuration (secrets encrypted as connectors' are) and filters.
create table subscription (
    id             text        primary key,
    kind           text        not null,
    display_name   text        not null,
    -- The kind's configuration as JSON, with the values the kind's schema marks secret encrypted.
    configuration  text        not null,
    -- Filters; null: every value. Agencies may end in '*' (a prefix).
    agencies       text[],
    procedures     text[],
    statuses       smallint[],
    max_attempts   integer     not null check (max_attempts between 1 and 100),
    retry_base     interval    not null,
    retry_max      interval    not null,
    batch_size     integer     not null check (batch_size between 1 and 1000),
    resilience     jsonb       not null,
    active         boolean     not null default true,
    -- The node delivering the subscription's events, until when: one node at a time, so a dossier's events keep their order.
    lease_owner    text,
    lease_until    timestamptz,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);

-- One row per event and subscription that wants it: the delivery's state, attempts and the event itself as published.
create table delivery (
    id              bigint      generated always as identity primary key,
    subscription_id text        not null references subscription (id) on delete cascade,
    event_id        uuid        not null,
    event_kind      text        not null check (event_kind in ('dossier-status-changed', 'dossier-step-added')),
    source_system   text        not null,
    native_id       text        not null,
    dossier_code    text        not null,
    event           jsonb       not null,
    status          text        not null default 'pending' check (status in ('pending', 'failed', 'delivered', 'dead')),
    attempts        integer     not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_attempt_at timestamptz,
    last_error      text,
    delivered_at    timestamptz,
    -- Delivered without being sent: the subscriber keeps only the latest state and already has a later one.
    superseded      boolean     not null default false,
    created_at      timestamptz not null default now(),
    unique (subscription_id, event_id)
);
create index delivery_due on delivery (subscription_id, id) where status in ('pending', 'failed');
create index delivery_dossier on delivery (subscription_id, source_system, native_id, id) where status in ('pending', 'failed');
create index delivery_dead on delivery (subscription_id, id) where status = 'dead';
create index delivery_delivered_at on delivery (delivered_at) where status = 'delivered';

-- For subscribers that keep only a dossier's latest state: the order key of the latest change delivered.
create table subscriber_dossier (
    subscription_id text        not null references subscription (id) on delete cascade,
    source_system   text        not null,
    native_id       text        not null,
    event_time      timestamptz not null,
    source_version  bigint,
    change_hash     bytea       not null,
    primary key (subscription_id, source_system, native_id)
);
