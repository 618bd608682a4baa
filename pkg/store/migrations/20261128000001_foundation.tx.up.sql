-- The scheduler's heartbeat: one row per periodic task, written by the
-- worker that ran it, read by /readyz to show that the scheduler path works.
CREATE TABLE periodic_runs (
    name        TEXT PRIMARY KEY,
    slot        {{.Time}} NOT NULL,
    ran_at      {{.Time}} NOT NULL,
    runs        BIGINT NOT NULL DEFAULT 0
);
