"""Why dependencies are `Annotated` aliases and services come from `Depends()`,
shown on bare code.
"""

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.database import SessionDep, get_session


def test_a_depends_default_makes_the_parameter_look_optional_to_mypy(
    tmp_path: Path,
) -> None:
    """Both endpoints are called without their session: mypy objects only where
    the alias is used.
    """
    probe = tmp_path / "probe.py"
    probe.write_text(
        textwrap.dedent("""
            from typing import Annotated

            from fastapi import Depends


            class Session: ...


            def get_session() -> Session:
                return Session()


            SessionDep = Annotated[Session, Depends(get_session)]


            async def with_default(
                db: Session = Depends(get_session),
            ) -> None: ...


            async def with_alias(db: SessionDep) -> None: ...


            async def caller() -> None:
                await with_default()
                await with_alias()
            """)
    )
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n")  # not the project's settings: only --strict
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--no-error-summary",
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    completed = subprocess.run(
        [*command, "--config-file", str(config), str(probe)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=tmp_path,
    )

    errors = [
        line.split(": ", 1)[1]
        for line in completed.stdout.splitlines()
        if ": error:" in line
    ]
    # 1: errors found; 2 would be mypy failing to run
    assert completed.returncode == 1, completed.stderr
    assert errors == [
        'error: Missing positional argument "db" in call to "with_alias" '
        " [call-arg]"
    ]


class Greeter:
    """A service with nothing to inject, enough to see which endpoints an
    override reaches.
    """

    def greet(self) -> str:
        return "real"


class OverrideGreeter(Greeter):
    def greet(self) -> str:
        return "override"


async def test_an_override_does_not_reach_a_service_built_by_hand() -> None:
    bare = FastAPI()

    @bare.get("/injected")
    async def injected(greeter: Annotated[Greeter, Depends()]) -> str:
        return greeter.greet()

    @bare.get("/by-hand")
    async def by_hand() -> str:
        # the mistake: FastAPI never sees this dependency
        return Greeter().greet()

    bare.dependency_overrides[Greeter] = OverrideGreeter
    async with AsyncClient(
        transport=ASGITransport(app=bare), base_url="http://test"
    ) as client:
        answers = {
            path: (await client.get(path)).json()
            for path in ["/injected", "/by-hand"]
        }

    assert answers == {"/injected": "override", "/by-hand": "real"}


class SessionHolder:
    """A service's shape: it asks for `SessionDep` in `__init__`."""

    def __init__(self, session: SessionDep) -> None:
        self.session = session


async def test_one_request_gets_one_session_however_many_ask() -> None:
    bare = FastAPI()
    opened: list[object] = []

    async def new_session_each_call() -> AsyncIterator[object]:
        opened.append(object())
        yield opened[-1]

    @bare.get("/")
    async def endpoint(
        session: SessionDep, service: Annotated[SessionHolder, Depends()]
    ) -> bool:
        return session is service.session

    bare.dependency_overrides[get_session] = new_session_each_call
    async with AsyncClient(
        transport=ASGITransport(app=bare), base_url="http://test"
    ) as client:
        shared = [(await client.get("/")).json() for _ in range(2)]

    # the endpoint and the service hold the same session...
    assert shared == [
        True,
        True,
    ]
    assert len(opened) == 2  # ...one per request


async def test_a_write_the_service_commits_in_a_test_stays_invisible_to_other_connections(
    client: AsyncClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    body = {
        "target_url": "https://hooks.example.com/isolated",
        "event": "message.created",
    }
    # the service commits its transaction...
    created = await client.post("/api/v1/webhooks", json=body)
    assert created.status_code == 201
    count = text("SELECT count(*) FROM webhooks WHERE id = :id")
    webhook_id = {"id": created.json()["id"]}

    # ...which releases a savepoint inside the test's transaction,
    async with engine.connect() as other:
        # so another test's connection sees nothing
        assert await other.scalar(count, webhook_id) == 0
    # while this test's own sessions see the row
    assert await session.scalar(count, webhook_id) == 1
