{{/*
A notice key claimed by statement, not by row (PostgreSQL only).

Since 20261215000001 a BEFORE trigger on the partitioned outbox wrote each
notice's key to outreach_notice_keys, one INSERT … ON CONFLICT per row,
dropping the row of a key already written. The morning sweep writes 50,000
notices in 100 statements of 500: the trigger's 50,000 executions were
about 50 µs each, and the sweep 1.27x slower than on the plain outbox
(17.3 s against 13.7 s in BenchmarkPartitionedVsPlain, sweep).

Now outreach.Notify claims its keys first, in one statement
(outreach_claim_notice_keys: INSERT … ON CONFLICT DO NOTHING into the key
table, which waits for a transaction writing the same key and skips it once
committed, as the unique index did), and writes only the rows whose keys it
claimed. The outbox's statement trigger writes the key of any other notice
row (one written by hand) in the same statement, without ON CONFLICT: a row
whose key another row holds is refused (23505), as the plain outbox's
unique index refuses it, where it used to be skipped in silence. Either way
a key is written once.
*/}}
{{if .Postgres}}
-- claimed ids of the messages whose keys tenant did not have; without the
-- key table (the plain outbox: the partitions migration rolled back alone,
-- as BenchmarkPartitionedVsPlain does) the outbox's own unique index is the
-- arbiter and every id passes.
CREATE FUNCTION outreach_claim_notice_keys(tenant text, keys text[], ids text[]) RETURNS SETOF text LANGUAGE plpgsql AS $fn$
BEGIN
    IF to_regclass('outreach_notice_keys') IS NULL THEN
        RETURN QUERY SELECT unnest(ids);
        RETURN;
    END IF;
    RETURN QUERY EXECUTE 'INSERT INTO outreach_notice_keys (tenant_id, notice_key, message_id)
        SELECT $1, k, i FROM unnest($2::text[], $3::text[]) AS x(k, i) ON CONFLICT DO NOTHING RETURNING message_id'
        USING tenant, keys, ids;
END
$fn$;
--bun:split
-- The keys of a statement's rows, by statement: the campaign-and-phone key
-- of a campaign's message, and the notice key of a notice that does not
-- hold it yet (Notify's rows hold theirs). A key another row holds is
-- refused. The second is planned at each call (EXECUTE): a plan kept from
-- a session's first call, the key table then empty, would scan the whole
-- table for every statement once it is not.
CREATE OR REPLACE FUNCTION outreach_messages_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO outreach_phone_keys (tenant_id, campaign_id, phone, message_id)
    SELECT tenant_id, campaign_id, phone, id FROM new_rows WHERE notice_key IS NULL;
    EXECUTE 'INSERT INTO outreach_notice_keys (tenant_id, notice_key, message_id)
        SELECT n.tenant_id, n.notice_key, n.id FROM new_rows n WHERE n.notice_key IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM outreach_notice_keys k
                WHERE k.tenant_id = n.tenant_id AND k.notice_key = n.notice_key AND k.message_id = n.id)';
    RETURN NULL;
END
$fn$;
--bun:split
DROP TRIGGER outreach_messages_notice_key ON outreach_messages;
--bun:split
DROP FUNCTION outreach_messages_notice_key();
{{end}}
