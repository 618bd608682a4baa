DROP TABLE IF EXISTS audit_log;
--bun:split
DROP TABLE IF EXISTS signing_keys;
--bun:split
DROP TABLE IF EXISTS refresh_tokens;
--bun:split
DROP TABLE IF EXISTS memberships;
--bun:split
DROP TABLE IF EXISTS users;
--bun:split
DROP TABLE IF EXISTS grids;
--bun:split
DROP TABLE IF EXISTS orgs;
