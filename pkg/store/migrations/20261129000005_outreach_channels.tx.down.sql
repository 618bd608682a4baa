DROP TABLE outreach_robots;
--bun:split
ALTER TABLE outreach_campaigns DROP COLUMN format;
--bun:split
ALTER TABLE outreach_messages DROP COLUMN channel;
