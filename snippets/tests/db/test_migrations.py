"""The migrations: reversible, and in step with the committed
`db/schema.sql`.
"""

import importlib
import json
import os
import pkgutil
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

import app.db
from app.base.base_table import BaseTable
from app.db.webhook_delivery.backfill import link_deliveries_to_messages
from tests.subclasses import subclasses

# Every table class, so `subclasses(BaseTable)` sees them all. Not through
# `app.main`: it reaches a table only through the routes that use it, and the
# tutorial writes the table before its routes.
for module in pkgutil.walk_packages(app.db.__path__, "app.db."):
    importlib.import_module(module.name)

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "db" / "schema.sql"
MIGRATIONS = sorted((SCHEMA_FILE.parent / "migrations").glob("*.sql"))


# Lines that differ between pg_dump versions without any change to the schema.
VOLATILE_PREFIXES = (
    "--",
    "SET ",
    "SELECT pg_catalog.set_config",
    "\\restrict",
    "\\unrestrict",
)


def schema_of(
    database_url: URL, dbmate: Callable[..., str], path: Path
) -> str:
    """`dbmate dump` the schema, keeping only the lines that describe it."""
    dbmate(database_url, "--schema-file", str(path), "dump")
    return significant_lines(path.read_text())


def significant_lines(dump: str) -> str:
    return "\n".join(
        line
        for line in dump.splitlines()
        if line.strip() and not line.startswith(VOLATILE_PREFIXES)
    )


# --8<-- [start:test_schema_drift]
def test_schema_sql_matches_the_migrations(
    database_url: URL, dbmate: Callable[..., str], tmp_path: Path
) -> None:
    dumped = tmp_path / "schema.sql"
    actual = schema_of(database_url, dbmate, dumped)
    if os.environ.get("UPDATE_SCHEMA_SQL") == "1":
        SCHEMA_FILE.write_text(dumped.read_text())

    committed = significant_lines(SCHEMA_FILE.read_text())
    assert actual == committed, (
        "db/schema.sql is out of date with db/migrations: rerun with"
        " UPDATE_SCHEMA_SQL=1 uv run pytest --no-cov"
        " snippets/tests/db/test_migrations.py and commit it"
    )


# --8<-- [end:test_schema_drift]


