{{/*
Screening (排查): campaigns, a task per household in scope, every attempt
to reach a household (and every care call to a vulnerable resident), the
follow-ups that findings raise, and the publicity and disinfection logs.

A foreign key to households names (tenant_id, id) on PostgreSQL; SQLite's
households key is id alone (see tenant_keys), so there it names id.
*/}}
{{define "household"}}{{if .Postgres}}FOREIGN KEY (tenant_id, household_id) REFERENCES households (tenant_id, id){{else}}FOREIGN KEY (household_id) REFERENCES households (id){{end}}{{end}}
CREATE TABLE screenings (
    tenant_id   TEXT NOT NULL REFERENCES orgs (id),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    method      TEXT NOT NULL CHECK (method IN ('phone', 'visit', 'any')),
    -- The grids in scope; empty: the whole community, including grids
    -- added while the campaign is open.
    grid_ids    {{.JSON}} NOT NULL,
    -- Local dates (YYYY-MM-DD) in the community's time zone.
    start_date  TEXT NOT NULL,
    end_date    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_by  TEXT NOT NULL,
    created_at  {{.Time}} NOT NULL,
    updated_at  {{.Time}} NOT NULL,
    closed_at   {{.Time}},
    PRIMARY KEY (tenant_id, id)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('screenings');{{end}}
--bun:split
-- One per household in a campaign's scope: the grid worker's work list.
CREATE TABLE screening_tasks (
    tenant_id         TEXT NOT NULL,
    id                TEXT NOT NULL,
    screening_id      TEXT NOT NULL,
    household_id      TEXT NOT NULL,
    -- The household's grid, kept in step with it, so lists need no join.
    grid_id           TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('open', 'done')),
    -- On the door-to-door list: a visit-only campaign, or phone failed.
    door              BOOLEAN NOT NULL DEFAULT false,
    attempts          INTEGER NOT NULL DEFAULT 0,
    failed_calls      INTEGER NOT NULL DEFAULT 0,
    last_attempt_at   {{.Time}},
    last_outcome      TEXT NOT NULL DEFAULT '',
    -- The call list's order in one indexable column: never tried first
    -- ('0' + id), then tried longest ago ('1' + time + id).
    call_order        TEXT NOT NULL,
    reached_by_phone  BOOLEAN NOT NULL DEFAULT false,
    reached_by_visit  BOOLEAN NOT NULL DEFAULT false,
    -- The local date of the first reached attempt.
    reached_on        TEXT,
    created_at        {{.Time}} NOT NULL,
    updated_at        {{.Time}} NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, screening_id) REFERENCES screenings (tenant_id, id),
    {{template "household" .}}
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('screening_tasks');{{end}}
--bun:split
CREATE UNIQUE INDEX screening_tasks_household_idx ON screening_tasks (tenant_id, screening_id, household_id);
--bun:split
CREATE INDEX screening_tasks_list_idx ON screening_tasks (tenant_id, screening_id, status, door, call_order);
--bun:split
CREATE INDEX screening_tasks_grid_idx ON screening_tasks (tenant_id, screening_id, grid_id, status, door, call_order);
--bun:split
-- Every attempt to reach a household: a screening task's call or visit,
-- or (kind care) a care call or visit to a resident on the care list.
CREATE TABLE attempts (
    tenant_id      TEXT NOT NULL,
    id             TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('screening', 'care')),
    screening_id   TEXT,
    task_id        TEXT,
    household_id   TEXT NOT NULL,
    resident_id    TEXT,
    grid_id        TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    method         TEXT NOT NULL CHECK (method IN ('phone', 'visit')),
    outcome        TEXT NOT NULL CHECK (outcome IN ('reached', 'no_answer', 'wrong_number', 'refused', 'moved_out')),
    travel_from    TEXT NOT NULL DEFAULT '',
    returned_on    TEXT,
    symptoms       BOOLEAN NOT NULL DEFAULT false,
    close_contact  BOOLEAN NOT NULL DEFAULT false,
    occupants      INTEGER,
    notes          TEXT NOT NULL DEFAULT '',
    by_user        TEXT NOT NULL,
    by_name        TEXT NOT NULL,
    at             {{.Time}} NOT NULL,
    -- at's date in the community's zone: "today" without time-zone SQL.
    local_date     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES screening_tasks (tenant_id, id),
    {{template "household" .}}
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('attempts');{{end}}
--bun:split
CREATE INDEX attempts_task_idx ON attempts (tenant_id, task_id, at);
--bun:split
CREATE INDEX attempts_day_idx ON attempts (tenant_id, local_date, screening_id);
--bun:split
CREATE INDEX attempts_reached_idx ON attempts (tenant_id, household_id, local_date) WHERE kind = 'screening' AND outcome = 'reached';
--bun:split
CREATE INDEX attempts_care_idx ON attempts (tenant_id, resident_id, at) WHERE kind = 'care';
--bun:split
-- What a finding (symptoms, travel from a watched place, close contact)
-- asks staff to do: a record with a status of its own, which isolation
-- will turn into a case.
CREATE TABLE follow_ups (
    tenant_id     TEXT NOT NULL,
    id            TEXT NOT NULL,
    attempt_id    TEXT NOT NULL,
    screening_id  TEXT,
    household_id  TEXT NOT NULL,
    grid_id       TEXT NOT NULL,
    reasons       {{.JSON}} NOT NULL,
    travel_from   TEXT NOT NULL DEFAULT '',
    returned_on   TEXT,
    status        TEXT NOT NULL CHECK (status IN ('open', 'done', 'dismissed', 'case')),
    notes         TEXT NOT NULL DEFAULT '',
    case_id       TEXT,
    created_at    {{.Time}} NOT NULL,
    updated_at    {{.Time}} NOT NULL,
    closed_by     TEXT,
    closed_at     {{.Time}},
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, attempt_id) REFERENCES attempts (tenant_id, id),
    {{template "household" .}}
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('follow_ups');{{end}}
--bun:split
CREATE INDEX follow_ups_status_idx ON follow_ups (tenant_id, status, id);
--bun:split
-- Publicity (宣传): notices, posters, letters and WeChat posts, counted.
CREATE TABLE publicity (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    date        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('notice', 'poster', 'letter', 'wechat')),
    count       INTEGER NOT NULL CHECK (count >= 0),
    grid_id     TEXT,
    notes       TEXT NOT NULL DEFAULT '',
    by_user     TEXT NOT NULL,
    by_name     TEXT NOT NULL,
    created_at  {{.Time}} NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('publicity');{{end}}
--bun:split
CREATE INDEX publicity_date_idx ON publicity (tenant_id, date, kind);
--bun:split
-- Disinfection rounds (消毒) of public places.
CREATE TABLE disinfections (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    place       TEXT NOT NULL,
    at          {{.Time}} NOT NULL,
    local_date  TEXT NOT NULL,
    grid_id     TEXT,
    notes       TEXT NOT NULL DEFAULT '',
    by_user     TEXT NOT NULL,
    by_name     TEXT NOT NULL,
    created_at  {{.Time}} NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('disinfections');{{end}}
--bun:split
CREATE INDEX disinfections_date_idx ON disinfections (tenant_id, local_date);
