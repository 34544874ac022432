-- Sessions of the national portal adapter (POST /portal/login). Several hub processes share one database, so a
-- session given by one must be accepted by the others: sessions live here, not in a process's memory. Only a SHA-256
-- of the token is kept, so a copy of this table gives no usable session. credential_stamp is a SHA-256 of the
-- connector's credentials at login: a session ends when they change. Expired rows are kept a week (to tell an expired
-- session from an unknown one), then removed at a later login.
create table portal_session (
    token_hash       bytea       primary key,
    connector_id     text        not null references connector (id) on delete cascade,
    credential_stamp bytea       not null,
    created_at       timestamptz not null,
    expires_at       timestamptz not null
);
create index portal_session_expiry on portal_session (expires_at);
