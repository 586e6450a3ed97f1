"""The application factory: a new application per call, plain ASGI middleware,
every route registered in one place.
"""

import asyncio
from contextvars import Context, ContextVar

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from httpx import ASGITransport, AsyncClient
from starlette.middleware.base import (
    BaseHTTPMiddleware,
    RequestResponseEndpoint,
)
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import main as factory_module
from app.api.auth import get_current_principal
from app.db.database import get_session
from app.main import create_app

PUBLIC_PATHS = {
    "/livez",
    "/readyz",
    "/docs",
    "/docs/oauth2-redirect",
    "/openapi.json",
}


def test_each_create_app_call_builds_its_own_application(app: FastAPI) -> None:
    # The `app` fixture changed its application (it overrides `get_session`)
    # and adds a route here:
    app.add_api_route("/only-in-this-test", lambda: None)

    fresh = create_app()

    assert get_session in app.dependency_overrides
    # nothing a test changed reaches the next application
    assert fresh.dependency_overrides == {}
    assert "/only-in-this-test" not in {
        getattr(route, "path", None) for route in fresh.routes
    }
    # and importing the module builds none that tests could share:
    assert [
        name
        for name, value in vars(factory_module).items()
        if isinstance(value, FastAPI)
    ] == []


# Set by the endpoint of the bare applications below, read by their middleware
# after the response.
seen_by_endpoint: ContextVar[str] = ContextVar(
    "seen_by_endpoint", default="unset"
)


async def endpoint_sets_the_variable() -> dict[str, str]:
    seen_by_endpoint.set("set by the endpoint")
    return {"task": str(id(asyncio.current_task()))}


class PlainAsgiMiddleware:
    """The form the service's middleware take: a `__call__` that wraps
    `send`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send
    ) -> None:
        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-task", str(id(asyncio.current_task())).encode()),
                    (b"x-seen", seen_by_endpoint.get().encode()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_header)


class HeaderMiddleware(BaseHTTPMiddleware):
    """The same headers, written the way the service does not."""

    async def dispatch(
        self, request: Request, call_next: RequestResponseEndpoint
    ) -> Response:
        response = await call_next(request)
        response.headers["x-task"] = str(id(asyncio.current_task()))
        response.headers["x-seen"] = seen_by_endpoint.get()
        response.headers["x-streamed"] = str(
            not isinstance(response, JSONResponse)
            and hasattr(response, "body_iterator")
        )
        return response


async def answer_through(
    middleware: type[PlainAsgiMiddleware | HeaderMiddleware],
) -> httpx.Response:
    """One request to a bare application, in an empty context, as a server
    starts each request.
    """
    bare = FastAPI()
    bare.add_api_route("/", endpoint_sets_the_variable)
    bare.add_middleware(middleware)

    async def get() -> httpx.Response:
        async with AsyncClient(
            transport=ASGITransport(app=bare), base_url="http://test"
        ) as client:
            return await client.get("/")

    return await asyncio.create_task(get(), context=Context())


async def test_base_http_middleware_runs_the_endpoint_in_another_task_and_loses_its_context() -> (
    None
):
    plain = await answer_through(PlainAsgiMiddleware)
    based = await answer_through(HeaderMiddleware)

    # one task, one context
    assert plain.headers["x-task"] == plain.json()["task"]
    assert plain.headers["x-seen"] == "set by the endpoint"
    # the endpoint ran in a task of its own...
    assert based.headers["x-task"] != based.json()["task"]
    # ...so what it set in a context variable is gone
    assert based.headers["x-seen"] == "unset"
    # and its JSON answer came back as a stream to relay
    assert based.headers["x-streamed"] == "True"


def test_the_services_middleware_are_plain_asgi_classes(app: FastAPI) -> None:
    layers = [middleware.cls for middleware in app.user_middleware]

    # `@app.middleware("http")` would add a BaseHTTPMiddleware here too
    assert layers
    assert [
        layer
        for layer in layers
        if isinstance(layer, type) and issubclass(layer, BaseHTTPMiddleware)
    ] == []


def depends_on(dependant: Dependant, call: object) -> bool:
    return any(
        sub.call is call or depends_on(sub, call)
        for sub in dependant.dependencies
    )


def test_every_route_but_the_probes_and_docs_is_under_api_v1_behind_the_token(
    app: FastAPI,
) -> None:
    # The application's own routes, as mounted: a router included anywhere but
    # `app/api/api.py` shows up here without the prefix or without the token
    # check.
    routes = {
        str(context.path): context.dependant
        for context in iter_route_contexts(app.routes)
        # the docs pages are plain routes, with no dependencies
        if isinstance(context.route, APIRoute)
    }
    private = {
        path: dependant
        for path, dependant in routes.items()
        if path not in PUBLIC_PATHS
    }

    assert "/api/v1/webhooks" in private
    assert [path for path in private if not path.startswith("/api/v1/")] == []
    assert [
        path
        for path, dependant in private.items()
        if not depends_on(dependant, get_current_principal)
    ] == []
