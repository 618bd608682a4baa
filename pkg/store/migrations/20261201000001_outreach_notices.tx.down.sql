DELETE FROM outreach_messages WHERE notice_key IS NOT NULL;
--bun:split
DELETE FROM outreach_campaigns WHERE kind <> 'campaign';
--bun:split
DROP INDEX outreach_messages_subject_idx;
--bun:split
DROP INDEX outreach_messages_notice_idx;
--bun:split
DROP INDEX outreach_messages_phone_idx;
--bun:split
CREATE UNIQUE INDEX outreach_messages_phone_idx ON outreach_messages (tenant_id, campaign_id, phone);
--bun:split
ALTER TABLE outreach_messages DROP COLUMN provider_template;
--bun:split
ALTER TABLE outreach_messages DROP COLUMN resident_id;
--bun:split
ALTER TABLE outreach_messages DROP COLUMN subject;
--bun:split
ALTER TABLE outreach_messages DROP COLUMN notice_key;
--bun:split
ALTER TABLE outreach_campaigns DROP COLUMN kind;
