-- Connectors belong to an agency (a province or a ministry, by its agency code), whose province-admins maintain them,
-- and go through a lifecycle: draft -> submitted -> approved (by an operator) -> active <-> paused -> retired, each
-- change with who, when and why. A connector runs only while active: `active` stays the scheduler's flag, and equals
-- `lifecycle = 'active'` by constraint. Connectors registered before this migration (from files) are central (no
-- agency) and keep their state.
alter table connector
    add column agency text check (agency ~ '^[0-9A-Z]+(\.[0-9A-Z]+)*$' and length(agency) <= 35),
    add column lifecycle text not null default 'active'
        check (lifecycle in ('draft', 'submitted', 'approved', 'active', 'paused', 'retired')),
    add column lifecycle_reason text,
    add column lifecycle_changed_at timestamptz,
    add column lifecycle_changed_by text;

update connector set lifecycle = case when active then 'active' else 'paused' end;

alter table connector add constraint connector_runs_only_when_active check (active = (lifecycle = 'active'));

create index connector_by_agency on connector (agency);
create index connector_by_source_system on connector (source_system);

-- Every version of every connector's mapping, kept for good: records and quarantine entries name the version that
-- mapped them, and a version, once used, always means the same mapping (a changed mapping needs a new version).
create table connector_mapping_version (
    connector_id text        not null references connector (id) on delete cascade,
    version      text        not null,
    mapping      jsonb       not null,
    sha256       text        not null,
    created_at   timestamptz not null default now(),
    created_by   text        not null,
    reason       text,
    primary key (connector_id, version)
);

insert into connector_mapping_version (connector_id, version, mapping, sha256, created_by, reason)
select id, mapping->>'version', mapping, encode(sha256(convert_to(mapping::text, 'UTF8')), 'hex'), 'hub', 'in use when mappings were first versioned'
from connector
where mapping ? 'version';
