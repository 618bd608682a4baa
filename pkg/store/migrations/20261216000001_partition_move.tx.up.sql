{{/*
wanjia_month_partition (20261215000001) moves a month's rows out of the
default partition by deleting them there and inserting them into the new,
not yet attached partition. A foreign key referring to the parent refused
that delete (23503): follow_ups refers to attempts, so an attempt of a month
not made yet that had a follow-up could never move, and `migrate up` and
`migrate partitions` failed for good (a demo attempt made at its 2020
instant, or any attempt written while its month was missing).

The move now, and only when the default partition holds rows of the month
(normally it holds none, and making a month stays a CREATE and an ATTACH):
  - drops the foreign keys that refer to the parent and adds them again
    once the month is attached, in the same transaction. Adding one checks
    every referring row again, against the rows where they now are. As the
    tables' owner nothing else is possible: the constraint's triggers are
    system triggers (DISABLE TRIGGER ALL needs a superuser), and a
    DEFERRABLE key deferred to the commit is still refused there, since
    PostgreSQL 15 checks the deleted key against the partition it left
    (both tried);
  - disables the default partition's own triggers for the move, so no
    row trigger takes the move for a deletion or an insertion. The key
    tables' triggers are the parent's statement triggers, which a
    statement naming the partition does not fire (tried too): the keys
    name the moved rows by id, which the move keeps, and stay as they are.
A follow-up's insertion and an attempt's deletion waiting on those locks
wait for the move, as they did for the ATTACH.
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
    moving boolean := false;
    fks text[][] := '{}';
    trigs text[][] := '{}';
    r record;
    i int;
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
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE %I >= %s AND %I < %s)',
            nsp, base || '_default', col, lo, col, hi) INTO moving;
    END IF;
    IF moving THEN
        -- The keys that refer to the parent (not their clones on each
        -- partition, which go and come with them), kept to be added again.
        FOR r IN SELECT k.conrelid::regclass::text AS tbl, k.conname, pg_get_constraintdef(k.oid) AS def
                FROM pg_constraint k WHERE k.contype = 'f' AND k.confrelid = parent AND k.conparentid = 0 ORDER BY 1, 2 LOOP
            fks := fks || ARRAY[[r.tbl, r.conname, r.def]];
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
        END LOOP;
        -- The default partition's enabled triggers (its clones of the
        -- parent's row triggers), each to be enabled again as it was.
        FOR r IN SELECT t.tgname, t.tgenabled::text AS mode FROM pg_trigger t
                WHERE t.tgrelid = format('%I.%I', nsp, base || '_default')::regclass AND NOT t.tgisinternal AND t.tgenabled <> 'D' ORDER BY 1 LOOP
            trigs := trigs || ARRAY[[r.tgname, r.mode]];
            EXECUTE format('ALTER TABLE %I.%I DISABLE TRIGGER %I', nsp, base || '_default', r.tgname);
        END LOOP;
        EXECUTE format('WITH moved AS (DELETE FROM %I.%I WHERE %I >= %s AND %I < %s RETURNING *) INSERT INTO %I.%I SELECT * FROM moved',
            nsp, base || '_default', col, lo, col, hi, nsp, part);
        FOR i IN 1 .. coalesce(array_length(trigs, 1), 0) LOOP
            EXECUTE format('ALTER TABLE %I.%I ENABLE %s TRIGGER %I', nsp, base || '_default',
                CASE trigs[i][2] WHEN 'A' THEN 'ALWAYS' WHEN 'R' THEN 'REPLICA' ELSE '' END, trigs[i][1]);
        END LOOP;
    END IF;
    EXECUTE format('ALTER TABLE %I.%I ATTACH PARTITION %I.%I FOR VALUES FROM (%s) TO (%s)', nsp, base, nsp, part, lo, hi);
    FOR i IN 1 .. coalesce(array_length(fks, 1), 0) LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fks[i][1], fks[i][2], fks[i][3]);
    END LOOP;
    IF (SELECT relrowsecurity FROM pg_class WHERE oid = parent) THEN
        -- The parent's policy binds queries through the parent; the
        -- partition's own binds anyone who names the partition.
        PERFORM wanjia_enable_rls(format('%I.%I', nsp, part)::regclass);
    END IF;
    RETURN true;
END
$fn$;
{{end}}