def test_update_schema_sql_rewrites_the_schema_file(
    database_url: URL,
    dbmate: Callable[..., str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stale = tmp_path / "committed.sql"
    stale.write_text("-- an outdated dump\n")
    # never rewrite the real file from a test
    monkeypatch.setitem(globals(), "SCHEMA_FILE", stale)
    monkeypatch.setenv("UPDATE_SCHEMA_SQL", "1")

    test_schema_sql_matches_the_migrations(database_url, dbmate, tmp_path)

    assert "CREATE TABLE public.messages" in stale.read_text()


# --8<-- [start:test_up_down_up]
def test_every_migration_rolls_back_and_reapplies(
    empty_database: URL, dbmate: Callable[..., str], tmp_path: Path
) -> None:
    dbmate(empty_database, "up")
    migrated = schema_of(empty_database, dbmate, tmp_path / "up.sql")

    for _ in MIGRATIONS:
        dbmate(empty_database, "rollback")
    emptied = schema_of(empty_database, dbmate, tmp_path / "down.sql")
    dbmate(empty_database, "up")

    assert "CREATE TABLE public.messages" in migrated
    assert emptied.count("CREATE ") == 1, (
        "only dbmate's schema_migrations table may remain"
    )
    assert (
        schema_of(empty_database, dbmate, tmp_path / "again.sql") == migrated
    )


# --8<-- [end:test_up_down_up]


def test_no_migration_is_dated_in_the_future() -> None:
    """`dbmate new` names a file by the UTC time it was made. A later date
    sorts it after files made before that time, so databases that have it apply
    them in another order than new ones."""
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    assert [
        migration.name for migration in MIGRATIONS if migration.name[:14] > now
    ] == []


# --8<-- [start:test_no_transaction_migrations]
def test_migrations_without_a_transaction_hold_one_statement() -> None:
    """Several statements sent in one call run as one implicit transaction,
    which `CREATE INDEX CONCURRENTLY` refuses; so a `transaction:false`
    block holds exactly one."""
    checked = 0
    for migration in MIGRATIONS:
        blocks = re.split(
            r"^-- migrate:(?=up|down)",
            migration.read_text(),
            flags=re.MULTILINE,
        )[1:]
        for block in blocks:
            header, _, body = block.partition("\n")
            if "transaction:false" in header:
                code = "\n".join(
                    line
                    for line in body.splitlines()
                    if not line.lstrip().startswith("--")
                )
                parts = code.split(";")
                statements = [part for part in parts if part.strip()]
                assert len(statements) == 1, (
                    f"{migration.name} -- migrate:{header}: "
                    f"{len(statements)} statements"
                )
                checked += 1
    # the test found some: each concurrent index has an up and a down block
    assert checked >= 2


# --8<-- [end:test_no_transaction_migrations]


# --8<-- [start:test_unique_fields_mapped]
async def test_every_unique_index_is_mapped(session: AsyncSession) -> None:
    """A 409 names fields only through `unique_fields`; a unique index missing
    there would name none.
    """
    rows = await session.execute(
        text("""
            SELECT pg_index.indrelid::regclass::text, index.relname,
                   array_agg(attribute.attname ORDER BY key.position)
            FROM pg_index
            JOIN pg_class index ON index.oid = pg_index.indexrelid
            JOIN pg_namespace ON pg_namespace.oid = index.relnamespace
              AND pg_namespace.nspname = 'public'
            CROSS JOIN LATERAL unnest(pg_index.indkey)
              WITH ORDINALITY AS key(attnum, position)
            JOIN pg_attribute attribute
              ON attribute.attrelid = pg_index.indrelid
              AND attribute.attnum = key.attnum
            WHERE pg_index.indisunique AND NOT pg_index.indisprimary
            GROUP BY pg_index.indrelid, index.relname
            """)
    )
    in_schema = {
        (table, name): tuple(columns) for table, name, columns in rows.tuples()
    }
    mapped = {
        # each index on the table class of its own table
        (
            table.model.__tablename__,
            name,
        ): fields
        for table in subclasses(BaseTable)
        if "model"
        in vars(table)  # a table class, not a base such as `OwnedTable`
        for name, fields in table.unique_fields.items()
    }

    assert in_schema  # the query sees the indexes at all
    assert mapped == in_schema


# --8<-- [end:test_unique_fields_mapped]


# --8<-- [start:test_backfill_message_id]
async def test_the_backfill_job_links_deliveries_and_deletes_only_those_of_purged_messages(
    empty_database: URL, dbmate: Callable[..., str]
) -> None:
    dbmate(empty_database, "up")
    validating = [path.name for path in MIGRATIONS].index(
        "20261204203941_validate_webhook_deliveries_message_id.sql"
    )
    # back to before VALIDATE, which ships after the job has run
    for _ in MIGRATIONS[validating:]:
        dbmate(empty_database, "rollback")
    # dbmate's query names, asyncpg's names
    renamed = {
        "socket": "host",
        "sslmode": "ssl",
    }
    query = {
        renamed.get(key, key): value
        for key, value in empty_database.query.items()
    }
    # NullPool: no connection outlives its block, so the database can be
    # dropped even after a failure.
    engine = create_async_engine(
        empty_database.set(drivername="postgresql+asyncpg", query=query),
        poolclass=NullPool,
    )
    kept, deleted, purged, webhook = (
        uuid.uuid4(),
        uuid.uuid4(),
        uuid.uuid4(),
        uuid.uuid4(),
    )
    async with engine.begin() as connection:
        for message_id in (kept, deleted):
            await connection.execute(
                text(
                    "INSERT INTO messages VALUES (:id, 'sms', '+15550100',"
                    " 'Hi', :ref)"
                ),
                {"id": message_id, "ref": str(message_id)},
            )
        await connection.execute(
            text("UPDATE messages SET deleted_at = now() WHERE id = :id"),
            {"id": deleted},
        )
        await connection.execute(
            text(
                "INSERT INTO webhooks (id, target_url, event, secret,"
                " is_active) VALUES (:id, 'https://hooks.example.com',"
                " 'message.created', :secret, true)"
            ),
            {"id": webhook, "secret": "s" * 32},
        )
        # Written as the release before `message_id` wrote them, one still
        # pending.
        for message_id, status in (
            (kept, "pending"),
            (kept, "failed"),
            (deleted, "failed"),
            (purged, "failed"),
        ):
            await connection.execute(
                text(
                    "INSERT INTO webhook_deliveries (id, webhook_id, event,"
                    " payload, status) VALUES (gen_random_uuid(), :webhook,"
                    " 'message.created', :payload, :status)"
                ),
                {
                    "webhook": webhook,
                    "payload": json.dumps(
                        {"id": str(message_id), "recipient": "+15550100"}
                    ),
                    "status": status,
                },
            )

    with pytest.raises(AssertionError, match="run the backfill job first"):
        # the validating migration refuses unlinked rows
        dbmate(empty_database, "up")
    # one row per transaction
    assert await link_deliveries_to_messages(engine, batch_size=1) == (
        3,
        1,
    )

    validated = text(
        "SELECT convalidated FROM pg_constraint WHERE conname ="
        " 'webhook_deliveries_message_id_fkey'"
    )
    async with engine.connect() as connection:
        left = (
            await connection.execute(
                text("SELECT message_id, status FROM webhook_deliveries")
            )
        ).all()
        assert (await connection.execute(validated)).scalar_one() is False
    # Linked: the pending delivery too, and the soft-deleted message's. Gone:
    # the purged message's copy.
    assert sorted(left) == sorted(
        [(kept, "pending"), (kept, "failed"), (deleted, "failed")]
    )

    dbmate(empty_database, "up")

    async with engine.connect() as connection:
        assert (await connection.execute(validated)).scalar_one() is True


# --8<-- [end:test_backfill_message_id]
