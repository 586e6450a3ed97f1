"""Liveness and readiness probes for the orchestrator."""

import asyncio
from collections.abc import Awaitable
from http import HTTPStatus

from asyncpg import PostgresError
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.utils import suppress_instrumentation
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.api.problem_details import (
    Problem,
    problem_response,
    problem_responses,
)
from app.core.config import get_settings
from app.db.database import SessionDep
from app.db.redis import RedisDep

router = APIRouter(tags=["health"])


# --8<-- [start:health_points]
@router.get("/livez")
async def livez() -> dict[str, str]:
    """The process answers. No I/O: a slow database must not get healthy pods
    restarted.
    """
    return {"status": "ok"}


@router.get("/readyz", response_model=None, responses=problem_responses(503))
async def readyz(
    request: Request, session: SessionDep, redis: RedisDep
) -> dict[str, str] | JSONResponse:
    """Ready for traffic: PostgreSQL and Redis each answer within the timeout,
    else 503.
    """
    # Probes are not traced (`PROBE_URLS`), and neither are their checks:
    # outside a request's span, each `SELECT 1` and `PING` would be a trace of
    # its own, from every pod, all day.
    with suppress_instrumentation():
        checks = {
            "database": session.execute(text("SELECT 1")),
            "redis": redis.ping(),
        }
        outcomes = await asyncio.gather(*map(within_timeout, checks.values()))
    failures = [
        f"{name}: {type(error).__name__}"
        for name, error in zip(checks, outcomes, strict=True)
        if error is not None
    ]
    if failures:
        problem = Problem(
            title="Service Unavailable",
            status=HTTPStatus.SERVICE_UNAVAILABLE,
            detail="; ".join(failures),
        )
        return problem_response(request, problem)
    return {"status": "ok"}


async def within_timeout(check: Awaitable[object]) -> Exception | None:
    """Run one check; return what went wrong instead of raising, so every check
    reports.
    """
    try:
        async with asyncio.timeout(get_settings().readiness_timeout_seconds):
            await check
    except (
        OSError,
        TimeoutError,
        RedisError,
        PostgresError,
        DBAPIError,
    ) as error:
        # Unreachable, silent, or answering "no": asyncpg raises its
        # `PostgresError` for a refusal while connecting (no such database or
        # user, wrong password, too many connections, starting up); SQLAlchemy
        # wraps what fails on a connection it already holds in `DBAPIError`.
        return error
    return None


# --8<-- [end:health_points]
