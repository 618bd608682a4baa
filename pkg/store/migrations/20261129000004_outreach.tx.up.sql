{{/*
Outreach (通知): message templates, campaigns to residents, the outbox (one
row per message, the source of truth the send tasks work from), the
opt-out list and residents' replies.
*/}}
CREATE TABLE outreach_templates (
    tenant_id          TEXT NOT NULL REFERENCES orgs (id),
    id                 TEXT NOT NULL,
    name               TEXT NOT NULL,
    channel            TEXT NOT NULL CHECK (channel IN ('sms', 'voice')),
    -- The approved text, with template fields such as .Name.
    body               TEXT NOT NULL,
    -- The provider's template code (Aliyun's TemplateCode, TtsCode for
    -- calls) and sign name.
    provider_template  TEXT NOT NULL DEFAULT '',
    sign_name          TEXT NOT NULL DEFAULT '',
    created_by         TEXT NOT NULL,
    created_at         {{.Time}} NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('outreach_templates');{{end}}
--bun:split
CREATE TABLE outreach_campaigns (
    tenant_id          TEXT NOT NULL REFERENCES orgs (id),
    id                 TEXT NOT NULL,
    name               TEXT NOT NULL,
    channel            TEXT NOT NULL CHECK (channel IN ('sms', 'voice')),
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
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('outreach_campaigns');{{end}}
--bun:split
-- The reconciler's look for campaigns due or running, over all tenants.
CREATE INDEX outreach_campaigns_status_idx ON outreach_campaigns (status, send_at);
--bun:split
-- The outbox: one row per phone in a campaign, written before any task.
CREATE TABLE outreach_messages (
    tenant_id      TEXT NOT NULL,
    id             TEXT NOT NULL,
    campaign_id    TEXT NOT NULL,
    phone          TEXT NOT NULL,
    body           TEXT NOT NULL,
    -- The template's fields for this resident (Aliyun's TemplateParam).
    params         {{.JSON}} NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('queued', 'held_quiet_hours', 'sending', 'sent', 'delivered',
                       'failed', 'unknown', 'skipped_opt_out', 'skipped_daily_cap', 'cancelled')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    -- A transient error said the provider may have taken it: ask before
    -- sending again.
    maybe_sent     BOOLEAN NOT NULL DEFAULT false,
    provider       TEXT NOT NULL DEFAULT '',
    provider_id    TEXT NOT NULL DEFAULT '',
    error_code     TEXT NOT NULL DEFAULT '',
    error          TEXT NOT NULL DEFAULT '',
    -- Queued: since when (the reconciler re-queues old ones). Held: until
    -- when.
    due_at         {{.Time}} NOT NULL,
    sending_at     {{.Time}},
    sent_at        {{.Time}},
    -- The community's date of sending, for the per-phone daily cap.
    sent_date      TEXT,
    delivered_at   {{.Time}},
    updated_at     {{.Time}} NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES outreach_campaigns (tenant_id, id)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('outreach_messages');{{end}}
--bun:split
CREATE UNIQUE INDEX outreach_messages_phone_idx ON outreach_messages (tenant_id, campaign_id, phone);
--bun:split
CREATE INDEX outreach_messages_status_idx ON outreach_messages (tenant_id, campaign_id, status, id);
--bun:split
CREATE INDEX outreach_messages_cap_idx ON outreach_messages (tenant_id, phone, sent_date);
--bun:split
-- The reconciler's look for work left behind, over all tenants.
CREATE INDEX outreach_messages_due_idx ON outreach_messages (status, due_at);
--bun:split
-- Receipts that name only the provider's id; replies that name only a phone.
CREATE INDEX outreach_messages_provider_idx ON outreach_messages (provider_id) WHERE provider_id <> '';
--bun:split
CREATE INDEX outreach_messages_sent_idx ON outreach_messages (phone, sent_at);
--bun:split
CREATE TABLE outreach_opt_outs (
    tenant_id   TEXT NOT NULL REFERENCES orgs (id),
    id          TEXT NOT NULL,
    phone       TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('reply', 'staff')),
    created_by  TEXT NOT NULL,
    created_at  {{.Time}} NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('outreach_opt_outs');{{end}}
--bun:split
CREATE UNIQUE INDEX outreach_opt_outs_phone_idx ON outreach_opt_outs (tenant_id, phone);
--bun:split
-- Residents' replies that were not an opt-out word: listed for staff.
CREATE TABLE outreach_replies (
    tenant_id    TEXT NOT NULL REFERENCES orgs (id),
    id           TEXT NOT NULL,
    phone        TEXT NOT NULL,
    text         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('opt_out', 'opt_in', 'reply', 'handled')),
    provider     TEXT NOT NULL,
    provider_id  TEXT NOT NULL,
    received_at  {{.Time}} NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
--bun:split
{{if .Postgres}}SELECT wanjia_enable_rls('outreach_replies');{{end}}
--bun:split
CREATE UNIQUE INDEX outreach_replies_provider_idx ON outreach_replies (tenant_id, provider, provider_id);
