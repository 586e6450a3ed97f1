-- One batch of the backfill job: the next batch_size rows by primary key after
-- :after. IS DISTINCT FROM, not address IS NULL: an old replica may have
-- changed recipient after a new one wrote both. Walking the key, each row is
-- visited once, so the job ends even if a row cannot be fixed.
WITH batch AS (
    SELECT id FROM messages
    WHERE CAST(:after AS uuid) IS NULL OR id > CAST(:after AS uuid)
    ORDER BY id LIMIT :batch_size
), fixed AS (
    UPDATE messages SET address = messages.recipient FROM batch
    WHERE messages.id = batch.id
      AND messages.address IS DISTINCT FROM messages.recipient
    RETURNING 1
)
SELECT (SELECT max(id::text) FROM batch) AS last_id,
       (SELECT count(*) FROM fixed) AS changed
