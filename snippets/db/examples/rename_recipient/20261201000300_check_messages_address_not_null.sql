-- --8<-- [start:not_null_check]
-- migrate:up
-- NOT VALID: rows written from now on are checked, existing rows are not read.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';
ALTER TABLE messages ADD CONSTRAINT messages_address_present
    CHECK (address IS NOT NULL) NOT VALID;

-- migrate:down
SET LOCAL lock_timeout = '5s';
ALTER TABLE messages DROP CONSTRAINT messages_address_present;
-- --8<-- [end:not_null_check]
