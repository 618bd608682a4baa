ALTER TABLE outreach_messages DROP COLUMN keypad;
--bun:split
DROP INDEX IF EXISTS isolation_checkins_call_idx;
--bun:split
ALTER TABLE isolation_checkins DROP COLUMN call_id;
--bun:split
ALTER TABLE isolation_cases DROP COLUMN checkin_channel;
