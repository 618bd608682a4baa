{{/*
The row-security policy of every tenant table, made cheap across tenants.

The first policy matched a row against AcrossTenants' list with
tenant_id = ANY (string_to_array((SELECT current_setting(...)), ',')): the
sub-select was evaluated once, but the split and the linear search ran for
every row, so a rollup over 100 communities spent most of its time in the
policy (screening's reached households: 3.6 s as the application role,
1.3 s as the owner, on 100 communities and 900,000 attempts). As
tenant_id IN (SELECT unnest(...)) the list becomes a hashed sub-plan, built
once per statement and probed once per row: on 1,000,000 rows of 100
tenants a grouped read costs what it costs without row security. The
single-tenant and '*' branches are unchanged.

wanjia_enable_rls is redefined with the same text, so tables added later
get the same policy.
*/}}
{{if .Postgres}}
CREATE OR REPLACE FUNCTION wanjia_enable_rls(tbl regclass) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (%s)', tbl, wanjia_tenant_predicate());
END
$fn$;
--bun:split
CREATE FUNCTION wanjia_tenant_predicate() RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    SELECT $p$tenant_id = (SELECT current_setting('app.tenant_id', true))
            OR (SELECT current_setting('app.tenant_ids', true)) = '*'
            OR tenant_id IN (SELECT unnest(string_to_array(current_setting('app.tenant_ids', true), ',')))$p$
$fn$;
--bun:split
DO $do$
DECLARE t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE p.polname = 'tenant_isolation' AND n.nspname = current_schema()
    LOOP
        EXECUTE format('ALTER POLICY tenant_isolation ON %I USING (%s)', t, wanjia_tenant_predicate());
    END LOOP;
END
$do$;
{{end}}
