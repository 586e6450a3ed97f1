"""The application factory: `uvicorn --factory app.main:create_app`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.api import root_router
from app.api.database_errors import add_database_error_handlers
from app.api.middleware.stack import add_middleware_stack
from app.api.openapi import ServiceAPI, operation_id
from app.api.problem_details import add_problem_handlers
from app.celery_app import celery_app
from app.core.config import get_settings
from app.core.logging import configure_logging
from app.core.metrics import (
    add_request_metrics,
    configure_metrics,
    observe_database_pool,
    observe_queue_depth,
)
from app.core.sentry import configure_sentry
from app.core.tracing import (
    configure_tracing,
    instrument_app,
    instrument_celery,
    instrument_engine,
    instrument_redis,
)
from app.db.database import create_engine, create_session_factory
from app.db.redis import create_redis


# --8<-- [start:lifespan]
class AppState(TypedDict):
    """What the lifespan hands to every request as `request.state`."""

    session_factory: async_sessionmaker[AsyncSession]
    redis: Redis


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[AppState]:
    """Open the pools before the first request; close them after the last."""
    settings = get_settings()
    engine = create_engine(settings)
    instrument_engine(engine, app.state.tracer_provider)
    redis = create_redis(settings)
    instrument_redis(redis, app.state.tracer_provider)
    # the tasks it enqueues carry the request's trace
    instrument_celery(app.state.tracer_provider)
    observe_database_pool(engine, app.state.meter_provider)
    observe_queue_depth(
        settings, celery_app.conf.task_default_queue, app.state.meter_provider
    )
    try:
        yield {
            "session_factory": create_session_factory(engine),
            "redis": redis,
        }
    finally:
        await redis.aclose()
        await engine.dispose()
        if app.state.tracer_provider is not None:
            # Export the last batch now: uvicorn ends by re-raising SIGTERM,
            # which skips `atexit`.
            app.state.tracer_provider.shutdown()
        if app.state.meter_provider is not None:
            # the same for the metrics: one last collection, exported
            app.state.meter_provider.shutdown()


# --8<-- [end:lifespan]


# --8<-- [start:create_app]
def create_app() -> FastAPI:
    """Build a new application; tests call this for a fresh instance each
    time.
    """
    settings = get_settings()
    configure_logging(settings)
    configure_sentry(settings)
    # FastAPI, with problems filed under application/problem+json in the
    # OpenAPI document
    app = ServiceAPI(
        title="Reference service",
        version="1.0.0",
        lifespan=lifespan,
        redoc_url=None,
        # `messaging-create_message`: stable client method names
        generate_unique_id_function=operation_id,
    )
    add_problem_handlers(app)
    # a statement PostgreSQL cancelled at a time limit is a 503
    add_database_error_handlers(app)
    # the order of the layers is set in there, in one place
    add_middleware_stack(app, settings)
    app.include_router(root_router)
    # None while tracing is off
    app.state.tracer_provider = configure_tracing(settings)
    instrument_app(app, app.state.tracer_provider)
    # None while metrics are off
    app.state.meter_provider = configure_metrics(settings)
    add_request_metrics(app, app.state.meter_provider)
    return app


# --8<-- [end:create_app]
