{{/*
Each channel has its own daily cap, so a message says its channel. A
campaign may also post a notice to the community's WeCom group robot
(channel wecom, as text or markdown): the robot's key is a secret, kept
sealed in outreach_robots and never shown whole.

SQLite cannot change a CHECK constraint in place: outreach_campaigns is
rebuilt, with the messages' foreign keys checked at COMMIT.
*/}}
ALTER TABLE outreach_messages ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms';
--bun:split
UPDATE outreach_messages SET channel = (SELECT c.channel FROM outreach_campaigns AS c
    WHERE c.tenant_id = outreach_messages.tenant_id AND c.id = outreach_messages.campaign_id);
--bun:split
{{if .Postgres}}ALTER TABLE outreach_campaigns DROP CONSTRAINT outreach_campaigns_channel_check{{else}}PRAGMA defer_foreign_keys = ON{{end}};
--bun:split
{{if .Postgres}}ALTER TABLE outreach_campaigns ADD CONSTRAINT outreach_campaigns_channel_check CHECK (channel IN ('sms', 'voice', 'wecom')){{else}}
CREATE TABLE outreach_campaigns_new (
    tenant_id          TEXT NOT NULL REFERENCES orgs (id),
    id                 TEXT NOT NULL,
    name               TEXT NOT NULL,
    channel            TEXT NOT NULL CHECK (channel IN ('sms', 'voice', 'wecom')),
    template_id        TEXT,
    body               TEXT NOT NULL,
    provider_template  TEXT NOT NULL DEFAULT '',
    sign_name          TEXT NOT NULL DEFAULT '',
    audience           {{.JSON}} NOT NULL,
    send_at            {{.Time}},
    urgent             BOOLEAN NOT NULL DEFAULT false,
    status             TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'cancelled', 'finished')),
    total              INTEGER NOT NULL DEFAULT 0,
    created_by         TEXT NOT NULL,
    created_at         {{.Time}} NOT NULL,
    updated_at         {{.Time}} NOT NULL,
    started_at         {{.Time}},
    finished_at        {{.Time}},
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, template_id) REFERENCES outreach_templates (tenant_id, id)
){{end}};
--bun:split
{{if not .Postgres}}INSERT INTO outreach_campaigns_new SELECT * FROM outreach_campaigns{{end}};
--bun:split
{{if not .Postgres}}DROP TABLE outreach_campaigns{{end}};
--bun:split
{{if not .Postgres}}ALTER TABLE outreach_campaigns_new RENAME TO outreach_campaigns{{end}};
--bun:split
{{if not .Postgres}}CREATE INDEX outreach_campaigns_status_idx ON outreach_campaigns (status, send_at){{end}};
--bun:split
-- A WeCom notice is text or markdown; SMS and calls have no format.
ALTER TABLE outreach_campaigns ADD COLUMN format TEXT NOT NULL DEFAULT '';
--bun:split
-- The community's WeCom group robot (one per community).
CREATE TABLE outreach_robots (
    tenant_id   TEXT NOT NULL REFERENCES orgs (id),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    -- The webhook key, sealed (pkg/seal) and bound to the community.
    key_sealed  TEXT NOT NULL,
    -- Its last characters, to tell robots apart on screen.
    key_hint    TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  {{.Time}} NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('outreach_robots');{{end}}
--bun:split
CREATE UNIQUE INDEX outreach_robots_tenant_idx ON outreach_robots (tenant_id);
