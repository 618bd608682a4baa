{{/*
Keypad check-in calls (issue 22, section 2). A case says how the daily
reminder reaches its resident: 'sms' (the link by SMS, as before) or
'voice' (a call answered on the keypad); a resident with no mobile number
is called whatever it says. A check-in taken by a call keeps the
provider's call id, unique in the community: a provider that calls back
twice stores one check-in. An outbox row says whether it is a keypad
call (the provider gathers keys) rather than a notice read aloud.
*/}}
ALTER TABLE isolation_cases ADD COLUMN checkin_channel TEXT NOT NULL DEFAULT 'sms';
--bun:split
ALTER TABLE isolation_checkins ADD COLUMN call_id TEXT;
--bun:split
CREATE UNIQUE INDEX isolation_checkins_call_idx ON isolation_checkins (tenant_id, call_id) WHERE call_id IS NOT NULL;
--bun:split
ALTER TABLE outreach_messages ADD COLUMN keypad BOOLEAN NOT NULL DEFAULT false;
