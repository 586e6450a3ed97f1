"""Optimistic locking over HTTP: a row's `version` goes out as the `ETag`, and
an update must send it back in `If-Match`."""

import re
from typing import Annotated

from fastapi import Depends, Header

from app.core.errors import PreconditionRequiredError

# --8<-- [start:etag_if_match]
STRONG_ETAG = re.compile(r'"(\d{1,9})"')
"""The ETags this API sends: the version in quotes. A weak one (`W/"3"`) never
matches `If-Match`.
"""


def etag(version: int) -> str:
    """The `ETag` header value of a row at this version."""
    return f'"{version}"'


def if_match_versions(
    if_match: Annotated[
        str | None,
        Header(
            description="The `ETag` of the version you read, or `*` for any."
        ),
    ] = None,
) -> frozenset[int] | None:
    """The versions an update may change: those `If-Match` names, or `None`
    (any) for `*`.

    Raises:
        PreconditionRequiredError: no `If-Match` header: the update could
            overwrite a change it never saw.
    """
    if if_match is None:
        raise PreconditionRequiredError(
            "send the ETag of the version you read in If-Match, or * for any"
        )
    if if_match.strip() == "*":
        return None
    tags = (tag.strip() for tag in if_match.split(","))
    return frozenset(
        int(match[1]) for tag in tags if (match := STRONG_ETAG.fullmatch(tag))
    )


IfMatchVersions = Annotated[frozenset[int] | None, Depends(if_match_versions)]

ETAG_HEADER = {
    "ETag": {
        "description": (
            "The version of the resource; send it back in `If-Match`."
        ),
        "schema": {"type": "string"},
    }
}

"""Documents an update that takes `If-Match` in OpenAPI."""
# --8<-- [end:etag_if_match]
