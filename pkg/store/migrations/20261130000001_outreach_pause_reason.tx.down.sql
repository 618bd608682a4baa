ALTER TABLE outreach_campaigns DROP COLUMN pause_reason;
