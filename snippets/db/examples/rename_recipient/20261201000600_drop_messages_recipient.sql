-- --8<-- [start:contract]
-- migrate:up
-- Only once no running code reads or writes the old column.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';
ALTER TABLE messages DROP COLUMN recipient;

-- migrate:down
-- Local and development rollback only: the UPDATE rewrites every row under
-- ACCESS EXCLUSIVE. In production, bring a column back with a new expand,
-- backfill and deploys.
SET LOCAL lock_timeout = '5s';
ALTER TABLE messages ADD COLUMN recipient text
    CHECK (char_length(recipient) BETWEEN 1 AND 320);
UPDATE messages SET recipient = address;
-- --8<-- [end:contract]
