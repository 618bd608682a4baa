{{/*
Home isolation and health monitoring (居家隔离/医学观察) and support for
isolated households (隔门不隔心): cases, their daily check-ins, the alerts
check-ins (and missed ones) raise, and residents' requests for help.

Every "day" is a local date (YYYY-MM-DD) in the community's zone, written
once when the row is made, so the daily figures of any past day come from
plain comparisons. A foreign key to households or residents names
(tenant_id, id) on PostgreSQL; SQLite's roster keys are id alone (see
tenant_keys), so there it names id.
*/}}
{{define "resident"}}{{if .Postgres}}FOREIGN KEY (tenant_id, resident_id) REFERENCES residents (tenant_id, id){{else}}FOREIGN KEY (resident_id) REFERENCES residents (id){{end}}{{end}}
{{define "household"}}{{if .Postgres}}FOREIGN KEY (tenant_id, household_id) REFERENCES households (tenant_id, id){{else}}FOREIGN KEY (household_id) REFERENCES households (id){{end}}{{end}}
CREATE TABLE isolation_cases (
    tenant_id      TEXT NOT NULL,
    id             TEXT NOT NULL,
    resident_id    TEXT NOT NULL,
    household_id   TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('home_isolation', 'medical_observation', 'close_contact', 'self_monitoring')),
    start_date     TEXT NOT NULL,
    days           INTEGER NOT NULL CHECK (days BETWEEN 1 AND 60),
    -- start_date + days: release without force is allowed from this day.
    end_date       TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL CHECK (status IN ('active', 'eligible', 'released', 'ended')),
    -- Why an ended case ended (hospital, central quarantine, moved away),
    -- or why a release came early (forced).
    end_reason     TEXT NOT NULL DEFAULT '',
    -- The local date the case was released or ended: the figures' "today".
    closed_on      TEXT,
    closed_by      TEXT,
    closed_at      {{.Time}},
    diagnosis      TEXT CHECK (diagnosis IN ('suspected', 'confirmed', 'excluded')),
    diagnosed_on   TEXT,
    diagnosed_by   TEXT,
    follow_up_id   TEXT,
    -- The resident's self check-in link: SHA-256 (hex) of its token, for
    -- the lookup, and the token sealed (pkg/seal, bound to the case) so a
    -- reminder can render the link again. Both go when the case closes
    -- and, with the phone and free text, at retention.
    link_hash      TEXT,
    link_sealed    {{.Blob}},
    created_by     TEXT NOT NULL,
    created_at     {{.Time}} NOT NULL,
    updated_at     {{.Time}} NOT NULL,
    PRIMARY KEY (tenant_id, id),
    {{template "resident" .}},
    {{template "household" .}}
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('isolation_cases');{{end}}
--bun:split
-- One live (active or eligible) case per resident.
CREATE UNIQUE INDEX isolation_cases_live_idx ON isolation_cases (tenant_id, resident_id) WHERE status IN ('active', 'eligible');
--bun:split
CREATE INDEX isolation_cases_status_idx ON isolation_cases (tenant_id, status, id);
--bun:split
CREATE INDEX isolation_cases_household_idx ON isolation_cases (tenant_id, household_id);
--bun:split
-- The resident's link is looked up by its hash before the community is
-- known (one AcrossTenants use), so this index cannot lead with
-- tenant_id; it is not unique, and 256 random bits do not collide.
CREATE INDEX isolation_cases_link_idx ON isolation_cases (link_hash) WHERE link_hash IS NOT NULL;
--bun:split
-- A daily report of temperature and symptoms. The first of a case's local
-- day counts for that day; later ones are kept.
CREATE TABLE isolation_checkins (
    tenant_id     TEXT NOT NULL,
    id            TEXT NOT NULL,
    case_id       TEXT NOT NULL,
    -- Tenths of a degree Celsius (368 is 36.8 °C): exact comparisons.
    temperature   INTEGER NOT NULL CHECK (temperature BETWEEN 340 AND 430),
    symptoms      {{.JSON}} NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('staff', 'self', 'sms', 'voice')),
    counts        BOOLEAN NOT NULL,
    -- The provider's id of the SMS reply or call it came from: a provider's
    -- retry is the same check-in.
    reply_id      TEXT,
    by_user       TEXT NOT NULL,
    by_name       TEXT NOT NULL,
    at            {{.Time}} NOT NULL,
    local_date    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES isolation_cases (tenant_id, id)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('isolation_checkins');{{end}}
--bun:split
CREATE UNIQUE INDEX isolation_checkins_day_idx ON isolation_checkins (tenant_id, case_id, local_date) WHERE counts;
--bun:split
CREATE UNIQUE INDEX isolation_checkins_reply_idx ON isolation_checkins (tenant_id, reply_id) WHERE reply_id IS NOT NULL;
--bun:split
CREATE INDEX isolation_checkins_case_idx ON isolation_checkins (tenant_id, case_id, at);
--bun:split
-- Fever (37.3 °C or more, or any symptom) and missed check-ins: one per
-- case, kind and local day.
CREATE TABLE isolation_alerts (
    tenant_id         TEXT NOT NULL,
    id                TEXT NOT NULL,
    case_id           TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('fever', 'missed_checkin')),
    local_date        TEXT NOT NULL,
    checkin_id        TEXT,
    temperature       INTEGER,
    symptoms          {{.JSON}} NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'closed')),
    acknowledged_by   TEXT,
    acknowledged_at   {{.Time}},
    closed_by         TEXT,
    closed_at         {{.Time}},
    created_at        {{.Time}} NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES isolation_cases (tenant_id, id)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('isolation_alerts');{{end}}
--bun:split
CREATE UNIQUE INDEX isolation_alerts_day_idx ON isolation_alerts (tenant_id, case_id, kind, local_date);
--bun:split
CREATE INDEX isolation_alerts_status_idx ON isolation_alerts (tenant_id, status, id);
--bun:split
CREATE INDEX isolation_alerts_date_idx ON isolation_alerts (tenant_id, local_date, kind);
--bun:split
-- A resident's request for help (a thermometer, groceries, medicine, a
-- doctor's call, anything else).
CREATE TABLE support_requests (
    tenant_id      TEXT NOT NULL,
    id             TEXT NOT NULL,
    resident_id    TEXT NOT NULL,
    household_id   TEXT NOT NULL,
    -- The resident's live case when the request was made, if any.
    case_id        TEXT,
    kind           TEXT NOT NULL CHECK (kind IN ('thermometer', 'groceries', 'medicine', 'doctor', 'other')),
    details        TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL CHECK (status IN ('open', 'assigned', 'done', 'cancelled')),
    assignee_id    TEXT,
    assignee_name  TEXT NOT NULL DEFAULT '',
    due_at         {{.Time}} NOT NULL,
    -- due_at in the community's local time ("YYYY-MM-DDTHH:MM"): overdue at
    -- the end of any day is a string comparison.
    due_local      TEXT NOT NULL,
    local_date     TEXT NOT NULL,
    -- The local date it was done or cancelled.
    closed_on      TEXT,
    created_by     TEXT NOT NULL,
    created_at     {{.Time}} NOT NULL,
    updated_at     {{.Time}} NOT NULL,
    PRIMARY KEY (tenant_id, id),
    {{template "resident" .}},
    {{template "household" .}}
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('support_requests');{{end}}
--bun:split
CREATE INDEX support_requests_status_idx ON support_requests (tenant_id, status, id);
--bun:split
CREATE INDEX support_requests_resident_idx ON support_requests (tenant_id, resident_id);
