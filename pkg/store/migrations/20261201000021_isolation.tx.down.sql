DROP TABLE support_requests;
--bun:split
DROP TABLE isolation_alerts;
--bun:split
DROP TABLE isolation_checkins;
--bun:split
DROP TABLE isolation_cases;
