-- Deliveries accepted by json-webhook connectors, so that an exact copy of one (same timestamp, same body) is refused
-- while its timestamp would still pass the connector's tolerance, by every hub process sharing the database. A row is
-- written in the transaction that stores the delivery's records: a delivery that failed to store can be sent again.
-- Rows whose signing time is beyond the tolerance are deleted as deliveries arrive; the timestamp check refuses
-- their copies from then on.
create table webhook_delivery (
    connector_id text        not null references connector (id) on delete cascade,
    digest       bytea       not null check (length(digest) = 32),
    signed_at    timestamptz not null,
    received_at  timestamptz not null,
    primary key (connector_id, digest)
);
create index webhook_delivery_expiry on webhook_delivery (connector_id, signed_at);
