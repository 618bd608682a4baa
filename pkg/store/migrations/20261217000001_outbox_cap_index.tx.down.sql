DROP INDEX outreach_messages_cap_idx;
--bun:split
CREATE INDEX outreach_messages_cap_idx ON outreach_messages (tenant_id, phone, sent_date);
