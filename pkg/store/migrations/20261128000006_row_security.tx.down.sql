{{if .Postgres}}
DO $do$
DECLARE t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE p.polname = 'tenant_isolation' AND n.nspname = current_schema()
    LOOP
        EXECUTE format('DROP POLICY tenant_isolation ON %I', t);
        EXECUTE format('ALTER TABLE %I NO FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', t);
    END LOOP;
END
$do$;
--bun:split
DROP FUNCTION IF EXISTS wanjia_enable_rls(regclass);
{{end}}
