{{/*
The third tenancy lock: PostgreSQL row-level security on every tenant-owned
table. A transaction sees and writes only the rows of the tenant named by
app.tenant_id (set with set_config(..., true) by store.InTenantTx), or of the
tenants listed in app.tenant_ids by the one cross-tenant path,
store.AcrossTenants ('*' there means every tenant: reconcilers). Outside both,
a tenant table is empty and refuses writes. current_setting is wrapped in a
sub-select so the planner evaluates it once per statement, not once per row.

FORCE makes the policy bind the tables' owner too, so it holds even where the
application connects as the role that ran the migrations (the embedded test
setup does); in production the application connects as a role that does not
own the tables (README, "Real mode").

Later migrations call wanjia_enable_rls('<table>') for each table they add
with tenant_id; a test fails on any tenant table without it. SQLite has no
row security: there the first two locks (routes, TenantTx) hold alone.
*/}}
{{if .Postgres}}
CREATE FUNCTION wanjia_enable_rls(tbl regclass) RETURNS void LANGUAGE plpgsql AS $fn$
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
SELECT wanjia_enable_rls('grids');
--bun:split
SELECT wanjia_enable_rls('buildings');
--bun:split
SELECT wanjia_enable_rls('households');
--bun:split
SELECT wanjia_enable_rls('residents');
--bun:split
SELECT wanjia_enable_rls('imports');
--bun:split
SELECT wanjia_enable_rls('import_errors');
{{end}}
