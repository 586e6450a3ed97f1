"""`BackgroundTasks` against Celery: what is left of each when the API process
dies right after its response.
"""

import asyncio
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
import uvicorn
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.db.webhook.model import Webhook, WebhookEvent
from app.db.webhook_delivery.model import DeliveryStatus, WebhookDelivery
from app.db.webhook_delivery.table import WebhookDeliveriesTable
from tests.principals import OWNER

SERVICE_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Receiver:
    """A webhook subscriber on https://127.0.0.1 that answers 200 and keeps
    what it received.
    """

    url: str
    bodies: list[bytes] = field(default_factory=list)

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Any,  # noqa: ANN401 (ASGI)
        send: Any,  # noqa: ANN401 (ASGI)
    ) -> None:
        message = await receive()
        self.bodies.append(message.get("body", b""))
        await send(
            {"type": "http.response.start", "status": 200, "headers": []}
        )
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    """The subscriber, served over TLS by uvicorn in a thread; the worker
    trusts its CA through `SSL_CERT_FILE`.
    """
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    authority.issue_cert(
        "127.0.0.1"
    ).private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "server.pem")
    )
    port = free_port()
    receiver = Receiver(url=f"https://127.0.0.1:{port}/hooks")
    config = uvicorn.Config(
        receiver,
        host="127.0.0.1",
        port=port,
        ssl_certfile=str(tmp_path / "server.pem"),
        log_config=None,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        thread.start()
        while not server.started:
            time.sleep(0.01)
        yield receiver
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def api_process(
    settings: Settings,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The service with its `/reports` route, served by uvicorn in a process of
    its own; its URL and process.

    It reads the test settings from the environment, as the `settings` fixture
    left it.
    """
    yield from serve_api()


def serve_api(*options: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start the API process with these uvicorn options; yield its URL and
    process, kill it afterwards.
    """
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.celery.background_tasks_app:app",
            "--port",
            str(port),
            *options,
        ],
        cwd=SERVICE_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if (
                    httpx.get(f"{base_url}/livez", timeout=1).status_code
                    == 200
                ):
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (
                    "the API process did not start"
                )
                time.sleep(0.1)
        yield base_url, server
    finally:
        server.kill()
        server.wait(timeout=10)


async def eventually(condition: Callable[[], bool], within: float) -> None:
    """Poll `condition` until it holds, for at most `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not true within {within} s"
        await asyncio.sleep(0.05)


async def settled_delivery(
    session: AsyncSession, within: float
) -> WebhookDelivery:
    """The one delivery once it has left `pending`, read afresh from committed
    state each time.
    """
    deadline = time.monotonic() + within
    while True:
        async with session.begin():
            [delivery] = (await WebhookDeliveriesTable(session).all()).items
        session.expunge_all()
        if delivery.status != DeliveryStatus.PENDING:
            return delivery
        assert time.monotonic() < deadline, f"still pending after {within} s"
        await asyncio.sleep(0.05)


# --8<-- [start:test_background_tasks_vs_celery]
async def test_a_background_task_dies_with_the_process_and_a_celery_task_does_not(
    api_process: tuple[str, subprocess.Popen[bytes]],
    committed_session: AsyncSession,
    receiver: Receiver,
    # the worker's broker, emptied; asked for here so that the worker can be
    # started mid-test
    redis: Redis,
    make_token: Callable[..., str],
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    base_url, server = api_process
    async with committed_session.begin():
        committed_session.add(
            Webhook(
                target_url=receiver.url,
                event=WebhookEvent.MESSAGE_CREATED,
                secret="s" * 43,
                is_active=True,
                owner=OWNER,  # a message goes to its owner's webhooks only
            )
        )
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    message = {
        "channel": "email",
        "recipient": "ada@example.com",
        "body": "Hello",
        "client_ref": "ref-1",
    }
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {make_token()}"}
    ) as client:
        # While the process lives, the job runs after the response: not yet
        # written when it arrives.
        assert (
            await client.post("/reports", params={"path": str(first)})
        ).status_code == 202
        assert not first.exists()
        await eventually(first.exists, within=30)

        assert (
            await client.post("/reports", params={"path": str(second)})
        ).status_code == 202
        # its delivery task is sent before the answer
        created = await client.post("/api/v1/messages", json=message)
        assert created.status_code == 201
    # a crash, an OOM kill, a deploy that did not wait
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=10)
    killed_at = time.monotonic()

    # a worker starts only now, after the API process is gone
    request.getfixturevalue("celery_worker")
    delivery = await settled_delivery(committed_session, within=30)
    # twice the job's two seconds
    await asyncio.sleep(max(0, killed_at + 4 - time.monotonic()))

    # the task waited in Redis and ran on the worker
    assert delivery.status == DeliveryStatus.DELIVERED
    assert len(receiver.bodies) == 1
    # the background job died with the process, and nothing will run it again
    assert not second.exists()


# --8<-- [end:test_background_tasks_vs_celery]


async def test_a_graceful_stop_waits_for_a_running_background_task(
    api_process: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    base_url, server = api_process
    report = tmp_path / "report.txt"
    async with httpx.AsyncClient(base_url=base_url) as client:
        assert (
            await client.post("/reports", params={"path": str(report)})
        ).status_code == 202
    server.send_signal(signal.SIGTERM)  # what an orchestrator sends first
    await asyncio.to_thread(server.wait, 30)

    # uvicorn finished the request, background job included, before it exited
    assert report.exists()


async def test_a_graceful_stop_cancels_a_background_task_still_running_at_its_timeout(
    settings: Settings, tmp_path: Path
) -> None:
    report = tmp_path / "report.txt"
    # shorter than the job's two seconds
    for base_url, server in serve_api("--timeout-graceful-shutdown", "1"):
        async with httpx.AsyncClient(base_url=base_url) as client:
            assert (
                await client.post("/reports", params={"path": str(report)})
            ).status_code == 202
        server.send_signal(signal.SIGTERM)
        await asyncio.to_thread(server.wait, 30)
    # past the moment the job would have written its report
    await asyncio.sleep(2)

    # uvicorn gave up on the request at the timeout and exited without it
    assert not report.exists()


async def test_a_background_task_runs_after_the_response_in_the_same_process(
    settings: Settings, tmp_path: Path
) -> None:
    """In process (the route and its job measured by coverage): the 202 first,
    then the job's file.
    """
    from tests.celery import background_tasks_app

    report = tmp_path / "report.txt"
    # returns once the app, job included, is done
    transport = httpx.ASGITransport(app=background_tasks_app.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test"
    ) as client:
        response = await client.post("/reports", params={"path": str(report)})

    assert response.status_code == 202
    assert report.read_text() == "written"
