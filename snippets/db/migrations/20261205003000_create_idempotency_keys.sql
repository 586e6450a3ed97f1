-- migrate:up
-- The Idempotency-Key a client sent with a POST, and the response it got. The
-- primary key makes a second request with the same key wait for the first
-- one's transaction instead of both passing a check and both inserting;
-- `response` is NULL only inside the transaction that claimed the key.
CREATE TABLE idempotency_keys (
    principal text NOT NULL,
    key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    fingerprint text NOT NULL,
    response jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (principal, key)
);

-- Serves the purge of expired keys: ORDER BY expires_at.
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- migrate:down
DROP TABLE idempotency_keys;
