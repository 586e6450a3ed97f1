"""Refuse a request body over the size limit with 413, before the body is read
whole; close on a body left unread.
"""

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problem_details import Problem, problem_response


# --8<-- [start:body_size_limit]
class ContentTooLarge(HTTPException):
    """Raised from `receive` once the body read so far is over the limit.

    An `HTTPException`, because FastAPI turns any other error raised while it
    reads the body into a 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413)
        self.limit = limit


def content_too_large(request: Request, limit: int) -> JSONResponse:
    """The 413 problem. Its title is RFC 9110's name: Python before 3.13 still
    says "Request Entity Too Large".
    """
    problem = Problem(
        title="Content Too Large",
        status=413,
        detail=f"The request body is larger than {limit} bytes.",
    )
    # Close the connection: otherwise the server would read and discard the
    # rest of the upload.
    return problem_response(request, problem, headers={"Connection": "close"})


async def content_too_large_handler(
    request: Request, exc: Exception
) -> JSONResponse:
    """Answer the `ContentTooLarge` raised while an endpoint was reading its
    body.
    """
    assert isinstance(exc, ContentTooLarge)
    return content_too_large(request, exc.limit)


class BodySizeLimitMiddleware:
    """Refuse a body over `max_body_bytes`: at once when `Content-Length` says
    so, else when the chunks add up to it.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            # The app never runs and no byte of the body is read.
            await content_too_large(Request(scope), self.max_body_bytes)(
                scope, receive, send
            )
            return
        received = 0
        # chunked: only the last chunk says where it ends
        body_may_go_on = "transfer-encoding" in headers

        async def receive_within_limit() -> Message:
            # Counts each chunk as the app pulls it, so a chunked body (no
            # Content-Length) stops at the first chunk past the limit. Nothing
            # here keeps the chunks.
            nonlocal received, body_may_go_on
            message = await receive()
            # an `http.disconnect` has no body: it adds nothing
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                raise ContentTooLarge(self.max_body_bytes)
            body_may_go_on = body_may_go_on and message.get("more_body", False)
            return message

        async def send_closing_an_unread_body(message: Message) -> None:
            # A route that reads no body (a GET, a 404) answers before the
            # chunks end. The server would then read and discard them for as
            # long as the client sends: close instead.
            if message["type"] == "http.response.start" and body_may_go_on:
                answer_headers = MutableHeaders(
                    raw=list(message.get("headers", []))
                )
                answer_headers["connection"] = "close"
                message = {**message, "headers": answer_headers.raw}
            await send(message)

        await self.app(
            scope, receive_within_limit, send_closing_an_unread_body
        )


# --8<-- [end:body_size_limit]
