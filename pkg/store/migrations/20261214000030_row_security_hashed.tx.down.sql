{{if .Postgres}}
DO $do$
DECLARE t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE p.polname = 'tenant_isolation' AND n.nspname = current_schema()
    LOOP
        EXECUTE format($p$ALTER POLICY tenant_isolation ON %I
        USING (tenant_id = (SELECT current_setting('app.tenant_id', true))
            OR (SELECT current_setting('app.tenant_ids', true)) = '*'
            OR tenant_id = ANY (string_to_array((SELECT current_setting('app.tenant_ids', true)), ',')))$p$, t);
    END LOOP;
END
$do$;
--bun:split
CREATE OR REPLACE FUNCTION wanjia_enable_rls(tbl regclass) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %s
        USING (tenant_id = (SELECT current_setting('app.tenant_id', true))
            OR (SELECT current_setting('app.tenant_ids', true)) = '*'
            OR tenant_id = ANY (string_to_array((SELECT current_setting('app.tenant_ids', true)), ',')))$p$, tbl);
END
$fn$;
--bun:split
DROP FUNCTION IF EXISTS wanjia_tenant_predicate();
{{end}}
