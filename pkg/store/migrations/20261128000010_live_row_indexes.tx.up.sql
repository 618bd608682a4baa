{{/*
Lists page through a community's live rows in id order. PostgreSQL's
primary key (tenant_id, id) serves that; SQLite's primary key is id alone,
and without statistics it sorted every row of the community for each page.
One partial index per listed table holds just the live rows in list order.
*/}}
CREATE INDEX households_live_idx ON households (tenant_id, id) WHERE deleted_at IS NULL;
--bun:split
CREATE INDEX residents_live_idx ON residents (tenant_id, id) WHERE deleted_at IS NULL;
--bun:split
CREATE INDEX buildings_live_idx ON buildings (tenant_id, id) WHERE deleted_at IS NULL;
