ALTER TABLE screening_tasks DROP COLUMN held_until;
--bun:split
ALTER TABLE screening_tasks DROP COLUMN held_by;
