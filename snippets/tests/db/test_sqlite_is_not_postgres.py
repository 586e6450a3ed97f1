"""Why the tests run on the migrated PostgreSQL, each in a transaction that is
rolled back.
"""

import uuid

import pytest
from sqlalchemy import create_engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col

from app.db.message.model import Message

# Each value breaks one CHECK of the messages migration.
REFUSED_BY_THE_MIGRATION = [
    {"channel": "fax"},
    {"recipient": ""},
    {"body": "x" * 4001},
    {"client_ref": "r" * 101},
]


def row(**change: str) -> dict[str, object]:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "channel": "sms",
        "recipient": "+15550100",
        "body": "Hi",
        "client_ref": f"sqlite-{uuid.uuid4().hex[:8]}",
    }
    return values | change


@pytest.mark.parametrize(
    "change", REFUSED_BY_THE_MIGRATION, ids=lambda change: next(iter(change))
)
async def test_sqlite_accepts_a_row_the_migrated_postgresql_refuses(
    connection: AsyncConnection, change: dict[str, str]
) -> None:
    # The table as a test on SQLite would get it: from the entities, through
    # the stdlib `sqlite3`.
    sqlite = create_engine("sqlite://")
    Message.metadata.create_all(
        sqlite, tables=[Message.metadata.tables["messages"]]
    )
    with sqlite.begin() as lite:
        lite.execute(insert(Message).values(row(**change)))
        assert lite.scalar(select(func.count()).select_from(Message)) == 1
    sqlite.dispose()

    with pytest.raises(IntegrityError, match="violates check constraint"):
        async with connection.begin_nested():
            await connection.execute(insert(Message).values(row(**change)))


async def test_a_committed_row_outlives_its_test_and_a_rolled_back_one_does_not(
    engine: AsyncEngine,
) -> None:
    kept, undone = row(), row()
    try:
        # the `connection` fixture: begin, test, roll back
        async with engine.connect() as fixture_like:
            transaction = await fixture_like.begin()
            await fixture_like.execute(insert(Message).values(undone))
            await transaction.rollback()
        async with engine.begin() as committing:  # a session nobody rolls back
            await committing.execute(insert(Message).values(kept))

        async with engine.connect() as next_test:
            refs = await next_test.scalars(
                select(col(Message.client_ref)).where(
                    col(Message.client_ref).in_(
                        [kept["client_ref"], undone["client_ref"]]
                    )
                )
            )
            assert list(refs) == [kept["client_ref"]]
    finally:
        async with engine.begin() as cleanup:
            await cleanup.execute(
                delete(Message).where(
                    col(Message.client_ref) == kept["client_ref"]
                )
            )
