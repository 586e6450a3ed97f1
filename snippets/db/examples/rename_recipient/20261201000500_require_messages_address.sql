-- --8<-- [start:switch]
-- migrate:up
-- SET NOT NULL trusts the validated CHECK instead of reading every row; the
-- CHECK then goes.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';
ALTER TABLE messages ALTER COLUMN address SET NOT NULL;
ALTER TABLE messages DROP CONSTRAINT messages_address_present;
ALTER TABLE messages ALTER COLUMN recipient DROP NOT NULL;

-- migrate:down
-- Local and development rollback only: SET NOT NULL and the validated CHECK
-- read every row under ACCESS EXCLUSIVE, and SET NOT NULL fails once a row was
-- written without recipient.
SET LOCAL lock_timeout = '5s';
ALTER TABLE messages ALTER COLUMN recipient SET NOT NULL;
ALTER TABLE messages ADD CONSTRAINT messages_address_present
    CHECK (address IS NOT NULL);
ALTER TABLE messages ALTER COLUMN address DROP NOT NULL;
-- --8<-- [end:switch]
