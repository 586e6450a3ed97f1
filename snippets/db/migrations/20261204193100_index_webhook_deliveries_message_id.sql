-- migrate:up transaction:false
-- Serves the cascade: without it, every purged message scans all of
-- webhook_deliveries.
CREATE INDEX CONCURRENTLY webhook_deliveries_message_id_idx
    ON webhook_deliveries (message_id);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY webhook_deliveries_message_id_idx;
