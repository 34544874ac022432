-- The newest source event time stored per connector, for the lag metric (hub.connector.lag = now - newest_event_at).
-- Kept by the ingest path in each page's transaction, so reading it costs one row per connector instead of a scan
-- of the connector's whole history. Filled once here from the history of each connector's source system.
alter table connector add column newest_event_at timestamptz;

update connector c
set newest_event_at = (select max(event_time) from dossier_change h where h.source_system = c.source_system);
