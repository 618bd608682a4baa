-- The ids of the records a read returned, 16 bytes each (audit.packIDs):
-- in details they were about 2 KB of JSON per list page, parsed into
-- jsonb and compressed on every read anyone made. Older entries keep
-- theirs in details; audit.List reads both.
ALTER TABLE audit_log ADD COLUMN ids {{.Blob}};
