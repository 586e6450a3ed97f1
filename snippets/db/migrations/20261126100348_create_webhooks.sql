-- migrate:up
CREATE TABLE webhooks (
    id uuid PRIMARY KEY,
    target_url text NOT NULL CHECK (
        target_url LIKE 'https://%' AND char_length(target_url) <= 2048
    ),
    event text NOT NULL CHECK (
        event IN ('message.created', 'message.updated', 'message.deleted')
    ),
    secret text NOT NULL CHECK (char_length(secret) >= 32),
    description text CHECK (char_length(description) BETWEEN 1 AND 500),
    is_active boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

-- One live subscription per URL and event; a deleted one frees the pair. Event
-- first, so the same index finds the subscribers of an event when delivery
-- looks them up.
CREATE UNIQUE INDEX webhooks_event_target_url_live_key
    ON webhooks (event, target_url) WHERE deleted_at IS NULL;

-- Serves the keyset pagination of live rows: ORDER BY created_at, id.
CREATE INDEX webhooks_created_at_id_live_idx ON webhooks (created_at, id)
    WHERE deleted_at IS NULL;

CREATE TRIGGER webhooks_set_updated_at BEFORE UPDATE ON webhooks
FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- migrate:down
DROP TABLE webhooks;
