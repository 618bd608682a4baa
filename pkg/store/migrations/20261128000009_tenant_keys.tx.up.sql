{{/*
Keys ready to be distributed by tenant: every tenant table's primary key
leads with tenant_id, and a foreign key between tenant tables carries it, so
a community's rows sit together (one index range per community) and the
tables can be distributed by tenant_id (Citus) when a province outgrows one
server. orgs, users and memberships stay small reference tables.
TestTenantKeys reads the live schema and holds every later table to this.

PostgreSQL only: the embedded SQLite file is one office's database and is
never distributed; its keys stay as they are.
*/}}
{{if .Postgres}}
ALTER TABLE buildings DROP CONSTRAINT buildings_grid_id_fkey;
--bun:split
ALTER TABLE households DROP CONSTRAINT households_building_id_fkey;
--bun:split
ALTER TABLE residents DROP CONSTRAINT residents_household_id_fkey;
--bun:split
ALTER TABLE import_errors DROP CONSTRAINT import_errors_import_id_fkey;
--bun:split
ALTER TABLE grids DROP CONSTRAINT grids_pkey, ADD PRIMARY KEY (tenant_id, id);
--bun:split
ALTER TABLE buildings DROP CONSTRAINT buildings_pkey, ADD PRIMARY KEY (tenant_id, id);
--bun:split
ALTER TABLE households DROP CONSTRAINT households_pkey, ADD PRIMARY KEY (tenant_id, id);
--bun:split
ALTER TABLE residents DROP CONSTRAINT residents_pkey, ADD PRIMARY KEY (tenant_id, id);
--bun:split
ALTER TABLE imports DROP CONSTRAINT imports_pkey, ADD PRIMARY KEY (tenant_id, id);
--bun:split
ALTER TABLE buildings ADD CONSTRAINT buildings_grid_fkey FOREIGN KEY (tenant_id, grid_id) REFERENCES grids (tenant_id, id);
--bun:split
ALTER TABLE households ADD CONSTRAINT households_building_fkey FOREIGN KEY (tenant_id, building_id) REFERENCES buildings (tenant_id, id);
--bun:split
ALTER TABLE residents ADD CONSTRAINT residents_household_fkey FOREIGN KEY (tenant_id, household_id) REFERENCES households (tenant_id, id);
--bun:split
ALTER TABLE import_errors ADD CONSTRAINT import_errors_import_fkey FOREIGN KEY (tenant_id, import_id) REFERENCES imports (tenant_id, id) ON DELETE CASCADE;
{{end}}
