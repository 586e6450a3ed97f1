-- --8<-- [start:message_deliveries_migration]
-- migrate:up
-- Fail fast instead of queueing behind a long transaction: every later query
-- on `messages` would wait behind this migration's lock request. SET LOCAL
-- ends with the transaction.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

CREATE TABLE message_deliveries (
    id uuid PRIMARY KEY,
    message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    outcome text NOT NULL CHECK (outcome IN ('sent', 'failed')),
    error text CHECK (char_length(error) BETWEEN 1 AND 2000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    CONSTRAINT message_deliveries_error_iff_failed
        CHECK ((outcome = 'failed') = (error IS NOT NULL))
);

-- The table is new and empty, so a plain index in this transaction blocks
-- nobody. It serves the foreign key (cascading deletes) and loading a
-- message's deliveries in order.
CREATE INDEX message_deliveries_message_id_created_at_idx
    ON message_deliveries (message_id, created_at);

CREATE TRIGGER message_deliveries_set_updated_at
    BEFORE UPDATE ON message_deliveries
FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- migrate:down
DROP TABLE message_deliveries;
-- --8<-- [end:message_deliveries_migration]
