DROP TABLE outreach_replies;
--bun:split
DROP TABLE outreach_opt_outs;
--bun:split
DROP TABLE outreach_messages;
--bun:split
DROP TABLE outreach_campaigns;
--bun:split
DROP TABLE outreach_templates;
