-- The organisation tree. Grids are not orgs: they are a community's own
-- records (tenant-owned) that split its work among grid workers.
CREATE TABLE orgs (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('district', 'subdistrict', 'community')),
    parent_id   TEXT REFERENCES orgs (id),
    -- Materialised path of slugs, "/qixing-district/qixing/yucai/", so that
    -- "everything below" is one indexed prefix match.
    path        TEXT NOT NULL UNIQUE,
    timezone    TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    settings    {{.JSON}} NOT NULL,
    created_at  {{.Time}} NOT NULL,
    updated_at  {{.Time}} NOT NULL
);
--bun:split
CREATE INDEX orgs_parent_idx ON orgs (parent_id);
--bun:split
CREATE TABLE grids (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES orgs (id),
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  {{.Time}} NOT NULL,
    updated_at  {{.Time}} NOT NULL,
    UNIQUE (tenant_id, slug)
);
--bun:split
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    phone         TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    {{.Time}} NOT NULL,
    updated_at    {{.Time}} NOT NULL
);
--bun:split
-- A user's role in one org. org_id NULL is the platform itself (root),
-- where only platform_admin lives.
CREATE TABLE memberships (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id      TEXT REFERENCES orgs (id),
    role        TEXT NOT NULL CHECK (role IN ('platform_admin', 'subdistrict_official', 'community_admin', 'community_staff', 'grid_worker')),
    grids       {{.JSON}} NOT NULL,
    created_at  {{.Time}} NOT NULL,
    updated_at  {{.Time}} NOT NULL
);
--bun:split
CREATE UNIQUE INDEX memberships_user_org_idx ON memberships (user_id, COALESCE(org_id, ''));
--bun:split
CREATE INDEX memberships_org_idx ON memberships (org_id);
--bun:split
-- Refresh tokens are stored hashed. A family is one login; reusing a
-- rotated token revokes the whole family.
CREATE TABLE refresh_tokens (
    id           TEXT PRIMARY KEY,
    family_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    expires_at   {{.Time}} NOT NULL,
    rotated_at   {{.Time}},
    revoked_at   {{.Time}},
    created_at   {{.Time}} NOT NULL
);
--bun:split
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
--bun:split
-- Signing keys for access tokens, shared by every replica through the
-- database. The newest active key signs; every unretired key verifies.
CREATE TABLE signing_keys (
    id          TEXT PRIMARY KEY,
    secret      TEXT NOT NULL,
    created_at  {{.Time}} NOT NULL,
    retired_at  {{.Time}}
);
--bun:split
-- Append-only: the application never updates or deletes these rows.
CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    -- The path of the org the act was done in, so an office sees the log
    -- of everything below it with one prefix match.
    org_path     TEXT NOT NULL,
    at           {{.Time}} NOT NULL,
    actor_id     TEXT NOT NULL,
    actor        TEXT NOT NULL,
    role         TEXT NOT NULL,
    org          TEXT NOT NULL,
    action       TEXT NOT NULL,
    resource     TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    ip           TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    details      {{.JSON}}
);
--bun:split
CREATE INDEX audit_log_path_at_idx ON audit_log (org_path, at, id);
