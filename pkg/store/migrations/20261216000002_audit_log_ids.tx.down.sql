-- The packed ids go back into details, as they were written before.
{{if .Postgres}}
UPDATE audit_log SET details = coalesce(details, '{}'::jsonb) || jsonb_build_object('ids',
    (SELECT jsonb_agg(encode(substring(ids FROM i * 16 + 1 FOR 16), 'hex')::uuid::text ORDER BY i)
     FROM generate_series(0, length(ids) / 16 - 1) AS i))
WHERE ids IS NOT NULL AND length(ids) > 0;
{{else}}
UPDATE audit_log SET details = json_set(coalesce(details, '{}'), '$.ids', json(
    (SELECT json_group_array(lower(substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-' || substr(h, 17, 4) || '-' || substr(h, 21)))
     FROM (WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < length(audit_log.ids) / 16)
           SELECT hex(substr(audit_log.ids, i * 16 + 1, 16)) AS h FROM n ORDER BY i))))
WHERE ids IS NOT NULL AND length(ids) > 0;
{{end}}
--bun:split
ALTER TABLE audit_log DROP COLUMN ids;
