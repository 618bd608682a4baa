{{/*
Directives down the tree (pkg/directives): an office above the communities
(a sub-district or a district) sends an instruction to some or all of the
communities below it, and each acknowledges it.

directives is the issuing office's, a platform table like orgs: an office
above the communities is not a tenant, and its row holds nothing of any
community's. directive_targets is each target community's own copy of what
it was sent, with its acknowledgement and its reminder's day: a tenant
table under row security, so a community reads and acknowledges it in its
own transaction, and the issuing office reads the acknowledgements through
store.AcrossTenants over the communities below it.
*/}}
CREATE TABLE directives (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs (id),
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    due_date         TEXT NOT NULL,
    -- Sent to every community below the office (none was chosen).
    all_below        BOOLEAN NOT NULL DEFAULT false,
    created_by       TEXT NOT NULL,
    created_by_name  TEXT NOT NULL,
    created_at       {{.Time}} NOT NULL
);
--bun:split
-- The office's list, newest first (UUIDv7 ids are ordered by time).
CREATE INDEX directives_org_idx ON directives (org_id, id);
--bun:split
CREATE TABLE directive_targets (
    tenant_id        TEXT NOT NULL,
    directive_id     TEXT NOT NULL REFERENCES directives (id),
    -- What the community was sent, as it was sent.
    issuer_slug      TEXT NOT NULL,
    issuer_name      TEXT NOT NULL,
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    due_date         TEXT NOT NULL,
    created_at       {{.Time}} NOT NULL,
    -- The first acknowledgement; a later one changes nothing.
    acked_at         {{.Time}},
    acked_by         TEXT,
    acked_by_name    TEXT,
    -- The community's local day its admins were reminded.
    reminded_on      TEXT,
    PRIMARY KEY (tenant_id, directive_id)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('directive_targets');{{end}}
--bun:split
-- The reminder sweep looks across communities for what is still open and
-- due soon.
CREATE INDEX directive_targets_open_idx ON directive_targets (due_date) WHERE acked_at IS NULL AND reminded_on IS NULL;
