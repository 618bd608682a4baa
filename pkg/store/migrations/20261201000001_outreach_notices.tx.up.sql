{{/*
One-off messages (outreach.Notify): a check-in link, a reminder, a release
notice, an alert to staff. They go through the outbox as campaigns' messages
do, in a system campaign per community, channel and urgency ('notices' for
residents, 'alerts' for staff: urgent), kept running and never listed,
paused or finished. Each notice carries a key unique in its community
(checkin:<case>:<date>, alert:<id>:<phone>), so a key written twice is one
message; a campaign's messages have none and stay unique per phone.
*/}}
ALTER TABLE outreach_campaigns ADD COLUMN kind TEXT NOT NULL DEFAULT 'campaign' CHECK (kind IN ('campaign', 'notices', 'alerts'));
--bun:split
ALTER TABLE outreach_messages ADD COLUMN notice_key TEXT;
--bun:split
-- What the message is about ("isolation:<case id>"), for a case's page.
ALTER TABLE outreach_messages ADD COLUMN subject TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE outreach_messages ADD COLUMN resident_id TEXT;
--bun:split
-- A notice's own provider template (a campaign's is the campaign's).
ALTER TABLE outreach_messages ADD COLUMN provider_template TEXT NOT NULL DEFAULT '';
--bun:split
DROP INDEX outreach_messages_phone_idx;
--bun:split
CREATE UNIQUE INDEX outreach_messages_phone_idx ON outreach_messages (tenant_id, campaign_id, phone) WHERE notice_key IS NULL;
--bun:split
CREATE UNIQUE INDEX outreach_messages_notice_idx ON outreach_messages (tenant_id, notice_key) WHERE notice_key IS NOT NULL;
--bun:split
CREATE INDEX outreach_messages_subject_idx ON outreach_messages (tenant_id, subject, id) WHERE subject <> '';
