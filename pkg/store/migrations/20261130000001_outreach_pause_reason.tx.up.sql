-- Why the system paused a campaign ('provider_credentials': the provider
-- refused our credentials); empty when staff paused it or it is not paused.
ALTER TABLE outreach_campaigns ADD COLUMN pause_reason TEXT NOT NULL DEFAULT '';
