DROP TABLE report_sweeps;
--bun:split
DROP TABLE daily_report_drafts;
--bun:split
DROP TABLE daily_reports;
