-- migrate:up transaction:false
-- Serves the sweep for lost deliveries: pending rows untouched for longest.
-- Partial, so it holds only the few pending rows, not the history;
-- CONCURRENTLY, as the table takes writes.
CREATE INDEX CONCURRENTLY webhook_deliveries_pending_idx
    ON webhook_deliveries (updated_at) WHERE status = 'pending';

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY webhook_deliveries_pending_idx;
