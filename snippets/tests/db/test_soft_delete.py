"""Why the soft-delete filter lives in `BaseTable`'s SQL, not in each query or
in Python.
"""

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.db.message.model import Channel, Message
from app.db.message.table import MessagesTable
from tests.principals import OWNER


async def insert_three_and_delete_the_first(
    messages: MessagesTable,
) -> Message:
    """Three messages; the first in list order is soft-deleted and returned."""
    for ref in ("soft-1", "soft-2", "soft-3"):
        await messages.insert_model(
            Message(
                channel=Channel.SMS,
                recipient="+15550100",
                body="Hi",
                client_ref=ref,
            )
        )
    # One transaction gives the three rows one `created_at`, so the list order
    # falls to `id`.
    first = (await messages.all(limit=1)).items[0]
    assert await messages.soft_delete(first.id)
    return first


async def test_a_query_that_leaves_out_the_filter_returns_soft_deleted_rows(
    session: AsyncSession,
) -> None:
    messages = MessagesTable(session, OWNER)
    gone = await insert_three_and_delete_the_first(messages)

    written_by_hand = (
        await session.execute(
            select(Message).where(col(Message.id) == gone.id)
        )
    ).scalars()

    assert list(written_by_hand) == [gone]  # the deleted row is back
    # the table's reads leave it out
    assert await messages.first_or_default(gone.id) is None


async def test_a_page_filtered_in_python_after_loading_comes_back_short(
    session: AsyncSession,
) -> None:
    messages = MessagesTable(session, OWNER)
    await insert_three_and_delete_the_first(messages)

    loaded = await messages.all_by(limit=2, include_deleted=True)
    filtered_in_python = [
        row for row in loaded.items if row.deleted_at is None
    ]
    filtered_in_sql = await messages.all(limit=2)

    # a page of 2 asked for, 1 shown, and a third row is live
    assert len(filtered_in_python) == 1
    assert len(filtered_in_sql.items) == 2
