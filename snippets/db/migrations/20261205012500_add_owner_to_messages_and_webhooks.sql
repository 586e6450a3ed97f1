-- migrate:up
-- Each message and webhook belongs to the principal that created it: the
-- access token's subject. Nullable, the expand step of
-- docs/database/migration-rules.md: replicas of the previous release still
-- insert rows without an owner while this one rolls out. A row without an
-- owner matches no `owner = :owner`, so no principal can reach it until a
-- backfill gives it one.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

ALTER TABLE messages ADD COLUMN owner text;
ALTER TABLE webhooks ADD COLUMN owner text;

-- migrate:down
ALTER TABLE webhooks DROP COLUMN owner;
ALTER TABLE messages DROP COLUMN owner;
