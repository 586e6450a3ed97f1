"""Liveness and readiness probes for the orchestrator."""

import asyncio
from http import HTTPStatus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.problem_details import Problem, problem_response
from app.core.config import get_settings
from app.db.database import SessionDep

router = APIRouter(tags=["health"])


# --8<-- [start:health_points]
@router.get("/livez")
async def livez() -> dict[str, str]:
    """The process answers. No I/O: a slow database must not get healthy pods restarted."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request, session: SessionDep) -> dict[str, str] | JSONResponse:
    """Ready for traffic: the database answers `SELECT 1` within the timeout, else 503."""
    try:
        async with asyncio.timeout(get_settings().readiness_timeout_seconds):
            await session.execute(text("SELECT 1"))
    except (OSError, TimeoutError) as error:
        problem = Problem(
            title="Service Unavailable",
            status=HTTPStatus.SERVICE_UNAVAILABLE,
            detail=f"database: {type(error).__name__}",
        )
        return problem_response(request, problem)
    return {"status": "ok"}


# --8<-- [end:health_points]
