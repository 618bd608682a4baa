CREATE INDEX audit_log_path_at_idx ON audit_log (org_path, at, id);
--bun:split
DROP INDEX audit_log_path_action_idx;
--bun:split
DROP INDEX audit_log_path_actor_idx;
--bun:split
DROP INDEX audit_log_path_id_idx;
