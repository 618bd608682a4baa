{{/*
The special-care list's calls and visits (pkg/care) get a table of their
own: until now they were attempts of kind 'care' in screening's table,
which one domain read and another wrote. The rows move over; attempts keep
their kind column (only 'screening' is written now), since SQLite cannot
change its CHECK without rebuilding the table that follow_ups refer to.
*/}}
{{define "household"}}{{if .Postgres}}FOREIGN KEY (tenant_id, household_id) REFERENCES households (tenant_id, id){{else}}FOREIGN KEY (household_id) REFERENCES households (id){{end}}{{end}}
{{define "resident"}}{{if .Postgres}}FOREIGN KEY (tenant_id, resident_id) REFERENCES residents (tenant_id, id){{else}}FOREIGN KEY (resident_id) REFERENCES residents (id){{end}}{{end}}
CREATE TABLE care_contacts (
    tenant_id     TEXT NOT NULL,
    id            TEXT NOT NULL,
    resident_id   TEXT NOT NULL,
    household_id  TEXT NOT NULL,
    grid_id       TEXT NOT NULL,
    method        TEXT NOT NULL CHECK (method IN ('phone', 'visit')),
    outcome       TEXT NOT NULL CHECK (outcome IN ('reached', 'no_answer', 'wrong_number', 'refused', 'moved_out')),
    reason        TEXT NOT NULL,
    notes         TEXT NOT NULL DEFAULT '',
    by_user       TEXT NOT NULL,
    by_name       TEXT NOT NULL,
    at            {{.Time}} NOT NULL,
    -- at's date in the community's zone: "days since" without time-zone SQL.
    local_date    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    {{template "household" .}},
    {{template "resident" .}}
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('care_contacts');{{end}}
--bun:split
CREATE INDEX care_contacts_resident_idx ON care_contacts (tenant_id, resident_id, at);
--bun:split
INSERT INTO care_contacts (tenant_id, id, resident_id, household_id, grid_id, method, outcome, reason, notes, by_user, by_name, at, local_date)
SELECT tenant_id, id, resident_id, household_id, grid_id, method, outcome, reason, notes, by_user, by_name, at, local_date
FROM attempts WHERE kind = 'care' AND resident_id IS NOT NULL;
--bun:split
DELETE FROM attempts WHERE kind = 'care';
--bun:split
DROP INDEX attempts_care_idx;
