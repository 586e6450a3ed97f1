-- --8<-- [start:expand]
-- migrate:up
-- Catalog changes only: a nullable column without a default, and a CHECK that
-- is NOT VALID, so PostgreSQL reads no existing row while it holds the ACCESS
-- EXCLUSIVE lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';
ALTER TABLE messages ADD COLUMN address text;
ALTER TABLE messages ADD CONSTRAINT messages_address_length
    CHECK (char_length(address) BETWEEN 1 AND 320) NOT VALID;

-- migrate:down
SET LOCAL lock_timeout = '5s';
ALTER TABLE messages DROP COLUMN address;
-- --8<-- [end:expand]
