-- migrate:up
-- A delivery's payload copies the message (recipient, body), so it must go
-- when the purge removes the message: the foreign key's ON DELETE CASCADE does
-- that. Nullable, because replicas of the previous release still insert
-- deliveries without it; NOT VALID, so adding it does not scan the table under
-- a lock that blocks writes (a batched job links the rows, 20261204203941
-- validates).
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

ALTER TABLE webhook_deliveries ADD COLUMN message_id uuid;
ALTER TABLE webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_message_id_fkey
    FOREIGN KEY (message_id) REFERENCES messages (id)
    ON DELETE CASCADE NOT VALID;

-- migrate:down
ALTER TABLE webhook_deliveries DROP COLUMN message_id;
