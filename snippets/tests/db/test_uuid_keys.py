"""Primary keys come from one generator: the application's `default_factory`, never a database default."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.base.base_entity import BaseEntity


async def test_every_table_leaves_its_id_to_the_application(session: AsyncSession) -> None:
    query = text(
        "SELECT table_name, column_default FROM information_schema.columns"
        " WHERE table_schema = 'public' AND column_name = 'id'"
    )
    defaults: dict[str, str | None] = dict((await session.execute(query)).tuples().all())

    assert defaults, "no table has an id column"
    assert defaults == dict.fromkeys(defaults)  # no table gives its id a database default
    assert BaseEntity.model_fields["id"].default_factory is not None  # the one generator


async def test_an_insert_in_sql_that_forgets_the_id_is_refused(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError, match='null value in column "id"'):
        await session.execute(
            text(
                "INSERT INTO messages (channel, recipient, body, client_ref) VALUES ('sms', '+15550100', 'Hi', 'no-id')"
            )
        )
