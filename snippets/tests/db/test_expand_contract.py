"""The expand/contract recipe of the migration rules, step by step on real
PostgreSQL.

Each step runs as dbmate runs a migration (one transaction) while a second
connection inserts into the same table with a short `lock_timeout`; `pg_locks`
says which lock the step holds until its commit, and PostgreSQL's DEBUG1
messages say whether it read the whole table.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db.backfill import BACKFILL_BATCH_SIZE, backfill_in_batches

EXAMPLE = (
    Path(__file__).resolve().parents[2]
    / "db"
    / "examples"
    / "rename_recipient"
)
MIGRATIONS = sorted(EXAMPLE.glob("2*.sql"))
BACKFILL = text((EXAMPLE / "backfill_messages_address.sql").read_text())
ROWS = 5 * BACKFILL_BATCH_SIZE
# PostgreSQL's order, weakest first: INSERT takes RowExclusiveLock, which only
# the last four block.
LOCK_MODES = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
]
# What ALTER TABLE logs at DEBUG1 when it reads every row: to check a
# constraint, or to rewrite.
FULL_READ = ('verifying table "messages"', 'rewriting table "messages"')


def up_part(migration: Path) -> str:
    return (
        migration.read_text()
        .partition("-- migrate:up")[2]
        .partition("-- migrate:down")[0]
    )


@dataclass(frozen=True)
class Step:
    """What one step did to `messages`, seen from inside its transaction and
    from a writer.
    """

    name: str
    lock: str
    """The strongest lock it held on `messages` until its commit."""
    read_every_row: bool
    """ALTER TABLE logged that it read every row, to check a constraint or to
    rewrite the table.
    """
    insert: str
    """What an INSERT from another connection did meanwhile: "went through" or
    "waited".
    """


@pytest.fixture
def dsn(empty_database: URL, dbmate: Callable[..., str]) -> str:
    """A database migrated by dbmate with the service's migrations, as a libpq
    DSN for asyncpg.
    """
    dbmate(empty_database, "up")
    query = dict(empty_database.query)
    if "socket" in query:
        query["host"] = query.pop("socket")
    return empty_database.set(
        drivername="postgresql", query=query
    ).render_as_string(hide_password=False)


@pytest_asyncio.fixture
async def seeded_engine(dsn: str) -> AsyncIterator[AsyncEngine]:
    """An engine on that database once `ROWS` messages are committed: the steps
    need rows to read.
    """
    engine = create_async_engine(
        dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    )
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO messages (id, channel, recipient, body,"
                " client_ref) SELECT gen_random_uuid(), 'sms', '+15550100',"
                " 'Hi', 'old-' || n FROM generate_series(1, :rows) n"
            ),
            {"rows": ROWS},
        )
    yield engine
    await engine.dispose()


def test_the_example_migrations_apply_and_roll_back_with_dbmate(
    empty_database: URL, dbmate: Callable[..., str], tmp_path: Path
) -> None:
    # added to the service's own directory
    with_example = (
        "--migrations-dir",
        str(EXAMPLE),
    )
    examples = {migration.name for migration in MIGRATIONS}

    def applied_examples() -> set[str]:
        status = dbmate(empty_database, *with_example, "status").splitlines()
        return {
            line.split()[1] for line in status if line.startswith("[X]")
        } & examples

    dbmate(empty_database, *with_example, "up")
    dbmate(empty_database, "--schema-file", str(tmp_path / "up.sql"), "dump")
    assert applied_examples() == examples
    # Rollbacks go newest first: the service's own later migrations are undone
    # on the way.
    for _ in range(
        len(list((EXAMPLE.parents[1] / "migrations").glob("*.sql")))
        + len(examples)
    ):
        if not applied_examples():
            break
        dbmate(empty_database, *with_example, "rollback")
    assert not applied_examples()
    dbmate(empty_database, "--schema-file", str(tmp_path / "down.sql"), "dump")
    migrated, rolled_back = (
        (tmp_path / "up.sql").read_text(),
        (tmp_path / "down.sql").read_text(),
    )

    assert "address text NOT NULL" in migrated
    assert "recipient" not in migrated
    assert "messages_address_length CHECK" in migrated
    assert "address" not in rolled_back
    assert "recipient text NOT NULL" in rolled_back


async def test_the_backfill_job_refuses_an_empty_batch(
    seeded_engine: AsyncEngine,
) -> None:
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        await backfill_in_batches(seeded_engine, BACKFILL, batch_size=0)


async def run_step(dsn: str, name: str, sql: str, insert: str) -> Step:
    """Run `sql` in one transaction; before it commits, read its locks and try
    `insert` elsewhere.
    """
    migrator, writer = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        logged: list[str] = []
        migrator.add_log_listener(
            lambda _connection, message: logged.append(message.message)
        )
        await migrator.execute("SET client_min_messages = debug1")
        async with migrator.transaction():
            await migrator.execute(sql)
            held = await migrator.fetch(
                "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND"
                " relation = 'messages'::regclass"
            )
            try:
                async with writer.transaction():
                    await writer.execute("SET LOCAL lock_timeout = '200ms'")
                    await writer.execute(insert)
                outcome = "went through"
            # SQLSTATE 55P03: lock_timeout ran out
            except asyncpg.LockNotAvailableError:
                outcome = "waited"
        strongest = max((row["mode"] for row in held), key=LOCK_MODES.index)
        return Step(
            name, strongest, any(line in FULL_READ for line in logged), outcome
        )
    finally:
        await migrator.close()
        await writer.close()


# The inserts of the code deployed before, during and after the change.
OLD_CODE = """INSERT INTO messages (id, channel, body, client_ref, recipient)
VALUES (gen_random_uuid(), 'sms', 'Hi', gen_random_uuid(), '+15550100')"""
CODE_WRITING_BOTH = """INSERT INTO messages
(id, channel, body, client_ref, recipient, address)
VALUES (gen_random_uuid(), 'sms', 'Hi', gen_random_uuid(),
        '+15550100', '+15550100')"""
NEW_CODE = """INSERT INTO messages (id, channel, body, client_ref, address)
VALUES (gen_random_uuid(), 'sms', 'Hi', gen_random_uuid(), '+15550100')"""


# --8<-- [start:test_expand_contract_locks]
async def test_no_expand_contract_step_reads_the_table_while_it_blocks_writes(
    dsn: str, seeded_engine: AsyncEngine
) -> None:
    expand, not_null_check, validate, switch, contract = (
        up_part(migration) for migration in MIGRATIONS
    )
    steps = [await run_step(dsn, "1. expand", expand, OLD_CODE)]
    batch = BACKFILL.text.replace(
        ":batch_size", str(BACKFILL_BATCH_SIZE)
    ).replace(":after", "NULL")
    steps.append(
        await run_step(dsn, "2. backfill, one batch", batch, CODE_WRITING_BOTH)
    )
    # the rest
    assert (
        await backfill_in_batches(seeded_engine, BACKFILL)
        == ROWS - BACKFILL_BATCH_SIZE
    )
    steps.append(
        await run_step(
            dsn,
            "3. NOT NULL check, NOT VALID",
            not_null_check,
            CODE_WRITING_BOTH,
        )
    )
    steps.append(
        await run_step(dsn, "4. validate", validate, CODE_WRITING_BOTH)
    )
    steps.append(await run_step(dsn, "5. switch", switch, CODE_WRITING_BOTH))
    steps.append(await run_step(dsn, "6. contract", contract, NEW_CODE))

    assert steps == [
        Step(
            "1. expand",
            "AccessExclusiveLock",
            read_every_row=False,
            insert="waited",
        ),
        Step(
            "2. backfill, one batch",
            "RowExclusiveLock",
            read_every_row=False,
            insert="went through",
        ),
        Step(
            "3. NOT NULL check, NOT VALID",
            "AccessExclusiveLock",
            read_every_row=False,
            insert="waited",
        ),
        Step(
            "4. validate",
            "ShareUpdateExclusiveLock",
            read_every_row=True,
            insert="went through",
        ),
        Step(
            "5. switch",
            "AccessExclusiveLock",
            read_every_row=False,
            insert="waited",
        ),
        Step(
            "6. contract",
            "AccessExclusiveLock",
            read_every_row=False,
            insert="waited",
        ),
    ]


# --8<-- [end:test_expand_contract_locks]


# --8<-- [start:test_lock_timeout_bounds_the_queue]
async def test_a_step_that_cannot_get_its_lock_gives_up_and_the_writes_queued_behind_it_go_on(
    dsn: str, seeded_engine: AsyncEngine
) -> None:
    expand = up_part(MIGRATIONS[0])
    reader, migrator, writer = [await asyncpg.connect(dsn) for _ in range(3)]
    try:
        reading = reader.transaction()
        await reading.start()
        # a long transaction: ACCESS SHARE until it ends
        await reader.fetchval("SELECT count(*) FROM messages")

        async def migrate() -> None:
            async with migrator.transaction():
                await migrator.execute(expand)

        migration = asyncio.create_task(migrate())
        waiting = None
        # until the migration waits for its lock
        while waiting is None and not migration.done():
            await asyncio.sleep(0.05)
            waiting = await writer.fetchval(
                "SELECT mode FROM pg_locks WHERE pid = $1 AND relation ="
                " 'messages'::regclass AND NOT granted",
                migrator.get_server_pid(),
            )
        # without the migration's lock_timeout: fail, not hang
        await writer.execute("SET statement_timeout = '10s'")
        started = time.monotonic()
        # queued behind the migration's request, not behind the reader
        await writer.execute(OLD_CODE)
        waited = time.monotonic() - started
        # Asked the moment the insert returns: had it not queued behind the
        # migration, it would have finished while the migration still waited
        # for its lock.
        migration_still_waits = await writer.fetchval(
            "SELECT count(*) > 0 FROM pg_locks WHERE pid = $1 AND NOT granted",
            migrator.get_server_pid(),
        )

        # lock_timeout = '5s' in the migration
        with pytest.raises(asyncpg.LockNotAvailableError):
            await migration
        await reading.rollback()
    finally:
        for connection in (reader, migrator, writer):
            await connection.close()

    assert waiting == "AccessExclusiveLock"
    # the insert went on only once the migration had given up
    assert not migration_still_waits
    assert (
        1 < waited < 10
        # it waited (the reader alone never blocks it), and less than its
        # statement_timeout
    )


# --8<-- [end:test_lock_timeout_bounds_the_queue]


async def expand(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute(up_part(MIGRATIONS[0]))
    finally:
        await connection.close()


async def test_the_backfill_fixes_an_address_an_old_replica_left_stale(
    dsn: str, seeded_engine: AsyncEngine
) -> None:
    await expand(dsn)
    async with seeded_engine.begin() as connection:
        # A new replica wrote both columns, then an old one changed only
        # `recipient`.
        await connection.execute(
            text(
                "UPDATE messages SET address = '+15550100', recipient ="
                " '+15550199'"
            )
        )

    await backfill_in_batches(seeded_engine, BACKFILL)

    async with seeded_engine.connect() as connection:
        stale = await connection.scalar(
            text(
                "SELECT count(*) FROM messages WHERE address IS DISTINCT FROM"
                " recipient"
            )
        )
    assert stale == 0


async def test_the_backfill_ends_when_a_row_cannot_be_fixed(
    dsn: str, seeded_engine: AsyncEngine
) -> None:
    await expand(dsn)
    async with seeded_engine.begin() as connection:
        # A trigger puts this row's address back on every write: the batch's
        # condition keeps choosing it, and a job that ran until a pass changed
        # nothing would never end.
        await connection.execute(
            text(
                """CREATE FUNCTION keep_address_stale()
                    RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN NEW.address := NULL; RETURN NEW; END $$"""
            )
        )
        await connection.execute(
            text(
                """CREATE TRIGGER keep_address_stale
                    BEFORE UPDATE ON messages FOR EACH ROW
                    WHEN (NEW.client_ref = 'old-1')
                    EXECUTE FUNCTION keep_address_stale()"""
            )
        )

    changed = await asyncio.wait_for(
        backfill_in_batches(seeded_engine, BACKFILL), timeout=60
    )

    # every row written once, the one that cannot be fixed too
    assert changed == ROWS
    async with seeded_engine.connect() as connection:
        stale = await connection.scalars(
            text(
                "SELECT client_ref FROM messages WHERE address IS DISTINCT"
                " FROM recipient"
            )
        )
        assert list(stale) == ["old-1"]


async def test_the_backfill_commits_each_batch_of_batch_size_rows_on_its_own(
    dsn: str, seeded_engine: AsyncEngine
) -> None:
    await expand(dsn)

    assert (
        await backfill_in_batches(seeded_engine, BACKFILL, batch_size=700)
        == ROWS
    )

    async with seeded_engine.connect() as connection:
        # xmin is the transaction that wrote the row's current version: one per
        # committed batch.
        batches = await connection.scalars(
            text(
                "SELECT count(*) FROM messages GROUP BY xmin::text ORDER BY 1"
                " DESC"
            )
        )
        assert list(batches) == [700] * (ROWS // 700) + [ROWS % 700]


def test_every_example_migration_sets_a_lock_timeout_before_its_first_change() -> (
    None
):
    for migration in MIGRATIONS:
        statements = [
            line
            for line in up_part(migration).splitlines()
            if line and not line.startswith("--")
        ]
        assert statements[0] == "SET LOCAL lock_timeout = '5s';", (
            migration.name
        )
