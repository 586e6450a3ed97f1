-- migrate:up
CREATE TABLE messages (
    id uuid PRIMARY KEY,
    channel text NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient text NOT NULL CHECK (char_length(recipient) BETWEEN 1 AND 320),
    body text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
    client_ref text NOT NULL CHECK (char_length(client_ref) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

-- A deleted message frees its reference for reuse.
CREATE UNIQUE INDEX messages_client_ref_live_key ON messages (client_ref)
    WHERE deleted_at IS NULL;

-- Serves the keyset pagination of live rows: ORDER BY created_at, id.
CREATE INDEX messages_created_at_id_live_idx ON messages (created_at, id)
    WHERE deleted_at IS NULL;

CREATE TRIGGER messages_set_updated_at BEFORE UPDATE ON messages
FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- migrate:down
DROP TABLE messages;
