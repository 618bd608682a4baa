ALTER TABLE imports DROP COLUMN message_args;
