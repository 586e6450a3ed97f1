-- migrate:up
-- clock_timestamp(), not now(): now() is the transaction's start, so two
-- updates in one transaction would get the same time, and updated_at could
-- even precede created_at.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at = clock_timestamp();
    RETURN NEW;
END;
$$;

-- migrate:down
DROP FUNCTION set_updated_at();
