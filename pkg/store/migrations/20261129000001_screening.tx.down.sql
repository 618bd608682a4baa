DROP TABLE disinfections;
--bun:split
DROP TABLE publicity;
--bun:split
DROP TABLE follow_ups;
--bun:split
DROP TABLE attempts;
--bun:split
DROP TABLE screening_tasks;
--bun:split
DROP TABLE screenings;
