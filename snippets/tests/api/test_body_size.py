"""The request body limit: an oversized body is refused with a 413 problem
before it is read whole.
"""

import select
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from httpx import ASGITransport, AsyncClient
from starlette.middleware.base import (
    BaseHTTPMiddleware,
    RequestResponseEndpoint,
)
from starlette.responses import PlainTextResponse, Response

from app.api.middleware.stack import add_middleware_stack
from app.api.problem_details import PROBLEM_JSON, add_problem_handlers
from app.base.base_table import MAX_PAGE_SIZE
from app.core.config import Settings
from app.main import create_app

CHUNK = 64 * 1024


class CountingBody:
    """A request body sent in chunks that counts how many the server pulled."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield b"x" * CHUNK


@pytest.fixture
def uploads(app: FastAPI) -> list[int]:
    """The app with one extra route that reads its whole body; returns the
    sizes it received.
    """
    received: list[int] = []

    async def upload(request: Request) -> dict[str, int]:
        received.append(len(await request.body()))
        return {"bytes": received[-1]}

    app.add_api_route("/upload", upload, methods=["POST"])
    return received


def assert_content_too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == {
        "type": "about:blank",
        "title": "Content Too Large",
        "status": 413,
        "detail": f"The request body is larger than {limit} bytes.",
        "instance": "/upload",
    }
    # the layers outside the limit still reach the 413
    assert "x-request-id" in response.headers
    assert response.headers["connection"] == "close"


# --8<-- [start:test_body_size_limit]
async def test_a_declared_oversized_body_is_refused_before_a_byte_is_read(
    client: AsyncClient, uploads: list[int], settings: Settings
) -> None:
    body = CountingBody(chunks=64)
    declared = {
        "Content-Length": str(settings.max_request_body_bytes + 1),
        "Origin": "https://app.test",
    }

    response = await client.post("/upload", content=body, headers=declared)

    assert_content_too_large(response, settings.max_request_body_bytes)
    assert body.pulled == 0  # refused on the header alone
    assert uploads == []  # the endpoint never ran
    # CORS (the settings fixture allows this origin) and the security headers
    # sit outside the limit.
    assert (
        response.headers["access-control-allow-origin"] == "https://app.test"
    )
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(
    client: AsyncClient, uploads: list[int], settings: Settings
) -> None:
    body = CountingBody(chunks=64)  # 4 MiB, sent without Content-Length

    response = await client.post("/upload", content=body)

    assert_content_too_large(response, settings.max_request_body_bytes)
    # up to the first chunk past the limit
    assert body.pulled == settings.max_request_body_bytes // CHUNK + 1
    assert uploads == []  # the endpoint never got a body


# --8<-- [end:test_body_size_limit]


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_body_at_the_limit_reaches_the_endpoint(
    client: AsyncClient, uploads: list[int], settings: Settings, chunked: bool
) -> None:
    limit = settings.max_request_body_bytes
    # Content-Length: the limit
    content = CountingBody(chunks=limit // CHUNK) if chunked else b"x" * limit

    response = await client.post("/upload", content=content)

    assert response.status_code == 200
    assert uploads == [limit]


async def test_a_chunked_body_one_byte_over_the_limit_is_refused(
    client: AsyncClient, uploads: list[int], settings: Settings
) -> None:
    async def one_byte_over() -> AsyncIterator[bytes]:
        for _ in range(settings.max_request_body_bytes // CHUNK):
            yield b"x" * CHUNK
        yield b"x"

    response = await client.post("/upload", content=one_byte_over())

    assert_content_too_large(response, settings.max_request_body_bytes)
    assert uploads == []


async def test_the_largest_valid_batch_fits_under_the_body_limit(
    client: AsyncClient, settings: Settings
) -> None:
    wide = "\N{GRINNING FACE}"  # 4 bytes in UTF-8, 1 character for max_length
    batch = [
        {
            "channel": "email",
            "recipient": wide * 320,
            "body": wide * 4000,
            "client_ref": f"{n:0>100}",
        }
        for n in range(MAX_PAGE_SIZE)  # the most a batch may hold
    ]

    response = await client.post("/api/v1/messages/batch", json=batch)

    assert response.status_code == 201, response.text
    # close to the limit, under it
    assert (
        len(response.request.content) > settings.max_request_body_bytes * 0.8
    )


# --8<-- [start:test_fastapi_max_body_size]
async def test_fastapis_own_max_body_size_answers_a_declared_oversized_body_in_plain_text(
    settings: Settings,
) -> None:
    app = FastAPI(max_body_size=CHUNK)
    add_problem_handlers(app)
    add_middleware_stack(app, settings)

    async def upload(request: Request) -> None:
        await request.body()

    app.add_api_route("/upload", upload, methods=["POST"])
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.post("/upload", content=b"x" * (CHUNK + 1))

    assert response.status_code == 413
    # not a problem document
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    # answered outside the service's middleware
    assert "x-request-id" not in response.headers


# --8<-- [end:test_fastapi_max_body_size]


# --8<-- [start:test_measuring_middleware]
async def test_a_middleware_that_reads_the_body_to_measure_it_has_taken_all_of_it() -> (
    None
):
    limit = 4 * CHUNK

    class MeasuringMiddleware(BaseHTTPMiddleware):
        async def dispatch(
            self, request: Request, call_next: RequestResponseEndpoint
        ) -> Response:
            # the whole body is in memory by now
            if len(await request.body()) > limit:
                return PlainTextResponse("Content Too Large", status_code=413)
            return await call_next(request)

    app = FastAPI()
    app.add_middleware(MeasuringMiddleware)
    body = CountingBody(chunks=64)
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.post("/upload", content=body)
        # under the limit: on to the app (no such route)
        small = await client.post("/upload", content=b"x")

    assert response.status_code == 413
    # all 4 MiB were read into memory to refuse 256 KiB + 1
    assert body.pulled == 64
    assert small.status_code == 404


# --8<-- [end:test_measuring_middleware]


@pytest.fixture
def served_app(settings: Settings) -> Iterator[str]:
    """The service run by a real uvicorn in a thread, on its own database
    connections; yields its URL.
    """
    app = create_app()

    async def upload(request: Request) -> None:
        await request.body()
        raise AssertionError("the endpoint got the whole body")

    app.add_api_route("/upload", upload, methods=["POST"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        # a uvicorn that cannot start ends its thread: fail, not wait for ever
        assert thread.is_alive(), "uvicorn stopped before it started"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def post_chunks_until_answered(
    url: str, chunks: int, request_line: str = "POST /upload"
) -> tuple[bytes, int]:
    """POST `chunks` chunks of `CHUNK` bytes with chunked transfer coding, as a
    client streaming a file would.

    Before each chunk it looks for an answer and stops sending once one arrives
    (httpx sends the whole body first). Returns the answer's head and how many
    chunks were sent.
    """
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            f"{request_line} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding:"
            " chunked\r\n\r\n".encode()
        )
        sent = 0
        while sent < chunks and not select.select([connection], [], [], 0)[0]:
            try:
                connection.sendall(
                    f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n"
                )
            # the server answered and closed meanwhile
            except (
                BrokenPipeError,
                ConnectionResetError,
            ):
                break
            sent += 1
        answer = connection.recv(65536)
    return answer.partition(b"\r\n\r\n")[0], sent


def test_uvicorn_stops_a_chunked_upload_past_the_limit(
    served_app: str, settings: Settings
) -> None:
    head, sent = post_chunks_until_answered(served_app, chunks=1024)  # 64 MiB

    status_line, *header_lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    # uvicorn's reason phrase is Python's, which varies
    assert status_line.startswith("HTTP/1.1 413 ")
    assert headers["content-type"] == PROBLEM_JSON
    assert headers["connection"] == "close"
    # answered while the client was still sending: the rest never left it
    assert sent < 1024 // 4


def test_uvicorn_closes_the_connection_when_a_route_answers_before_its_chunked_body_ends(
    served_app: str,
) -> None:
    host, port = served_app.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=2) as connection:
        # /livez reads no body, so no chunk is ever counted: the body could go
        # on for ever. The head and a first small chunk leave in one packet:
        # bytes arriving after uvicorn closed would make the kernel reset the
        # connection, and the answer could be lost with it.
        connection.sendall(
            f"GET /livez HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding:"
            " chunked\r\n\r\n10\r\n".encode()
            + b"x" * 16
            + b"\r\n"
        )
        answer = b""
        # a socket timeout here: uvicorn kept reading the body
        while chunk := connection.recv(65536):
            answer += chunk

    status_line, *header_lines = (
        answer.partition(b"\r\n\r\n")[0].decode().split("\r\n")
    )
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    assert status_line.startswith("HTTP/1.1 200 ")  # the route's own answer
    # and then uvicorn closed instead of reading the rest
    assert headers["connection"] == "close"
