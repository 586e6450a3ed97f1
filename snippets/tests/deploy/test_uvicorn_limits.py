"""uvicorn's own limits, as the image and the manifest start it: keep-alive,
concurrency, workers.
"""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dockerfile
import pytest
import uvicorn
import yaml
from uvicorn.main import main as uvicorn_command

SERVICE_ROOT = Path(__file__).resolve().parents[2]

INGRESS_IDLE_SECONDS = 60
"""How long a proxy keeps an idle connection to a pod for reuse, by default:
ingress-nginx's `upstream-keepalive-timeout`, and the idle timeout of an AWS
Application Load Balancer."""


def image_command() -> list[str]:
    cmd = next(
        c
        for c in dockerfile.parse_file(str(SERVICE_ROOT / "Dockerfile"))
        if c.cmd == "CMD"
    )
    return list(cmd.value)


def manifest_command() -> list[str]:
    manifest = yaml.safe_load(
        (SERVICE_ROOT / "deploy" / "kubernetes.yaml").read_text()
    )
    command: list[str] = manifest["spec"]["template"]["spec"]["containers"][0][
        "command"
    ]
    return command


def options(command: list[str]) -> dict[str, Any]:
    """The options as uvicorn itself parses them (unknown ones fail)."""
    program, *arguments = command
    params: dict[str, Any] = uvicorn_command.make_context(
        program, arguments
    ).params
    return params


async def hello(
    scope: dict[str, Any],
    receive: Any,  # noqa: ANN401 (ASGI)
    send: Any,  # noqa: ANN401 (ASGI)
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": b"ok"})


def serve(
    **config: Any,  # noqa: ANN401 (uvicorn.Config's options)
) -> Iterator[tuple[str, int]]:
    """`hello` behind a real uvicorn in a thread, with the given options;
    yields its address.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            hello, host="127.0.0.1", port=port, log_config=None, **config
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(timeout=10)


def get(connection: socket.socket) -> bytes:
    """One keep-alive GET on an open connection; the answer's status line."""
    connection.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
    return connection.recv(4096).split(b"\r\n", 1)[0]


# --8<-- [start:test_keep_alive]
def test_the_image_and_the_manifest_keep_idle_connections_longer_than_the_ingress() -> (
    None
):
    image, manifest = options(image_command()), options(manifest_command())

    assert (
        image["timeout_keep_alive"]
        == manifest["timeout_keep_alive"]
        > INGRESS_IDLE_SECONDS
    )
    # no --workers: one process per container
    assert (image["workers"], manifest["workers"]) == (
        None,
        None,
    )


@pytest.fixture
def short_keep_alive() -> Iterator[tuple[str, int]]:
    yield from serve(timeout_keep_alive=1)


def test_uvicorn_closes_a_connection_idle_past_its_keep_alive(
    short_keep_alive: tuple[str, int],
) -> None:
    with socket.create_connection(short_keep_alive, timeout=10) as connection:
        assert get(connection) == b"HTTP/1.1 200 OK"
        answered = time.monotonic()
        closed = connection.recv(4096)  # blocks until uvicorn closes its end

    assert closed == b""
    # after timeout_keep_alive (1 s), not at once
    assert 0.9 < time.monotonic() - answered < 3


# --8<-- [end:test_keep_alive]


# --8<-- [start:test_limit_concurrency]
@pytest.fixture
def limited() -> Iterator[tuple[str, int]]:
    yield from serve(limit_concurrency=2)


def test_limit_concurrency_counts_idle_connections_and_answers_plain_503(
    limited: tuple[str, int],
) -> None:
    with socket.create_connection(limited, timeout=10) as idle:
        assert get(idle) == b"HTTP/1.1 200 OK"  # now idle, kept alive
        with socket.create_connection(limited, timeout=10) as other:
            other.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            answer = other.recv(4096)

    # no request is running anywhere
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable")
    # uvicorn's own answer: no problem document, no Retry-After
    assert b"content-type: text/plain" in answer
    assert b"retry-after" not in answer.lower()


# --8<-- [end:test_limit_concurrency]


def test_the_worker_count_defaults_to_web_concurrency(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "4")

    config = uvicorn.Config(hello, workers=options(image_command())["workers"])

    # set by the environment: the command has no --workers
    assert config.workers == 4
