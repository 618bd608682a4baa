-- A failed import's message is a key rendered in the reader's language; its
-- arguments (a limit, a row count) are kept beside it.
ALTER TABLE imports ADD COLUMN message_args {{.JSON}};
