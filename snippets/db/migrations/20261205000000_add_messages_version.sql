-- migrate:up
-- The optimistic lock of PATCH /messages/{id}: every update increments
-- `version`, and the API sends it as the ETag. The constant default is kept in
-- the catalog, so adding the column rewrites no row, and the running code,
-- which never names the column, keeps inserting.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

ALTER TABLE messages ADD COLUMN version integer NOT NULL DEFAULT 1;

-- migrate:down
ALTER TABLE messages DROP COLUMN version;
