DROP TABLE IF EXISTS imports;
--bun:split
DROP TABLE IF EXISTS residents;
--bun:split
DROP TABLE IF EXISTS households;
--bun:split
DROP TABLE IF EXISTS buildings;
