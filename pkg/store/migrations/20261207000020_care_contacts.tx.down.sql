CREATE INDEX attempts_care_idx ON attempts (tenant_id, resident_id, at) WHERE kind = 'care';
--bun:split
INSERT INTO attempts (tenant_id, id, kind, household_id, resident_id, grid_id, reason, method, outcome, notes, by_user, by_name, at, local_date)
SELECT tenant_id, id, 'care', household_id, resident_id, grid_id, reason, method, outcome, notes, by_user, by_name, at, local_date
FROM care_contacts;
--bun:split
DROP TABLE care_contacts;
