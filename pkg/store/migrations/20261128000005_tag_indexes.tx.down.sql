{{if not .Postgres}}
DROP INDEX IF EXISTS residents_tag_elderly_idx;
--bun:split
DROP INDEX IF EXISTS residents_tag_lives_alone_idx;
--bun:split
DROP INDEX IF EXISTS residents_tag_disabled_idx;
--bun:split
DROP INDEX IF EXISTS residents_tag_chronic_illness_idx;
--bun:split
DROP INDEX IF EXISTS residents_tag_pregnant_idx;
--bun:split
DROP INDEX IF EXISTS residents_tag_child_idx;
{{end}}
