-- One batch of the backfill job: up to batch_size rows that still need it.
UPDATE messages SET address = recipient
WHERE id IN (SELECT id FROM messages WHERE address IS NULL LIMIT :batch_size)
