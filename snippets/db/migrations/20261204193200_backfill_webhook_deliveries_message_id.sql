-- migrate:up
-- Every event so far is about a message, and its payload's `id` is that message's id.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

UPDATE webhook_deliveries SET message_id = (payload ->> 'id')::uuid
WHERE message_id IS NULL AND payload ->> 'id' IN (SELECT id::text FROM messages);

-- The rest belong to messages purged already: they hold the last copy of a recipient and body.
DELETE FROM webhook_deliveries WHERE message_id IS NULL;

-- Scans without blocking writes, now that every row points at a message.
ALTER TABLE webhook_deliveries VALIDATE CONSTRAINT webhook_deliveries_message_id_fkey;

-- migrate:down
-- Nothing to undo: the deleted deliveries are gone, and the values and the check are harmless.
SELECT 1;
