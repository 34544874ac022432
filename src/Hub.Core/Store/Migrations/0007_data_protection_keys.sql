-- The key ring of ASP.NET Core Data Protection, which encrypts the secrets in connector configurations
-- (docs/decisions/0008). Every hub process sharing the database reads the same keys, so a secret one process encrypted
-- is readable by the others. Rows are only ever added: a deleted key makes what it encrypted unreadable for good.
create table data_protection_key (
    id            bigint      generated always as identity primary key,
    friendly_name text        not null,
    xml           text        not null,
    created_at    timestamptz not null default now()
);
