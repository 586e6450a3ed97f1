"""A statement PostgreSQL cancelled at one of the service's time limits,
answered as 503.
"""

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from loguru import logger
from sqlalchemy.exc import DBAPIError

from app.api.problem_details import Problem, problem_response

# --8<-- [start:database_timeout_handler]
CANCELLED_AT_A_LIMIT = {"57014": "statement_timeout", "55P03": "lock_timeout"}
"""SQLSTATEs of a statement the server cancelled (query_canceled,
lock_not_available), by the setting that did it.
"""

RETRY_AFTER_SECONDS = 1
"""What the 503 tells a client to wait: a lock is usually released by then; a
query slow on its own stays slow.
"""


async def database_timeout_handler(
    request: Request, exc: Exception
) -> JSONResponse:
    """Answer 503 with `Retry-After` when PostgreSQL cancelled the statement;
    any other database error is a 500.

    Not 504: that status says a gateway's upstream did not answer, and load
    balancers send it for their own timeouts; here the service itself gave up,
    and the transaction was rolled back whole.
    """
    assert isinstance(exc, DBAPIError)
    limit = CANCELLED_AT_A_LIMIT.get(getattr(exc.orig, "sqlstate", None) or "")
    # 57014 is also pg_cancel_backend's "canceling statement due to user
    # request": only the message tells them apart.
    if limit is None or (
        limit == "statement_timeout"
        and "statement timeout" not in str(exc.orig)
    ):
        raise exc  # not a timeout: the 500 handler logs it and answers
    logger.warning(
        "database statement cancelled by {limit} on {path}",
        limit=limit,
        path=request.url.path,
    )
    problem = Problem(
        title="Service Unavailable",
        status=HTTPStatus.SERVICE_UNAVAILABLE,
        detail=(
            "The database did not finish in time. Nothing was changed; retry"
            " later."
        ),
    )
    return problem_response(
        request, problem, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


def add_database_error_handlers(app: FastAPI) -> None:
    """Register `database_timeout_handler` for every database error."""
    app.add_exception_handler(DBAPIError, database_timeout_handler)


# --8<-- [end:database_timeout_handler]
