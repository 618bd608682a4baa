{{if .Postgres}}
CREATE OR REPLACE FUNCTION outreach_messages_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO outreach_phone_keys (tenant_id, campaign_id, phone, message_id)
    SELECT tenant_id, campaign_id, phone, id FROM new_rows WHERE notice_key IS NULL;
    RETURN NULL;
END
$fn$;
--bun:split
CREATE FUNCTION outreach_messages_notice_key() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO outreach_notice_keys (tenant_id, notice_key, message_id) VALUES (NEW.tenant_id, NEW.notice_key, NEW.id)
    ON CONFLICT DO NOTHING;
    IF FOUND OR EXISTS (SELECT 1 FROM outreach_notice_keys k
            WHERE k.tenant_id = NEW.tenant_id AND k.notice_key = NEW.notice_key AND k.message_id = NEW.id) THEN
        RETURN NEW;
    END IF;
    RETURN NULL;
END
$fn$;
--bun:split
CREATE TRIGGER outreach_messages_notice_key BEFORE INSERT ON outreach_messages
    FOR EACH ROW WHEN (NEW.notice_key IS NOT NULL) EXECUTE FUNCTION outreach_messages_notice_key();
--bun:split
DROP FUNCTION outreach_claim_notice_keys(text, text[], text[]);
{{end}}
