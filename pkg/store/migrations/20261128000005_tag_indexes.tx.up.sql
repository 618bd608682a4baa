{{/*
SQLite cannot index inside JSON, so a tag filter read every resident of the
community (about 40 ms for 25,000). One partial index per well-known tag holds
just the residents with it, in id order as lists page them; the roster writes
the same instr() test in its filter so that SQLite picks the index. PostgreSQL
answers the filter with @> and needs none.
*/}}
{{if not .Postgres}}
CREATE INDEX residents_tag_elderly_idx ON residents (tenant_id, id) WHERE deleted_at IS NULL AND instr(tags, '"elderly"') > 0;
--bun:split
CREATE INDEX residents_tag_lives_alone_idx ON residents (tenant_id, id) WHERE deleted_at IS NULL AND instr(tags, '"lives_alone"') > 0;
--bun:split
CREATE INDEX residents_tag_disabled_idx ON residents (tenant_id, id) WHERE deleted_at IS NULL AND instr(tags, '"disabled"') > 0;
--bun:split
CREATE INDEX residents_tag_chronic_illness_idx ON residents (tenant_id, id) WHERE deleted_at IS NULL AND instr(tags, '"chronic_illness"') > 0;
--bun:split
CREATE INDEX residents_tag_pregnant_idx ON residents (tenant_id, id) WHERE deleted_at IS NULL AND instr(tags, '"pregnant"') > 0;
--bun:split
CREATE INDEX residents_tag_child_idx ON residents (tenant_id, id) WHERE deleted_at IS NULL AND instr(tags, '"child"') > 0;
{{end}}
