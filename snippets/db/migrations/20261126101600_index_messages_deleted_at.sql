-- --8<-- [start:concurrent_index_migration]
-- migrate:up transaction:false
-- Serves the purge of old soft-deleted messages. `messages` already holds rows
-- and takes writes, so the index is built CONCURRENTLY, which cannot run in a
-- transaction: hence transaction:false, and nothing else in this file (several
-- statements in one call form an implicit transaction).
CREATE INDEX CONCURRENTLY messages_deleted_at_idx ON messages (deleted_at)
    WHERE deleted_at IS NOT NULL;

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY messages_deleted_at_idx;
-- --8<-- [end:concurrent_index_migration]
