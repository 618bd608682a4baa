{{/*
Signing keys are encrypted at rest from now on (authn re-encrypts the
plain-text ones of earlier versions when it loads them; the secret column
keeps either form). Each key gets a generation, unique, so that two replicas
rotating at the same moment cannot both add a key: the second insert of the
same generation fails and that replica loads the winner's key instead.
Existing keys are numbered in the order they were made.
*/}}
ALTER TABLE signing_keys ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
--bun:split
UPDATE signing_keys SET generation = (
    SELECT COUNT(*) FROM signing_keys k
    WHERE k.created_at < signing_keys.created_at
       OR (k.created_at = signing_keys.created_at AND k.id <= signing_keys.id)
);
--bun:split
CREATE UNIQUE INDEX signing_keys_generation_idx ON signing_keys (generation);
