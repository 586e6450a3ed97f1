"""Query parameters shared by every list endpoint."""

from typing import Annotated

from fastapi import Depends, Query
from fastapi.exceptions import RequestValidationError

from app.base.base_table import MAX_PAGE_SIZE, Cursor

# --8<-- [start:pagination_params]
LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description="Rows per page")
]


def cursor_query(
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page")
    ] = None,
) -> Cursor | None:
    """Decode the opaque cursor; a forged or truncated one is a 422 on
    `query.cursor`.
    """
    if cursor is None:
        return None
    try:
        return Cursor.decode(cursor)
    except ValueError as error:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "cursor"),
                    "msg": str(error),
                    "input": cursor,
                }
            ]
        ) from error


CursorQuery = Annotated[Cursor | None, Depends(cursor_query)]
# --8<-- [end:pagination_params]
