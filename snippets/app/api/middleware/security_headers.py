"""Browser hardening headers on every response, errors included."""

from collections.abc import Collection

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# --8<-- [start:security_headers]
API_CSP = "default-src 'none'; frame-ancestors 'none'"
"""The API returns JSON: nothing may load, run or frame it."""

DOCS_CSP = (
    "default-src 'none'; "
    # Swagger UI's bundle and its inline start-up script
    "script-src https://cdn.jsdelivr.net 'unsafe-inline'; "
    "style-src https://cdn.jsdelivr.net; "
    "img-src https://fastapi.tiangolo.com data:; "
    # fetches /openapi.json and sends "Try it out" requests
    "connect-src 'self'; "
    "frame-ancestors 'none'"
)
"""Only for the Swagger UI page: it loads its code from a CDN, so the API's CSP
would blank it.
"""

SECURITY_HEADERS = {
    # two years; browsers ignore it over http
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
"""Sent on every response. No `X-XSS-Protection`: browsers removed that filter,
and its `1` opened leaks.
"""


class SecurityHeadersMiddleware:
    """Add the security headers and a CSP: `DOCS_CSP` on the `docs_paths`,
    `API_CSP` everywhere else.
    """

    def __init__(
        self, app: ASGIApp, docs_paths: Collection[str | None] = ()
    ) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] in self.docs_paths else API_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(SECURITY_HEADERS)
                headers["Content-Security-Policy"] = csp
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --8<-- [end:security_headers]
