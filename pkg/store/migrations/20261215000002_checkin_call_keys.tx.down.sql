{{if .Postgres}}
CREATE OR REPLACE FUNCTION isolation_checkins_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO isolation_checkin_day_keys (tenant_id, case_id, local_date, checkin_id)
    SELECT tenant_id, case_id, local_date, id FROM new_rows WHERE counts;
    INSERT INTO isolation_checkin_reply_keys (tenant_id, reply_id, checkin_id)
    SELECT tenant_id, reply_id, id FROM new_rows WHERE reply_id IS NOT NULL;
    RETURN NULL;
END
$fn$;
--bun:split
CREATE OR REPLACE FUNCTION isolation_checkins_keys_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM isolation_checkin_day_keys WHERE OLD.counts
        AND tenant_id = OLD.tenant_id AND case_id = OLD.case_id AND local_date = OLD.local_date AND checkin_id = OLD.id;
    DELETE FROM isolation_checkin_reply_keys WHERE tenant_id = OLD.tenant_id AND reply_id = OLD.reply_id AND checkin_id = OLD.id;
    IF NEW.counts THEN
        INSERT INTO isolation_checkin_day_keys (tenant_id, case_id, local_date, checkin_id) VALUES (NEW.tenant_id, NEW.case_id, NEW.local_date, NEW.id);
    END IF;
    IF NEW.reply_id IS NOT NULL THEN
        INSERT INTO isolation_checkin_reply_keys (tenant_id, reply_id, checkin_id) VALUES (NEW.tenant_id, NEW.reply_id, NEW.id);
    END IF;
    RETURN NULL;
END
$fn$;
--bun:split
DROP TRIGGER isolation_checkins_keys_update ON isolation_checkins;
--bun:split
CREATE TRIGGER isolation_checkins_keys_update AFTER UPDATE OF tenant_id, case_id, local_date, counts, reply_id ON isolation_checkins
    FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.case_id IS DISTINCT FROM NEW.case_id
        OR OLD.local_date IS DISTINCT FROM NEW.local_date OR OLD.counts IS DISTINCT FROM NEW.counts OR OLD.reply_id IS DISTINCT FROM NEW.reply_id)
    EXECUTE FUNCTION isolation_checkins_keys_update();
--bun:split
CREATE OR REPLACE FUNCTION isolation_checkins_keys_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE 'DELETE FROM isolation_checkin_day_keys k USING old_rows o WHERE o.counts
        AND k.tenant_id = o.tenant_id AND k.case_id = o.case_id AND k.local_date = o.local_date AND k.checkin_id = o.id';
    EXECUTE 'DELETE FROM isolation_checkin_reply_keys k USING old_rows o
        WHERE k.tenant_id = o.tenant_id AND k.reply_id = o.reply_id AND k.checkin_id = o.id';
    RETURN NULL;
END
$fn$;
--bun:split
CREATE OR REPLACE FUNCTION isolation_checkins_keys_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    TRUNCATE isolation_checkin_day_keys, isolation_checkin_reply_keys;
    RETURN NULL;
END
$fn$;
--bun:split
DROP TABLE isolation_checkin_call_keys;
{{end}}
