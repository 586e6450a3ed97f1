-- --8<-- [start:validate]
-- migrate:up
-- Its own migration, so its own transaction: VALIDATE then takes only SHARE
-- UPDATE EXCLUSIVE, and reads every row while inserts and updates go on. No
-- statement_timeout: the scan is long.
SET LOCAL lock_timeout = '5s';
ALTER TABLE messages VALIDATE CONSTRAINT messages_address_length;
ALTER TABLE messages VALIDATE CONSTRAINT messages_address_present;

-- migrate:down
-- Nothing to undo: a validated constraint behaves as the NOT VALID one for
-- every new row.
-- --8<-- [end:validate]
