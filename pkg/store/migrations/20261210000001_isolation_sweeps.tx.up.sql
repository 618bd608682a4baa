{{/*
The isolation sweep (pkg/isolation/sweep.go): each community's daily steps
(eligibility, reminders, missed check-ins, retention) run once per local day,
whatever the number of schedulers and whatever Redis forgot. A step's row is
written in the transaction that does the step, so the step and its mark
commit together; a second scheduler finds the mark (or waits on it) and does
nothing. purged_on is the local day retention cleared a closed case's
personal data.
*/}}
CREATE TABLE isolation_sweeps (
    tenant_id   TEXT NOT NULL,
    local_date  TEXT NOT NULL,
    step        TEXT NOT NULL CHECK (step IN ('eligible', 'reminders', 'missed', 'retention')),
    done_at     {{.Time}} NOT NULL,
    items       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, local_date, step)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('isolation_sweeps');{{end}}
--bun:split
ALTER TABLE isolation_cases ADD COLUMN purged_on TEXT;
--bun:split
-- Closed cases waiting for retention.
CREATE INDEX isolation_cases_retention_idx ON isolation_cases (tenant_id, closed_on) WHERE purged_on IS NULL AND closed_on IS NOT NULL;
