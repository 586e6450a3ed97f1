"""RFC 9457 problem details: one response shape for every error the API
returns.
"""

from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from loguru import logger
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import (
    ConflictError,
    ContentionError,
    DomainError,
    IdempotencyKeyReusedError,
    NotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
)

PROBLEM_JSON = "application/problem+json"


# --8<-- [start:problem_model]
class FieldProblem(BaseModel):
    """One invalid input: where it is and what is wrong with it."""

    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldProblem] | None = None


def problem_responses(*codes: int) -> dict[int | str, dict[str, object]]:
    """`responses=problem_responses(404, 409)`: each status in OpenAPI, its
    body a `Problem`.

    A route lists every error it can send; documenting one more is one more
    number here. `ServiceAPI` (`app/api/openapi.py`) files the schema under
    `application/problem+json`.
    """
    return {
        code: {"model": Problem, "description": HTTPStatus(code).phrase}
        for code in codes
    }


# --8<-- [end:problem_model]


# --8<-- [start:problem_handlers]
STATUS_BY_ERROR: dict[type[DomainError], HTTPStatus] = {
    NotFoundError: HTTPStatus.NOT_FOUND,
    ConflictError: HTTPStatus.CONFLICT,
    # the IETF draft's status for a key reused with another body
    IdempotencyKeyReusedError: HTTPStatus(422),
    PreconditionFailedError: HTTPStatus.PRECONDITION_FAILED,
    PreconditionRequiredError: HTTPStatus.PRECONDITION_REQUIRED,
    ContentionError: HTTPStatus.SERVICE_UNAVAILABLE,
}


def problem_response(
    request: Request,
    problem: Problem,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Render a problem with its media type and the request path as
    `instance`.
    """
    problem.instance = request.url.path
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


async def domain_error_handler(
    request: Request, exc: Exception
) -> JSONResponse:
    """Map a domain error to its status; an unmapped subclass is a plain
    400.
    """
    assert isinstance(exc, DomainError)
    code = next(
        (
            STATUS_BY_ERROR[cls]
            for cls in type(exc).__mro__
            if cls in STATUS_BY_ERROR
        ),
        HTTPStatus.BAD_REQUEST,
    )
    fields = exc.fields if isinstance(exc, ConflictError) else ()
    errors = [
        FieldProblem(field=name, message="already taken") for name in fields
    ] or None
    return problem_response(
        request,
        Problem(
            title=exc.title, status=code, detail=exc.detail, errors=errors
        ),
    )


async def validation_error_handler(
    request: Request, exc: Exception
) -> JSONResponse:
    """Answer 422 and name every invalid field, as `body.channel` or
    `query.limit`.
    """
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldProblem(
            field=".".join(str(part) for part in error["loc"]),
            message=error["msg"],
        )
        for error in exc.errors()
    ]
    problem = Problem(
        title="Invalid request",
        status=422,  # HTTPStatus names it differently before Python 3.13
        detail=f"{len(errors)} invalid field(s)",
        errors=errors,
    )
    return problem_response(request, problem)


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Routing and protocol errors (unknown path, wrong method) as problems
    too.
    """
    assert isinstance(exc, StarletteHTTPException)
    code = HTTPStatus(exc.status_code)
    detail = exc.detail if exc.detail != code.phrase else None
    problem = Problem(title=code.phrase, status=code, detail=detail)
    return problem_response(request, problem, headers=exc.headers)


# --8<-- [start:log_unexpected_error]
async def unexpected_error_handler(
    request: Request, exc: Exception
) -> JSONResponse:
    """Log the real cause; tell the client only that it was our fault."""
    logger.opt(exception=exc).error(
        "unhandled error on {path}", path=request.url.path
    )
    problem = Problem(
        title="Internal Server Error", status=HTTPStatus.INTERNAL_SERVER_ERROR
    )
    return problem_response(request, problem)


# --8<-- [end:log_unexpected_error]


# --8<-- [start:register_problem_handlers]
def add_problem_handlers(app: FastAPI) -> None:
    """Register the handlers of expected errors.

    `unexpected_error_handler` is not registered here: as an `Exception`
    handler it would run in Starlette's outermost middleware, outside CORS and
    the security headers. The innermost middleware runs it instead
    (`app/api/middleware/stack.py`).
    """
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)


# --8<-- [end:register_problem_handlers]


# --8<-- [end:problem_handlers]
