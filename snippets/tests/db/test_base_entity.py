"""`BaseEntity`'s `server_default`: it maps the migration's defaults, it does
not create them.
"""

import uuid
from datetime import datetime

import pytest
from sqlalchemy import DateTime, Table, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from app.base.base_entity import BaseEntity
from app.db.message.model import Channel, Message
from app.db.message.table import MessagesTable
from tests.principals import OWNER
from tests.subclasses import subclasses


class SeparateMapping(SQLModel, registry=registry()):
    """A base whose tables are mapped apart from the service's, so `messages`
    can be mapped twice.
    """


class MessageWithoutServerDefault(SeparateMapping, table=True):
    """The `messages` table mapped as the tutorial's entity would be if
    `BaseEntity` left out `server_default`.
    """

    __tablename__ = "messages"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    channel: str
    recipient: str
    body: str
    client_ref: str
    created_at: datetime = Field(
        default=None, sa_type=DateTime(timezone=True), nullable=False
    )


async def test_the_insert_leaves_the_timestamps_to_the_database_and_returns_them(
    connection: AsyncConnection, session: AsyncSession
) -> None:
    statements: list[str] = []

    def record(
        _conn: Connection, _cursor: object, statement: str, *_args: object
    ) -> None:
        statements.append(statement)

    event.listen(connection.sync_connection, "before_cursor_execute", record)
    try:
        await MessagesTable(session, OWNER).insert_model(
            Message(
                channel=Channel.SMS,
                recipient="+15550100",
                body="Hi",
                client_ref="entity-1",
            )
        )
    finally:
        event.remove(
            connection.sync_connection, "before_cursor_execute", record
        )

    (insert,) = [
        statement
        for statement in statements
        if statement.startswith("INSERT INTO messages")
    ]
    columns, returning = (
        insert.split("VALUES")[0],
        insert.split("RETURNING")[1],
    )
    assert "created_at" not in columns
    assert "updated_at" not in columns
    assert "created_at" in returning
    assert "updated_at" in returning


async def test_without_server_default_the_insert_sends_null_and_is_refused(
    session: AsyncSession,
) -> None:
    row = MessageWithoutServerDefault(
        channel="sms", recipient="+15550100", body="Hi", client_ref="entity-2"
    )

    session.add(row)
    with pytest.raises(
        IntegrityError, match='null value in column "created_at"'
    ):
        await session.flush()


def entity_tables() -> list[Table]:
    """Every table the service's entities map (a test module may map tables of
    its own).
    """
    import app.main  # noqa: F401 (imports every entity)

    # `__table__` only on a table entity, not on a base such as `OwnedEntity`.
    return [
        vars(entity)["__table__"]
        for entity in subclasses(BaseEntity)
        if "__table__" in vars(entity)
    ]


async def test_every_primary_key_is_indexed_by_its_constraint_alone(
    session: AsyncSession,
) -> None:
    """PostgreSQL builds a unique index for each PRIMARY KEY; `index=True` on
    the key would ask for a second.
    """
    tables = entity_tables()
    rows = await session.execute(
        text("""
            SELECT indrelid::regclass::text, indisprimary FROM pg_index
            WHERE indrelid::regclass::text = ANY(:tables)
              AND indnatts = 1
              AND indkey[0] = (
                SELECT attnum FROM pg_attribute
                WHERE attrelid = indrelid AND attname = 'id'
              )
            """),
        {"tables": [table.name for table in tables]},
    )

    # one index on `id`: the key's
    assert sorted(rows.tuples()) == sorted(
        (table.name, True) for table in tables
    )
    for table in tables:
        assert [
            index.name
            for index in table.indexes
            if list(index.columns) == [table.c.id]
        ] == [], table.name


async def test_an_update_in_plain_sql_still_moves_updated_at(
    session: AsyncSession,
) -> None:
    row = await MessagesTable(session, OWNER).insert_model(
        Message(
            channel=Channel.SMS,
            recipient="+15550100",
            body="Hi",
            client_ref="entity-3",
        )
    )

    # A fix in psql, a backfill or another service: no ORM, so no Python code
    # runs.
    moved = await session.execute(
        text(
            "UPDATE messages SET body = 'Fixed by hand' WHERE id = :id"
            " RETURNING updated_at"
        ),
        {"id": row.id},
    )

    assert moved.scalar_one() > row.updated_at  # the trigger stamped it
