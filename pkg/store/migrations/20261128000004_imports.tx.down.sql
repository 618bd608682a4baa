DROP INDEX IF EXISTS imports_one_running_idx;
--bun:split
ALTER TABLE imports ADD COLUMN errors {{.JSON}} NOT NULL DEFAULT '[]';
--bun:split
DROP TABLE IF EXISTS import_errors;
