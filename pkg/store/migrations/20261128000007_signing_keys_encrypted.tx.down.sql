{{/*
An earlier version cannot read encrypted keys, so they go: it makes a fresh
key when it starts. Only access tokens (15 minutes) die with them; clients
get new ones with their refresh tokens, which are not signed by these keys.
*/}}
DROP INDEX IF EXISTS signing_keys_generation_idx;
--bun:split
DELETE FROM signing_keys;
--bun:split
ALTER TABLE signing_keys DROP COLUMN generation;
