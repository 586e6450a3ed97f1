"""The middleware around every route, in one place, because their order is part
of their behaviour.
"""

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.errors import ServerErrorMiddleware

from app.api.middleware.body_size import (
    BodySizeLimitMiddleware,
    ContentTooLarge,
    content_too_large_handler,
)
from app.api.middleware.request_id import (
    REQUEST_ID_HEADER,
    RequestIdMiddleware,
)
from app.api.middleware.security_headers import SecurityHeadersMiddleware
from app.api.problem_details import unexpected_error_handler
from app.core.config import Settings


# --8<-- [start:middleware_stack]
def add_middleware_stack(app: FastAPI, settings: Settings) -> None:
    """Wrap the routes, innermost layer first: each `add_middleware` call wraps
    all earlier ones.
    """
    # 4. Innermost: an unhandled exception becomes the 500 problem here, so the
    #    layers below add their headers to it too. The exception is re-raised,
    #    so the server and Sentry still see it.
    app.add_middleware(ServerErrorMiddleware, handler=unexpected_error_handler)
    # 4a. An oversized body is refused before the app reads it; the headers of
    # the layers below reach the 413.
    app.add_middleware(
        BodySizeLimitMiddleware, max_body_bytes=settings.max_request_body_bytes
    )
    # the limit passed while reading
    app.add_exception_handler(ContentTooLarge, content_too_large_handler)
    # 3. CORS headers on every answer to an allowed origin, 401 and 500
    #    included; preflights end here.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_allow_origins,
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "Idempotency-Key",
            REQUEST_ID_HEADER,
        ],
        expose_headers=["Location", "ETag", "Retry-After", REQUEST_ID_HEADER],
        # bearer tokens travel in a header, never in cookies
        allow_credentials=False,
    )
    # 2. Security headers on everything below, preflight answers included.
    app.add_middleware(
        SecurityHeadersMiddleware,
        docs_paths=[app.docs_url, app.swagger_ui_oauth2_redirect_url],
    )
    # 1. Outermost: the request id is known before anything else runs or logs.
    app.add_middleware(RequestIdMiddleware)


# --8<-- [end:middleware_stack]
