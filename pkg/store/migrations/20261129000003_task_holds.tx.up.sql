{{/*
The next household on a call list is held for its caller a few minutes,
so that two workers on one list (a grid worker and the staff helping out)
do not phone the same family at once. A hold ends with the caller's
attempt, or by itself.
*/}}
ALTER TABLE screening_tasks ADD COLUMN held_by TEXT;
--bun:split
ALTER TABLE screening_tasks ADD COLUMN held_until {{.Time}};
