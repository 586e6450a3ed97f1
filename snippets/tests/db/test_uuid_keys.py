"""Primary keys come from one generator: the application's `default_factory`,
never a database default.
"""

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

# Imports every entity, so the metadata holds every table.
import app.main  # noqa: F401
from app.base.base_entity import BaseEntity
from tests.subclasses import subclasses

PRIMARY_KEYS = text("""
    SELECT index.indrelid::regclass::text, attribute.attname,
           pg_get_expr(default_.adbin, default_.adrelid)
    FROM pg_index index
    JOIN pg_attribute attribute ON attribute.attrelid = index.indrelid
      AND attribute.attnum = ANY(index.indkey)
    LEFT JOIN pg_attrdef default_ ON default_.adrelid = attribute.attrelid
      AND default_.adnum = attribute.attnum
    WHERE index.indisprimary AND index.indrelid::regclass::text = ANY(:tables)
    """)
ID_DEFAULTS = text(
    "SELECT table_name, column_default FROM information_schema.columns"
    " WHERE table_schema = 'public' AND column_name = 'id'"
)


async def test_every_primary_key_gets_its_value_from_the_application_only(
    session: AsyncSession,
) -> None:
    """One source for the key: `uuid.uuid4` in the entity, no `DEFAULT` in the
    migration.
    """
    # `__table__` only on a table entity, not on a base such as `OwnedEntity`.
    tables = [
        vars(entity)["__table__"]
        for entity in subclasses(BaseEntity)
        if "__table__" in vars(entity)
    ]
    keys = await session.execute(
        PRIMARY_KEYS, {"tables": [table.name for table in tables]}
    )
    defaults: dict[str, str | None] = dict(
        (await session.execute(ID_DEFAULTS)).tuples().all()
    )

    # no database default
    assert sorted(keys.tuples()) == sorted(
        (table.name, "id", None) for table in tables
    )
    # nor on the `id` of a table no entity maps
    assert defaults == dict.fromkeys(defaults)
    # the one generator
    assert BaseEntity.model_fields["id"].default_factory is uuid.uuid4
    for table in tables:
        assert table.c.id.default is not None, table.name  # the application's
        assert table.c.id.server_default is None, table.name


async def test_an_insert_in_sql_that_forgets_the_id_is_refused(
    session: AsyncSession,
) -> None:
    with pytest.raises(IntegrityError, match='null value in column "id"'):
        await session.execute(
            text(
                "INSERT INTO messages (channel, recipient, body, client_ref)"
                " VALUES ('sms', '+15550100', 'Hi', 'no-id')"
            )
        )
