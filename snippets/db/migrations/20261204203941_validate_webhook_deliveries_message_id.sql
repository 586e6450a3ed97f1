-- migrate:up
-- Ships one release after 20261204193000, once every replica writes
-- `message_id` and the job in app/db/webhook_delivery/backfill.py has linked
-- or deleted every older delivery. VALIDATE reads the whole table under SHARE
-- UPDATE EXCLUSIVE, which blocks neither reads nor writes. A NULL passes a
-- foreign key, so it cannot tell whether the job ran: the check below refuses
-- if not. No statement_timeout: the scan is as long as the table, and it
-- blocks no one.
SET LOCAL lock_timeout = '5s';

DO $$
BEGIN
    IF EXISTS (SELECT FROM webhook_deliveries WHERE message_id IS NULL) THEN
        RAISE EXCEPTION 'webhook_deliveries without message_id: %',
            'run the backfill job first';
    END IF;
END $$;

ALTER TABLE webhook_deliveries
    VALIDATE CONSTRAINT webhook_deliveries_message_id_fkey;

-- migrate:down
-- Back to the key as 20261204193000 added it: NOT VALID, a brief lock and no
-- scan.
SET LOCAL lock_timeout = '5s';

ALTER TABLE webhook_deliveries
    DROP CONSTRAINT webhook_deliveries_message_id_fkey;
ALTER TABLE webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_message_id_fkey
    FOREIGN KEY (message_id) REFERENCES messages (id)
    ON DELETE CASCADE NOT VALID;
