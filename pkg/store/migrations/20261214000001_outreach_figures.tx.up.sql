{{/*
The daily report's messages_sent_today (outreach.FiguresIn, FiguresAcross):
SMS and voice messages sent or delivered on a community's local day. The
outbox already keeps that day (sent_date, written when a message is claimed
for sending, cleared when the rules set it aside), so no column is added;
this index leads with the community and the day, and carries channel and
status so the count reads the index alone. Rows never claimed (queued,
held, skipped) have no sent_date and stay out of it. The cap's index
(tenant_id, phone, sent_date) is the per-phone look and is left as it is.
*/}}
CREATE INDEX outreach_messages_figures_idx ON outreach_messages (tenant_id, sent_date, channel, status) WHERE sent_date IS NOT NULL;
