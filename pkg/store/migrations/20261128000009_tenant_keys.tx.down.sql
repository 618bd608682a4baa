{{if .Postgres}}
ALTER TABLE import_errors DROP CONSTRAINT import_errors_import_fkey;
--bun:split
ALTER TABLE residents DROP CONSTRAINT residents_household_fkey;
--bun:split
ALTER TABLE households DROP CONSTRAINT households_building_fkey;
--bun:split
ALTER TABLE buildings DROP CONSTRAINT buildings_grid_fkey;
--bun:split
ALTER TABLE imports DROP CONSTRAINT imports_pkey, ADD PRIMARY KEY (id);
--bun:split
ALTER TABLE residents DROP CONSTRAINT residents_pkey, ADD PRIMARY KEY (id);
--bun:split
ALTER TABLE households DROP CONSTRAINT households_pkey, ADD PRIMARY KEY (id);
--bun:split
ALTER TABLE buildings DROP CONSTRAINT buildings_pkey, ADD PRIMARY KEY (id);
--bun:split
ALTER TABLE grids DROP CONSTRAINT grids_pkey, ADD PRIMARY KEY (id);
--bun:split
ALTER TABLE import_errors ADD CONSTRAINT import_errors_import_id_fkey FOREIGN KEY (import_id) REFERENCES imports (id) ON DELETE CASCADE;
--bun:split
ALTER TABLE residents ADD CONSTRAINT residents_household_id_fkey FOREIGN KEY (household_id) REFERENCES households (id);
--bun:split
ALTER TABLE households ADD CONSTRAINT households_building_id_fkey FOREIGN KEY (building_id) REFERENCES buildings (id);
--bun:split
ALTER TABLE buildings ADD CONSTRAINT buildings_grid_id_fkey FOREIGN KEY (grid_id) REFERENCES grids (id);
{{end}}
