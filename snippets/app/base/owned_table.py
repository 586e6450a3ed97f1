"""`OwnedTable`: a `BaseTable` that reads and writes only the rows of one
principal.
"""

import enum
from typing import Final

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.base.base_entity import BaseEntity
from app.base.base_table import BaseTable


# --8<-- [start:owned_entity]
class OwnedEntity(BaseEntity):
    """A row that belongs to one principal: the subject of the token that
    created it.
    """

    owner: str | None = None
    """Set by `OwnedTable.insert_model`, never by a client. `None` only on a
    row from before ownership, which no principal can reach."""


class EveryOwner(enum.Enum):
    """The type of `EVERY_OWNER`, so a type checker tells it from an owner's
    name.
    """

    EVERY_OWNER = "every owner"


EVERY_OWNER: Final = EveryOwner.EVERY_OWNER
"""For jobs that act for no principal (purging, delivering).
`test_code_rules.py` keeps it out of services and endpoints."""
# --8<-- [end:owned_entity]


# --8<-- [start:owned_table]
class OwnedTable[ModelT: OwnedEntity](BaseTable[ModelT]):
    """Data access for the rows of one owner: every read and write adds `owner
    = :owner`.

    The owner is a required argument, as `BaseTable` adds `deleted_at IS NULL`
    unasked: a query written without thinking of ownership still sees only the
    caller's rows.
    """

    def __init__(self, session: AsyncSession, owner: str | EveryOwner) -> None:
        super().__init__(session)
        self.owner = owner

    async def insert_model(self, model: ModelT) -> ModelT:
        """Insert `model` as the owner's, whatever owner it carried."""
        if self.owner is not EVERY_OWNER:
            model.owner = self.owner
        return await super().insert_model(model)

    def _scope(self) -> list[ColumnElement[bool]]:
        if self.owner is EVERY_OWNER:
            return []
        return [col(self.model.owner) == self.owner]


# --8<-- [end:owned_table]
