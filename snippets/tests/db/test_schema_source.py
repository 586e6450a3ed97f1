"""The migrations are the only source of the schema: what an entity declares
and what an edit to an applied migration do not change in the database."""

import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import URL, inspect, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

MIGRATION = """-- migrate:up
CREATE TABLE probes (id integer PRIMARY KEY);{added}

-- migrate:down
DROP TABLE probes;
"""


class ProbeMapping(SQLModel, registry=registry()):
    """A base apart from the service's: tests that walk the service's tables
    must not meet the probe.
    """


class Probe(ProbeMapping, table=True):
    """An entity that declares a constraint and an index, expecting them in the
    database.
    """

    __tablename__ = "schema_source_probes"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(unique=True, index=True)


async def test_unique_and_index_on_an_entity_do_not_reach_the_database(
    session: AsyncSession,
) -> None:
    # The table as a migration would make it, without what the entity declares.
    await session.execute(
        text(
            "CREATE TEMPORARY TABLE schema_source_probes (id uuid PRIMARY KEY,"
            " code text NOT NULL)"
        )
    )

    session.add_all([Probe(code="same"), Probe(code="same")])
    # no unique violation: the database never heard of `unique=True`
    await session.flush()

    indexes = await session.scalars(
        text(
            "SELECT indexname FROM pg_indexes WHERE tablename ="
            " 'schema_source_probes'"
        )
    )
    # and of `index=True` neither
    assert list(indexes) == ["schema_source_probes_pkey"]
    declared = inspect(Probe).local_table.c.code
    # though SQLAlchemy's copy of the table has both
    assert (declared.unique, declared.index) == (
        True,
        True,
    )


def test_an_edited_migration_never_runs_again_where_it_ran(
    empty_database: URL, dbmate: Callable[..., str], tmp_path: Path
) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    applied = migrations / "20260101000000_create_probes.sql"
    applied.write_text(MIGRATION.format(added=""))

    def up_and_dump() -> str:
        dbmate(empty_database, "--migrations-dir", str(migrations), "up")
        dump = tmp_path / "schema.sql"
        dbmate(
            empty_database,
            "--migrations-dir",
            str(migrations),
            "--schema-file",
            str(dump),
            "dump",
        )
        return dump.read_text()

    assert "CREATE TABLE public.probes" in up_and_dump()

    applied.write_text(
        MIGRATION.format(
            added="\nCREATE TABLE edited_after_merge (id integer);"
        )
    )
    # dbmate recorded the version; the edit never runs
    assert "edited_after_merge" not in up_and_dump()

    (migrations / "20260101000100_create_added_later.sql").write_text(
        "-- migrate:up\nCREATE TABLE added_later (id integer);\n\n--"
        " migrate:down\nDROP TABLE added_later;\n"
    )
    # a new migration does
    assert "CREATE TABLE public.added_later" in up_and_dump()
