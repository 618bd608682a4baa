DROP INDEX isolation_cases_retention_idx;
--bun:split
ALTER TABLE isolation_cases DROP COLUMN purged_on;
--bun:split
DROP TABLE isolation_sweeps;
