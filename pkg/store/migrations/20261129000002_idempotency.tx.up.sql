{{/*
Idempotency keys: a client's Idempotency-Key for a create, recorded in the
same transaction as the write it guards, with the answer the write gave, so
a retry (the same key) is answered from here instead of writing again. Keys
are the community's own: two communities may use the same key. Kept for 24
hours; the periodic purge (idempotency:purge) deletes older ones across
every community, by created_at.
*/}}
CREATE TABLE idempotency_keys (
    tenant_id   TEXT NOT NULL,
    key         TEXT NOT NULL,
    -- sha256 of the caller, the route and the body: the same key sent with
    -- another request is refused rather than answered with this one's result.
    fingerprint TEXT NOT NULL,
    -- The write's result as JSON; NULL only inside the claiming transaction.
    response    {{.JSON}},
    created_at  {{.Time}} NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('idempotency_keys');{{end}}
--bun:split
{{/*
For the purge, across communities. Last on purpose, and without an SQL
comment before it: storetest's guard learns the tenant tables again after a
statement that starts with DDL, from outside this transaction, so the
migration must not end on the SELECT above.
*/}}
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
