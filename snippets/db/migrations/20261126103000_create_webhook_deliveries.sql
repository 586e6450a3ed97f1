-- migrate:up
-- One row per event and subscriber: written in the same transaction as the
-- change it reports, so a committed change always has its deliveries; the
-- row's id is the idempotency key.
CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY,
    webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event text NOT NULL CHECK (
        event IN ('message.created', 'message.updated', 'message.deleted')
    ),
    payload jsonb NOT NULL,
    status text NOT NULL
        CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error text CHECK (char_length(last_error) <= 2000),
    delivered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    CONSTRAINT webhook_deliveries_delivered_at_iff_delivered
        CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
);

-- Serves the foreign key's cascade and "deliveries of this subscription".
CREATE INDEX webhook_deliveries_webhook_id_idx
    ON webhook_deliveries (webhook_id);

CREATE TRIGGER webhook_deliveries_set_updated_at
    BEFORE UPDATE ON webhook_deliveries
FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- migrate:down
DROP TABLE webhook_deliveries;
