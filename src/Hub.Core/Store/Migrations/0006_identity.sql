-- Who may call the hub's API: principals, the roles granted to them (province-admin scoped to agency codes) and their
-- API keys. A key's secret is never stored: only the SHA-256 of the whole key, which is 256 random bits, so a slow
-- password hash would add nothing. Rows are revoked or disabled, never deleted, so the exchange log's administrative
-- entries keep naming principals that exist.
create table principal (
    id           text        primary key check (id ~ '^[a-z0-9][a-z0-9._@-]{0,99}$'),
    display_name text        not null check (length(display_name) between 1 and 200),
    created_at   timestamptz not null,
    created_by   text        not null,
    disabled_at  timestamptz,
    disabled_by  text
);

create table principal_role (
    principal_id text not null references principal (id),
    role         text not null check (role in ('province-admin', 'operator', 'auditor', 'admin')),
    -- The agency a province-admin grant is for; '' for the central roles.
    agency_code  text not null default '',
    primary key (principal_id, role, agency_code),
    check ((role = 'province-admin') = (agency_code <> ''))
);

create table api_key (
    id             text        primary key check (id ~ '^[a-z0-9]{1,40}$'),
    principal_id   text        not null references principal (id),
    secret_sha256  bytea       not null unique check (length(secret_sha256) = 32),
    description    text        not null,
    created_at     timestamptz not null,
    created_by     text        not null,
    expires_at     timestamptz not null,
    revoked_at     timestamptz,
    revoked_by     text,
    revoked_reason text,
    last_used_at   timestamptz,
    check (expires_at > created_at)
);
create index api_key_principal on api_key (principal_id);
