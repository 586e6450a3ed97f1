"""The migration rules' Don'ts, shown on scratch databases: what breaks the
running code.
"""

from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from sqlalchemy import URL, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
)
from sqlmodel import SQLModel

# Imports every entity, so the metadata holds every table.
import app.main  # noqa: F401
from app.db.message.model import Channel, Message
from app.db.message.table import MessagesTable
from tests.principals import OWNER
from tests.servers import engine_for


@pytest_asyncio.fixture
async def migrated(
    empty_database: URL, dbmate: Callable[..., str]
) -> AsyncIterator[AsyncEngine]:
    """A scratch database migrated by dbmate, as production is."""
    dbmate(empty_database, "up")
    engine = engine_for(empty_database)
    yield engine
    await engine.dispose()


async def insert_as_the_deployed_code(
    engine: AsyncEngine, ref: str = "deployed-1", body: str = "Hi"
) -> None:
    """Insert one message with the service's own entity and table class, and
    commit.
    """
    async with AsyncSession(engine) as session, session.begin():
        await MessagesTable(session, OWNER).insert_model(
            Message(
                channel=Channel.SMS,
                recipient="+15550100",
                body=body,
                client_ref=ref,
            )
        )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            "ALTER TABLE messages RENAME COLUMN recipient TO address",
            'column "recipient" of relation "messages"',
        ),
        (
            "ALTER TABLE messages DROP COLUMN body",
            'column "body" of relation "messages"',
        ),
        (
            "ALTER TABLE messages RENAME TO notes",
            'relation "messages" does not exist',
        ),
        ("DROP TABLE messages CASCADE", 'relation "messages" does not exist'),
        (
            "ALTER TABLE messages ADD COLUMN priority integer NOT NULL",
            'null value in column "priority"',
        ),
    ],
    ids=[
        "rename",
        "drop",
        "table rename",
        "table drop",
        "not null without default",
    ],
)
async def test_the_deployed_code_fails_after_a_rename_a_drop_or_a_not_null_column_without_default(
    migrated: AsyncEngine, change: str, error: str
) -> None:
    async with migrated.begin() as connection:
        await connection.execute(text(change))

    with pytest.raises(DBAPIError, match=error):
        await insert_as_the_deployed_code(migrated)


async def test_the_deployed_code_keeps_inserting_after_an_expand(
    migrated: AsyncEngine,
) -> None:
    async with migrated.begin() as connection:
        await connection.execute(
            text("ALTER TABLE messages ADD COLUMN address text")
        )
        await connection.execute(
            text(
                "ALTER TABLE messages ADD COLUMN priority integer NOT NULL"
                " DEFAULT 0"
            )
        )

    await insert_as_the_deployed_code(migrated)

    async with migrated.connect() as connection:
        assert (
            await connection.scalar(text("SELECT count(*) FROM messages")) == 1
        )


async def test_tables_from_create_all_accept_what_the_migrated_ones_refuse(
    empty_database: URL,
) -> None:
    engine = engine_for(empty_database)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)

        # The migrated schema refuses both: a second live `client_ref` (409)
        # and an empty body (CHECK).
        await insert_as_the_deployed_code(engine, ref="same")
        await insert_as_the_deployed_code(engine, ref="same", body="")

        async with engine.connect() as connection:
            triggers = await connection.scalar(
                text("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal")
            )
            assert (
                await connection.scalar(
                    text(
                        "SELECT count(*) FROM messages WHERE client_ref ="
                        " 'same'"
                    )
                )
                == 2
            )
        assert triggers == 0  # nor would `updated_at` move on an update
    finally:
        await engine.dispose()
