-- Every row an import could not save: why, and what the row held, so that
-- an office can download its rejected rows, fix them and upload them again.
-- It replaces the capped list of errors kept on the import itself.
CREATE TABLE import_errors (
    tenant_id  TEXT NOT NULL,
    import_id  TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    -- The row's line in the file (the header is line 1).
    line       INTEGER NOT NULL,
    -- [{"field","key","args"}]: message keys, rendered in the reader's language.
    problems   {{.JSON}} NOT NULL,
    -- The row's cells in the import kind's column order; empty for a row
    -- that could not be read at all.
    cells      {{.JSON}} NOT NULL,
    PRIMARY KEY (tenant_id, import_id, line)
);
--bun:split
ALTER TABLE imports DROP COLUMN errors;
--bun:split
-- One import at a time per community: two at once would clash on the same
-- households. The worker claims the slot by setting its import running; a
-- second waits and tries again (see roster.RunImport).
CREATE UNIQUE INDEX imports_one_running_idx ON imports (tenant_id) WHERE status = 'running';
