"""`OwnedTable` through `MessagesTable`: every method, called for another
owner, finds and changes nothing.
"""

import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.messaging.models import MessageUpdate
from app.base.owned_table import EVERY_OWNER
from app.core.errors import NotFoundError
from app.db.message.model import Channel, Message
from app.db.message.table import MessagesTable
from tests.principals import OTHER_OWNER, OWNER


def new_message(ref: str, owner: str | None = None) -> Message:
    return Message(
        channel=Channel.SMS,
        recipient="+15550100",
        body="Hi",
        client_ref=ref,
        owner=owner,
    )


def state(row: Message | None) -> tuple[object, ...]:
    assert row is not None
    return row.owner, row.body, row.updated_at, row.deleted_at


# --8<-- [start:test_owned_table]
# Each public method of the table, called by another owner on the owner's row;
# each must find nothing.
async def _missing(call: Awaitable[Message]) -> Message | None:
    """None where the method answers a missing row with `NotFoundError` (the
    404 a route sends).
    """
    try:
        return await call
    except NotFoundError:
        return None


ANOTHER_OWNERS_CALLS: dict[
    str, Callable[[MessagesTable, Message], Awaitable[object]]
] = {
    "first_or_default": lambda table, row: table.first_or_default(
        row.id, include_deleted=True
    ),
    "first_by": lambda table, row: table.first_by(
        client_ref=row.client_ref, include_deleted=True
    ),
    "all": lambda table, row: table.all(),
    "all_by": lambda table, row: table.all_by(include_deleted=True),
    "all_count": lambda table, row: table.all_count(include_deleted=True),
    "update": lambda table, row: table.update(
        row.id, MessageUpdate(body="Changed")
    ),
    "update_at_version": lambda table, row: _missing(
        table.update_at_version(row.id, MessageUpdate(body="x"), versions=None)
    ),
    "soft_delete": lambda table, row: table.soft_delete(row.id),
    "delete": lambda table, row: table.delete(row.id),
    "purge_deleted": lambda table, row: table.purge_deleted(
        before=datetime.now(UTC) + timedelta(days=1)
    ),
    "with_deliveries": lambda table, row: table.with_deliveries([row.id]),
}
FINDS_NOTHING: tuple[object, ...] = (None, False, 0, [])


@pytest.mark.parametrize("method", sorted(ANOTHER_OWNERS_CALLS))
async def test_another_owner_finds_and_changes_nothing(
    session: AsyncSession, method: str
) -> None:
    owners = MessagesTable(session, OWNER)
    row = await owners.insert_model(new_message("owned-1"))
    # it removes only soft-deleted rows: give it one to refuse
    if method == "purge_deleted":
        assert await owners.soft_delete(row.id)
    before = state(await owners.first_or_default(row.id, include_deleted=True))

    found = await ANOTHER_OWNERS_CALLS[method](
        MessagesTable(session, OTHER_OWNER), row
    )

    assert getattr(found, "items", found) in FINDS_NOTHING
    # read the row again from the database, not from the session's identity map
    session.expunge_all()
    assert (
        state(await owners.first_or_default(row.id, include_deleted=True))
        == before
    )


def test_every_public_method_of_the_table_is_in_the_test() -> None:
    """A method added to the table later fails here until the test above calls
    it for another owner.
    """
    public = {
        name
        for name, _ in inspect.getmembers(
            MessagesTable, inspect.iscoroutinefunction
        )
    }
    # No lookup by id: they write the row they are given
    # (`test_insert_sets_the_owner_whatever_the_model_carried`).
    writes_a_given_row = {"insert_model", "update_model"}
    assert {name for name in public if not name.startswith("_")} == set(
        ANOTHER_OWNERS_CALLS
    ) | writes_a_given_row


# --8<-- [end:test_owned_table]


async def test_insert_sets_the_owner_whatever_the_model_carried(
    session: AsyncSession,
) -> None:
    row = await MessagesTable(session, OWNER).insert_model(
        new_message("owned-2", owner=OTHER_OWNER)
    )

    assert row.owner == OWNER
    assert (
        await MessagesTable(session, OTHER_OWNER).first_or_default(row.id)
        is None
    )


async def test_a_job_for_every_owner_reaches_every_owners_rows(
    session: AsyncSession,
) -> None:
    mine = await MessagesTable(session, OWNER).insert_model(
        new_message("owned-3")
    )
    theirs = await MessagesTable(session, EVERY_OWNER).insert_model(
        new_message("owned-4", owner=OTHER_OWNER)
    )

    # kept: a table for every owner has none of its own to set
    assert theirs.owner == OTHER_OWNER
    found = await MessagesTable(session, EVERY_OWNER).all_by(
        client_ref=mine.client_ref
    )
    assert [row.id for row in found.items] == [mine.id]
    assert (
        await MessagesTable(session, EVERY_OWNER).first_or_default(theirs.id)
        is not None
    )
