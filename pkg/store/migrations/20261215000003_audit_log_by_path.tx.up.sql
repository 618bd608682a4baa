-- The audit log is read a page at a time, newest first, per org path
-- (audit.List reads each path below the office through its own index
-- scan and merges them), filtered by actor or action. (org_path, at, id)
-- sorted a whole community's log for each page: 60 ms at 100,000 entries,
-- growing with the log. These keep a page at 51 index entries per path.
-- A date range is an id range too (ids are UUIDv7).
CREATE INDEX audit_log_path_id_idx ON audit_log (org_path, id);
--bun:split
CREATE INDEX audit_log_path_actor_idx ON audit_log (org_path, actor, id);
--bun:split
CREATE INDEX audit_log_path_action_idx ON audit_log (org_path, action, id);
--bun:split
DROP INDEX audit_log_path_at_idx;
