"""Optimistic locking over HTTP: a row's `version` goes out as the `ETag`, and an update must send it
back in `If-Match`."""

import re
from http import HTTPStatus
from typing import Annotated

from fastapi import Depends, Header

from app.api.problem_details import PROBLEM_JSON, Problem
from app.core.errors import PreconditionRequiredError

# --8<-- [start:etag_if_match]
STRONG_ETAG = re.compile(r'"(\d{1,9})"')
"""The ETags this API sends: the version in quotes. A weak one (`W/"3"`) never matches `If-Match`."""


def etag(version: int) -> str:
    """The `ETag` header value of a row at this version."""
    return f'"{version}"'


def if_match_versions(
    if_match: Annotated[str | None, Header(description="The `ETag` of the version you read, or `*` for any.")] = None,
) -> frozenset[int] | None:
    """The versions an update may change: those `If-Match` names, or `None` (any) for `*`.

    Raises:
        PreconditionRequiredError: no `If-Match` header: the update could overwrite a change it never saw.
    """
    if if_match is None:
        raise PreconditionRequiredError("send the ETag of the version you read in If-Match, or * for any")
    if if_match.strip() == "*":
        return None
    tags = (tag.strip() for tag in if_match.split(","))
    return frozenset(int(match[1]) for tag in tags if (match := STRONG_ETAG.fullmatch(tag)))


IfMatchVersions = Annotated[frozenset[int] | None, Depends(if_match_versions)]

ETAG_HEADER = {
    "ETag": {"description": "The version of the resource; send it back in `If-Match`.", "schema": {"type": "string"}}
}

VERSIONED_UPDATE_RESPONSES: dict[int | str, dict[str, object]] = {
    HTTPStatus.OK.value: {"headers": ETAG_HEADER},
    **{
        code.value: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": code.phrase}
        for code in (
            HTTPStatus.PRECONDITION_FAILED,  # `If-Match` names another version
            HTTPStatus.PRECONDITION_REQUIRED,  # no `If-Match`
            HTTPStatus.SERVICE_UNAVAILABLE,  # still deadlocked or not serializable after the last retry
        )
    },
}
"""Documents an update that takes `If-Match` in OpenAPI."""
# --8<-- [end:etag_if_match]
