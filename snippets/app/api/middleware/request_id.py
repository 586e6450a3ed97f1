"""Give every request an id, echo it on the response and put it on every log
line written meanwhile.
"""

import re
import uuid

from loguru import logger
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# --8<-- [start:request_id]
REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
"""What a proxy's id may look like; anything else (too long, spaces, newlines)
would poison the logs.
"""


class RequestIdMiddleware:
    """Keep the caller's `X-Request-ID` when it is well-formed, else make one;
    log and answer with it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send
    ) -> None:
        # lifespan and websocket messages pass untouched
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = (
            incoming
            if VALID_REQUEST_ID.fullmatch(incoming)
            else uuid.uuid4().hex
        )

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        # contextualize() uses a contextvar: concurrent requests each see their
        # own id.
        with logger.contextualize(request_id=request_id):
            await self.app(scope, receive, send_with_request_id)


# --8<-- [end:request_id]
