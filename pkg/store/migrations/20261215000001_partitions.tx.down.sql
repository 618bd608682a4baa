{{/*
Back to plain tables: every partition's rows (the default's too) move into
one table again, the key tables go and their keys are unique indexes again.
*/}}
{{if .Postgres}}
SELECT set_config('app.tenant_ids', '*', true);
--bun:split
ALTER TABLE outreach_messages RENAME TO outreach_messages_parted;
--bun:split
CREATE TABLE outreach_messages (LIKE outreach_messages_parted INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
--bun:split
INSERT INTO outreach_messages SELECT * FROM outreach_messages_parted;
--bun:split
DROP TABLE outreach_messages_parted;
--bun:split
DROP TABLE outreach_phone_keys;
--bun:split
DROP TABLE outreach_notice_keys;
--bun:split
DROP FUNCTION outreach_messages_keys_insert();
--bun:split
-- IF EXISTS: 20261216000003 drops it, and a test or benchmark may roll
-- this migration back alone (storetest.Unpartition).
DROP FUNCTION IF EXISTS outreach_messages_notice_key();
--bun:split
DROP FUNCTION outreach_messages_keys_update();
--bun:split
DROP FUNCTION outreach_messages_keys_delete();
--bun:split
DROP FUNCTION outreach_messages_keys_truncate();
--bun:split
ALTER TABLE outreach_messages ADD CONSTRAINT outreach_messages_pkey PRIMARY KEY (tenant_id, id),
    ADD CONSTRAINT outreach_messages_tenant_id_campaign_id_fkey FOREIGN KEY (tenant_id, campaign_id) REFERENCES outreach_campaigns (tenant_id, id);
--bun:split
SELECT wanjia_enable_rls('outreach_messages');
--bun:split
CREATE INDEX outreach_messages_status_idx ON outreach_messages (tenant_id, campaign_id, status, id);
--bun:split
CREATE INDEX outreach_messages_cap_idx ON outreach_messages (tenant_id, phone, sent_date);
--bun:split
CREATE INDEX outreach_messages_due_idx ON outreach_messages (status, due_at);
--bun:split
CREATE INDEX outreach_messages_provider_idx ON outreach_messages (provider_id) WHERE provider_id <> '';
--bun:split
CREATE INDEX outreach_messages_sent_idx ON outreach_messages (phone, sent_at);
--bun:split
CREATE UNIQUE INDEX outreach_messages_phone_idx ON outreach_messages (tenant_id, campaign_id, phone) WHERE notice_key IS NULL;
--bun:split
CREATE UNIQUE INDEX outreach_messages_notice_idx ON outreach_messages (tenant_id, notice_key) WHERE notice_key IS NOT NULL;
--bun:split
CREATE INDEX outreach_messages_subject_idx ON outreach_messages (tenant_id, subject, id) WHERE subject <> '';
--bun:split
CREATE INDEX outreach_messages_figures_idx ON outreach_messages (tenant_id, sent_date, channel, status) WHERE sent_date IS NOT NULL;
--bun:split
ALTER TABLE follow_ups DROP CONSTRAINT follow_ups_tenant_id_attempt_id_fkey;
--bun:split
ALTER TABLE attempts RENAME TO attempts_parted;
--bun:split
CREATE TABLE attempts (LIKE attempts_parted INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
--bun:split
INSERT INTO attempts SELECT * FROM attempts_parted;
--bun:split
DROP TABLE attempts_parted;
--bun:split
ALTER TABLE attempts ADD CONSTRAINT attempts_pkey PRIMARY KEY (tenant_id, id),
    ADD CONSTRAINT attempts_tenant_id_household_id_fkey FOREIGN KEY (tenant_id, household_id) REFERENCES households (tenant_id, id),
    ADD CONSTRAINT attempts_tenant_id_task_id_fkey FOREIGN KEY (tenant_id, task_id) REFERENCES screening_tasks (tenant_id, id);
--bun:split
ALTER TABLE follow_ups ADD CONSTRAINT follow_ups_tenant_id_attempt_id_fkey FOREIGN KEY (tenant_id, attempt_id) REFERENCES attempts (tenant_id, id);
--bun:split
SELECT wanjia_enable_rls('attempts');
--bun:split
CREATE INDEX attempts_task_idx ON attempts (tenant_id, task_id, at);
--bun:split
CREATE INDEX attempts_day_idx ON attempts (tenant_id, local_date, screening_id);
--bun:split
CREATE INDEX attempts_reached_idx ON attempts (tenant_id, household_id, local_date) WHERE kind = 'screening' AND outcome = 'reached';
--bun:split
ALTER TABLE isolation_checkins RENAME TO isolation_checkins_parted;
--bun:split
CREATE TABLE isolation_checkins (LIKE isolation_checkins_parted INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
--bun:split
INSERT INTO isolation_checkins SELECT * FROM isolation_checkins_parted;
--bun:split
DROP TABLE isolation_checkins_parted;
--bun:split
DROP TABLE isolation_checkin_day_keys;
--bun:split
DROP TABLE isolation_checkin_reply_keys;
--bun:split
DROP FUNCTION isolation_checkins_keys_insert();
--bun:split
DROP FUNCTION isolation_checkins_keys_update();
--bun:split
DROP FUNCTION isolation_checkins_keys_delete();
--bun:split
DROP FUNCTION isolation_checkins_keys_truncate();
--bun:split
ALTER TABLE isolation_checkins ADD CONSTRAINT isolation_checkins_pkey PRIMARY KEY (tenant_id, id),
    ADD CONSTRAINT isolation_checkins_tenant_id_case_id_fkey FOREIGN KEY (tenant_id, case_id) REFERENCES isolation_cases (tenant_id, id);
--bun:split
SELECT wanjia_enable_rls('isolation_checkins');
--bun:split
-- a keypad call's check-in, unique on its call id (20261214000031), kept by a key table while partitioned
CREATE UNIQUE INDEX isolation_checkins_call_idx ON isolation_checkins (tenant_id, call_id) WHERE call_id IS NOT NULL;
--bun:split
CREATE UNIQUE INDEX isolation_checkins_day_idx ON isolation_checkins (tenant_id, case_id, local_date) WHERE counts;
--bun:split
CREATE UNIQUE INDEX isolation_checkins_reply_idx ON isolation_checkins (tenant_id, reply_id) WHERE reply_id IS NOT NULL;
--bun:split
CREATE INDEX isolation_checkins_case_idx ON isolation_checkins (tenant_id, case_id, at);
--bun:split
ALTER TABLE audit_log RENAME TO audit_log_parted;
--bun:split
CREATE TABLE audit_log (LIKE audit_log_parted INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
--bun:split
INSERT INTO audit_log SELECT * FROM audit_log_parted;
--bun:split
DROP TABLE audit_log_parted;
--bun:split
ALTER TABLE audit_log ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);
--bun:split
CREATE INDEX audit_log_path_at_idx ON audit_log (org_path, at, id);
--bun:split
DROP FUNCTION wanjia_month_partition(regclass, date);
--bun:split
DROP FUNCTION wanjia_uuid7_time(text);
--bun:split
DROP FUNCTION wanjia_uuid7_floor(timestamptz);
{{end}}
