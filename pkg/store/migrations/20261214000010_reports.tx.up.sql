{{/*
The daily report (日报, pkg/reports). A community's report of a local day
is a row per version, never changed once written:

  version 0, kind cutoff: the live draft as it stood at the community's
    report_cutoff, written once by the sweep (the primary key makes a
    second one impossible);
  version 1, kind submission: what the community admin submitted (a
    second submit meets the primary key, a 409);
  version 2…, kind correction: a later version with fresh figures and a
    reason.

figures holds the computed figures under the API's keys, manual the
typed-in part, both as JSON objects of integers. after_cutoff is decided
when the row is written, so a later change of report_cutoff does not
rewrite history. by_user (user id) and by_name (username) name who wrote
the row, empty for the sweep ("by" is a reserved word).

The typed-in part of a draft (PUT before submit) changes until the
submission, so it is not a version: daily_report_drafts keeps the fields
given so far, one row per community and day; the fields not given take
their pre-filled values when the report is read.

report_sweeps marks the sweep's daily steps (cutoff, reminder) done per
community and day, in the transaction that does them, as isolation_sweeps
does: a second scheduler finds the mark and does nothing.
*/}}
CREATE TABLE daily_reports (
    tenant_id    TEXT NOT NULL,
    date         TEXT NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 0),
    kind         TEXT NOT NULL CHECK (kind IN ('cutoff', 'submission', 'correction')),
    figures      {{.JSON}} NOT NULL,
    manual       {{.JSON}} NOT NULL,
    after_cutoff BOOLEAN NOT NULL DEFAULT FALSE,
    by_user      TEXT NOT NULL DEFAULT '',
    by_name      TEXT NOT NULL DEFAULT '',
    at           {{.Time}} NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, date, version),
    CHECK ((version = 0) = (kind = 'cutoff') AND (version = 1) = (kind = 'submission'))
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('daily_reports');{{end}}
--bun:split
CREATE TABLE daily_report_drafts (
    tenant_id   TEXT NOT NULL,
    date        TEXT NOT NULL,
    manual      {{.JSON}} NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT '',
    updated_at  {{.Time}} NOT NULL,
    PRIMARY KEY (tenant_id, date)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('daily_report_drafts');{{end}}
--bun:split
CREATE TABLE report_sweeps (
    tenant_id   TEXT NOT NULL,
    local_date  TEXT NOT NULL,
    step        TEXT NOT NULL CHECK (step IN ('cutoff', 'reminder')),
    done_at     {{.Time}} NOT NULL,
    items       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, local_date, step)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('report_sweeps');{{end}}
