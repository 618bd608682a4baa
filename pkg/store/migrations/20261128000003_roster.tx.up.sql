-- The roster: buildings, households, residents. Every key and index starts
-- with tenant_id, so a community's rows sit together and the tables can be
-- partitioned or distributed by tenant later.
--
-- households and residents reference their parent row but not orgs or
-- grids: the service checks tenant and grid on every write, and on an
-- import of 100,000 rows the extra foreign-key triggers (one lookup per
-- row per key) cost more than the rest of the import together.
CREATE TABLE buildings (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES orgs (id),
    grid_id     TEXT NOT NULL REFERENCES grids (id),
    name        TEXT NOT NULL,
    address     TEXT NOT NULL DEFAULT '',
    created_at  {{.Time}} NOT NULL,
    updated_at  {{.Time}} NOT NULL,
    deleted_at  {{.Time}}
);
--bun:split
CREATE UNIQUE INDEX buildings_name_idx ON buildings (tenant_id, name) WHERE deleted_at IS NULL;
--bun:split
CREATE INDEX buildings_grid_idx ON buildings (tenant_id, grid_id);
--bun:split
CREATE TABLE households (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    grid_id      TEXT NOT NULL,
    building_id  TEXT REFERENCES buildings (id),
    unit         TEXT NOT NULL DEFAULT '',
    room         TEXT NOT NULL DEFAULT '',
    address      TEXT NOT NULL,
    -- The natural key of a household within its community: its building,
    -- unit and room, or its normalised free address. Re-imports match on it.
    address_key  TEXT NOT NULL,
    phone        TEXT NOT NULL DEFAULT '',
    -- Digits reversed, so "ends with 1234" is an indexable prefix search.
    phone_rev    TEXT NOT NULL DEFAULT '',
    tags         {{.JSON}} NOT NULL,
    notes        TEXT NOT NULL DEFAULT '',
    created_at   {{.Time}} NOT NULL,
    updated_at   {{.Time}} NOT NULL,
    deleted_at   {{.Time}}
);
--bun:split
CREATE UNIQUE INDEX households_address_key_idx ON households (tenant_id, address_key) WHERE deleted_at IS NULL;
--bun:split
CREATE INDEX households_grid_idx ON households (tenant_id, grid_id, id);
--bun:split
CREATE INDEX households_phone_rev_idx ON households (tenant_id, phone_rev);
--bun:split
CREATE INDEX households_address_idx ON households (tenant_id, address{{if .Postgres}} text_pattern_ops{{end}});
--bun:split
CREATE TABLE residents (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    household_id  TEXT NOT NULL REFERENCES households (id),
    -- The household's grid, copied so grid workers' lists need no join.
    grid_id       TEXT NOT NULL,
    name          TEXT NOT NULL,
    phone         TEXT NOT NULL DEFAULT '',
    phone_rev     TEXT NOT NULL DEFAULT '',
    id_number     TEXT,
    birth_year    INTEGER,
    sex           TEXT NOT NULL DEFAULT '',
    tags          {{.JSON}} NOT NULL,
    created_at    {{.Time}} NOT NULL,
    updated_at    {{.Time}} NOT NULL,
    deleted_at    {{.Time}}
);
--bun:split
CREATE UNIQUE INDEX residents_id_number_idx ON residents (tenant_id, id_number) WHERE id_number IS NOT NULL AND deleted_at IS NULL;
--bun:split
CREATE INDEX residents_household_idx ON residents (tenant_id, household_id);
--bun:split
CREATE INDEX residents_grid_idx ON residents (tenant_id, grid_id, id);
--bun:split
CREATE INDEX residents_name_idx ON residents (tenant_id, name{{if .Postgres}} text_pattern_ops{{end}});
--bun:split
CREATE INDEX residents_phone_rev_idx ON residents (tenant_id, phone_rev);
--bun:split
-- An uploaded roster file and what became of it. The file lives here, not
-- on a disk, so that any worker can process what any API replica received.
CREATE TABLE imports (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES orgs (id),
    kind         TEXT NOT NULL CHECK (kind IN ('households', 'residents')),
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    filename     TEXT NOT NULL,
    size         BIGINT NOT NULL,
    file         {{.Blob}},
    rows         INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL DEFAULT 0,
    updated      INTEGER NOT NULL DEFAULT 0,
    unchanged    INTEGER NOT NULL DEFAULT 0,
    errors       {{.JSON}} NOT NULL,
    error_count  INTEGER NOT NULL DEFAULT 0,
    message      TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL,
    created_at   {{.Time}} NOT NULL,
    started_at   {{.Time}},
    finished_at  {{.Time}}
);
--bun:split
CREATE INDEX imports_tenant_idx ON imports (tenant_id, created_at);
