DROP INDEX IF EXISTS households_live_idx;
--bun:split
DROP INDEX IF EXISTS residents_live_idx;
--bun:split
DROP INDEX IF EXISTS buildings_live_idx;
