{{/*
Back to 20261215000001's wanjia_month_partition, which moves a month's rows
out of the default partition with a plain DELETE (refused when a follow-up
refers to a moved attempt).
*/}}
{{if .Postgres}}
CREATE OR REPLACE FUNCTION wanjia_month_partition(parent regclass, m date) RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
    first date := date_trunc('month', m)::date;
    nsp text;
    base text;
    part text;
    col text;
    lo text;
    hi text;
BEGIN
    SELECT n.nspname, c.relname INTO nsp, base FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
    part := base || '_p' || to_char(first, 'YYYYMM');
    IF to_regclass(format('%I.%I', nsp, part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    SELECT a.attname INTO col FROM pg_partitioned_table pt
        JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
        WHERE pt.partrelid = parent;
    IF col = 'id' THEN
        lo := quote_literal(wanjia_uuid7_floor(first::timestamp AT TIME ZONE 'UTC'));
        hi := quote_literal(wanjia_uuid7_floor((first + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
    ELSIF col = 'at' THEN
        lo := quote_literal(to_char(first, 'YYYY-MM-DD') || ' 00:00:00+00');
        hi := quote_literal(to_char(first + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00');
    ELSE
        RAISE EXCEPTION 'wanjia_month_partition: % is not partitioned by id or at', parent;
    END IF;
    -- Made apart and attached once filled: the default partition's rows of
    -- the month move first, or attaching would find them there and fail.
    EXECUTE format('CREATE TABLE %I.%I (LIKE %I.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', nsp, part, nsp, base);
    IF to_regclass(format('%I.%I', nsp, base || '_default')) IS NOT NULL THEN
        EXECUTE format('WITH moved AS (DELETE FROM %I.%I WHERE %I >= %s AND %I < %s RETURNING *) INSERT INTO %I.%I SELECT * FROM moved',
            nsp, base || '_default', col, lo, col, hi, nsp, part);
    END IF;
    EXECUTE format('ALTER TABLE %I.%I ATTACH PARTITION %I.%I FOR VALUES FROM (%s) TO (%s)', nsp, base, nsp, part, lo, hi);
    IF (SELECT relrowsecurity FROM pg_class WHERE oid = parent) THEN
        -- The parent's policy binds queries through the parent; the
        -- partition's own binds anyone who names the partition.
        PERFORM wanjia_enable_rls(format('%I.%I', nsp, part)::regclass);
    END IF;
    RETURN true;
END
$fn$;
{{end}}
