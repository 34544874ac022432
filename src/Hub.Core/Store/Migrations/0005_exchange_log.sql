-- The exchange log: every message the hub received or sent and every administrative action, append-only and
-- tamper-evident (docs/decisions/0005-exchange-log.md).
--
-- An entry is written in the transaction of what it records (the records a message stored, a registration), and
-- queued in exchange_pending. The sealer takes the queue in entry order, gives each entry the next leaf index of a
-- Merkle tree (RFC 9162 hashing), and in the same transaction stores a checkpoint: tree size, root hash and the
-- segment's leaf hashes, with an XML-DSig signature by the hub's signing certificate over size and root.

-- Raw message bytes, content-addressed: a page or document received twice is kept once.
create table exchange_payload (
    sha256  bytea primary key check (length(sha256) = 32),
    content bytea not null
);

create table exchange_entry (
    id               bigint generated always as identity primary key,
    recorded_at      timestamptz not null,
    kind             text not null check (kind in ('message', 'admin')),
    connector_id     text,
    direction        text check (direction in ('inbound', 'outbound')),
    transport        text,
    received_at      timestamptz,
    content_type     text,
    -- The message's hash and size; its bytes are in exchange_payload unless withheld (the reason is here then).
    payload_sha256   bytea check (length(payload_sha256) = 32),
    payload_size     bigint,
    payload_withheld text,
    outcome          text not null check (outcome in ('stored', 'rejected', 'done', 'failed')),
    reason           text,
    dossiers         text[] not null default '{}',
    mapping_version  text,
    run_id           bigint,
    actor            text,
    action           text,
    detail           text
);
create index exchange_entry_dossiers on exchange_entry using gin (dossiers);
create index exchange_entry_connector on exchange_entry (connector_id, recorded_at);
create index exchange_entry_recorded on exchange_entry (recorded_at);
create index exchange_entry_run on exchange_entry (run_id) where run_id is not null;

-- Entries waiting for the sealer (a queue: the sealer deletes what it seals).
create table exchange_pending (
    entry_id bigint primary key
);

-- The Merkle tree's leaves: leaf index -> entry.
create table exchange_leaf (
    leaf_index bigint primary key,
    entry_id   bigint not null unique
);

-- Signed checkpoints. leaf_hashes holds the leaf hashes of [previous_size, tree_size), 32 bytes each; frontier the
-- roots of the perfect subtrees making up the tree of tree_size leaves, for the next seal.
create table exchange_checkpoint (
    tree_size     bigint primary key,
    previous_size bigint not null,
    root_hash     bytea not null check (length(root_hash) = 32),
    sealed_at     timestamptz not null,
    signer        text not null,
    leaf_hashes   bytea not null,
    frontier      bytea not null,
    document      text not null
);

-- Certificates that signed checkpoints, and the hub's self-generated signing key when no certificate is configured.
create table exchange_signer (
    thumbprint  text primary key,
    certificate text not null,
    private_key text,
    created_at  timestamptz not null default now()
);

create function exchange_log_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the exchange log is append-only: % on % is not allowed', tg_op, tg_table_name
        using errcode = 'insufficient_privilege';
end
$$;

create trigger exchange_entry_append_only before update or delete or truncate on exchange_entry
    for each statement execute function exchange_log_append_only();
create trigger exchange_payload_append_only before update or delete or truncate on exchange_payload
    for each statement execute function exchange_log_append_only();
create trigger exchange_leaf_append_only before update or delete or truncate on exchange_leaf
    for each statement execute function exchange_log_append_only();
create trigger exchange_checkpoint_append_only before update or delete or truncate on exchange_checkpoint
    for each statement execute function exchange_log_append_only();
