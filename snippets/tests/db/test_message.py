"""`BaseTable` through `MessagesTable`: every method, against the real
schema.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlmodel import col

from app.api.messaging.models import MessageUpdate
from app.api.messaging.service import purge_deleted_messages
from app.base.base_table import MAX_PAGE_SIZE, BaseTable, Cursor
from app.core.errors import ConflictError
from app.db.message.model import Channel, Message
from app.db.message.table import MessagesTable
from tests.principals import OWNER


@pytest.fixture
def messages(session: AsyncSession) -> MessagesTable:
    return MessagesTable(session, OWNER)


def message(ref: str, body: str = "Hello") -> Message:
    return Message(
        channel=Channel.SMS, recipient="+15550100", body=body, client_ref=ref
    )


# --8<-- [start:test_insert_model]
async def test_insert_model_flushes_and_loads_database_defaults(
    messages: MessagesTable,
) -> None:
    inserted = await messages.insert_model(message("ref-1"))

    # timestamptz comes back aware
    assert inserted.created_at.tzinfo is not None
    assert inserted.updated_at == inserted.created_at
    assert await messages.first_or_default(inserted.id) is inserted


# --8<-- [end:test_insert_model]


async def test_insert_model_turns_a_unique_violation_into_a_conflict(
    messages: MessagesTable,
) -> None:
    await messages.insert_model(message("ref-1"))

    with pytest.raises(ConflictError) as raised:
        await messages.insert_model(message("ref-1"))

    assert raised.value.fields == ("client_ref",)
    assert "ref-1" not in raised.value.detail
    # Nothing chained: a handler that logs the error's traceback cannot print
    # PostgreSQL's DETAIL.
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__
    assert raised.value.constraint == "messages_client_ref_live_key"


async def test_an_unmapped_unique_violation_names_no_field(
    session: AsyncSession,
) -> None:
    class UnmappedMessages(BaseTable[Message]):
        model = (
            Message  # no `unique_fields`: the conflict cannot say which field
        )

    table = UnmappedMessages(session)
    await table.insert_model(message("ref-1"))

    with pytest.raises(ConflictError) as raised:
        await table.insert_model(message("ref-1"))

    assert raised.value.fields == ()
    assert raised.value.detail == "A unique value is already taken."


async def test_other_integrity_errors_are_not_conflicts(
    messages: MessagesTable,
) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError, match="messages_body_check"):
        await messages.insert_model(message("ref-1", body=""))


async def test_first_by_and_unknown_columns(messages: MessagesTable) -> None:
    inserted = await messages.insert_model(message("ref-1"))

    assert await messages.first_by(client_ref="ref-1") is inserted
    assert await messages.first_by(client_ref="ref-2") is None
    with pytest.raises(ValueError, match="Message has no column"):
        await messages.first_by(colour="red")


async def test_all_by_filters_and_pages(messages: MessagesTable) -> None:
    for index in range(3):
        await messages.insert_model(message(f"ref-{index}", body="same"))
    await messages.insert_model(message("other", body="different"))

    first = await messages.all_by(limit=2, body="same")
    second = await messages.all_by(
        limit=2, after=first.next_cursor, body="same"
    )

    assert len(first.items) == 2
    assert first.next_cursor is not None
    assert len(second.items) == 1
    assert second.next_cursor is None
    assert {m.client_ref for m in first.items + second.items} == {
        "ref-0",
        "ref-1",
        "ref-2",
    }
    assert (await messages.all()).next_cursor is None


@pytest.mark.parametrize("limit", [0, MAX_PAGE_SIZE + 1])
async def test_all_rejects_an_unbounded_limit(
    messages: MessagesTable, limit: int
) -> None:
    with pytest.raises(
        ValueError, match=f"limit must be between 1 and {MAX_PAGE_SIZE}"
    ):
        await messages.all(limit=limit)


async def test_all_count_excludes_soft_deleted_unless_asked(
    messages: MessagesTable,
) -> None:
    live = await messages.insert_model(message("ref-1"))
    gone = await messages.insert_model(message("ref-2"))
    assert await messages.soft_delete(gone.id)

    assert await messages.all_count() == 1
    assert await messages.all_count(include_deleted=True) == 2
    assert await messages.first_or_default(gone.id) is None
    assert await messages.first_or_default(live.id) is live


# --8<-- [start:test_update_exclude_unset]
async def test_update_applies_only_the_fields_that_were_set(
    messages: MessagesTable,
) -> None:
    inserted = await messages.insert_model(message("ref-1"))
    recipient_before, updated_before = inserted.recipient, inserted.updated_at

    updated = await messages.update(
        inserted.id, MessageUpdate(body="New body")
    )

    assert updated is not None
    assert (updated.body, updated.recipient) == ("New body", recipient_before)
    # the trigger ran, and RETURNING brought it back
    assert updated.updated_at > updated_before


# --8<-- [end:test_update_exclude_unset]


async def test_update_of_a_missing_row_returns_none(
    messages: MessagesTable,
) -> None:
    assert await messages.update(uuid.uuid4(), MessageUpdate(body="x")) is None


async def test_update_with_nothing_set_writes_nothing_and_still_skips_deleted_rows(
    messages: MessagesTable,
) -> None:
    live = await messages.insert_model(message("ref-1"))
    deleted = await messages.insert_model(message("ref-2"))
    await messages.soft_delete(deleted.id)
    # the API answers such a body with a 422; other callers may send it
    nothing = MessageUpdate.model_construct()

    unchanged = await messages.update(live.id, nothing)

    assert unchanged is not None
    # no UPDATE ran, so the trigger did not either
    assert unchanged.updated_at == unchanged.created_at
    assert await messages.update(deleted.id, nothing) is None


async def test_update_model_flushes_changes(
    messages: MessagesTable, session: AsyncSession
) -> None:
    inserted = await messages.insert_model(message("ref-1"))
    inserted.body = "Edited in place"

    await messages.update_model(inserted)
    # forget the object, so the next read comes from the database
    session.expunge_all()

    reloaded = await messages.first_or_default(inserted.id)
    assert reloaded is not None
    assert reloaded.body == "Edited in place"


async def test_delete_removes_live_and_soft_deleted_rows(
    messages: MessagesTable,
) -> None:
    live = await messages.insert_model(message("ref-1"))
    soft = await messages.insert_model(message("ref-2"))
    await messages.soft_delete(soft.id)

    assert await messages.delete(live.id)
    assert await messages.delete(soft.id)
    assert not await messages.delete(soft.id)
    assert await messages.all_count(include_deleted=True) == 0


async def test_soft_delete_of_a_missing_row_returns_false(
    messages: MessagesTable,
) -> None:
    assert not await messages.soft_delete(uuid.uuid4())


async def test_rows_of_one_transaction_share_created_at_and_are_ordered_by_id(
    messages: MessagesTable,
) -> None:
    inserted = [
        await messages.insert_model(message(f"same-transaction-{index}"))
        for index in range(5)
    ]

    page = await messages.all_by()

    # `now()` is the transaction's start time
    assert len({row.created_at for row in inserted}) == 1
    # not the insertion order
    assert [row.id for row in page.items] == sorted(row.id for row in inserted)


def test_cursor_round_trip_and_rejection() -> None:
    cursor = Cursor(
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) + timedelta(microseconds=7),
        uuid.uuid4(),
    )

    assert Cursor.decode(cursor.encode()) == cursor
    with pytest.raises(ValueError, match="not a cursor"):
        Cursor.decode("@@@")


async def soft_deleted_days_ago(
    messages: MessagesTable, ref: str, days: int
) -> Message:
    inserted = await messages.insert_model(message(ref))
    inserted.deleted_at = datetime.now(UTC) - timedelta(days=days)
    return await messages.update_model(inserted)


# --8<-- [start:test_purge_deleted]
async def test_purge_removes_only_rows_deleted_before_the_cutoff(
    messages: MessagesTable,
) -> None:
    live = await messages.insert_model(message("live"))
    recent = await soft_deleted_days_ago(messages, "recent", days=1)
    for index in range(3):
        await soft_deleted_days_ago(messages, f"old-{index}", days=40)
    cutoff = datetime.now(UTC) - timedelta(days=30)

    # the oldest two
    assert await messages.purge_deleted(before=cutoff, batch_size=2) == 2
    assert await messages.purge_deleted(before=cutoff, batch_size=2) == 1
    assert await messages.purge_deleted(before=cutoff, batch_size=2) == 0

    remaining = await messages.all_by(include_deleted=True)
    assert {row.id for row in remaining.items} == {live.id, recent.id}


# --8<-- [end:test_purge_deleted]


async def test_purge_rejects_an_empty_batch(messages: MessagesTable) -> None:
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        await messages.purge_deleted(before=datetime.now(UTC), batch_size=0)


async def wait_for_a_blocked(
    connection: AsyncConnection, statement: str
) -> None:
    """Wait until another backend waits for a lock in `statement`; a new
    transaction per look.
    """
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND query LIKE :start"
    )
    for _ in range(300):
        found = await connection.scalar(waiting, {"start": f"{statement}%"})
        await connection.rollback()
        if found:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {statement} waited for a lock")


# --8<-- [start:test_purge_deleted_messages]
async def test_purge_job_commits_batch_after_batch(
    committed_session: AsyncSession, engine: AsyncEngine
) -> None:
    messages = MessagesTable(committed_session, OWNER)
    rows = [
        await soft_deleted_days_ago(messages, f"old-{index}", days=40 - index)
        for index in range(5)
    ]
    # the job starts with no transaction open, as in production
    await committed_session.commit()
    ids = [row.id for row in rows]
    async with engine.connect() as holder, engine.connect() as observer:
        # Another transaction locks the most recently deleted row: the job
        # stops at its last batch.
        await holder.execute(
            select(col(Message.id))
            .where(col(Message.id) == ids[-1])
            .with_for_update()
        )
        job = asyncio.create_task(
            purge_deleted_messages(
                committed_session, older_than=timedelta(days=30), batch_size=2
            )
        )
        try:
            await wait_for_a_blocked(observer, "DELETE FROM messages")
            left = await observer.scalar(
                select(func.count()).where(col(Message.id).in_(ids))
            )
        finally:
            await holder.rollback()
            purged = await job

    assert (
        left == 1
        # a second connection saw the first two batches committed while the job
        # ran
    )
    assert purged == 5
    assert await messages.all_count(include_deleted=True) == 0


# --8<-- [end:test_purge_deleted_messages]
