"""What goes wrong with the APIs the guide tells readers not to use, proven
rather than claimed.
"""

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytz
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel, PydanticDeprecatedSince20
from starlette.applications import Starlette

from app.core.config import Settings


def test_utcnow_is_naive_and_cannot_meet_an_aware_time() -> None:
    with pytest.warns(DeprecationWarning, match="utcnow"):
        naive = datetime.utcnow()  # noqa: DTZ003 (the mistake this test shows)

    assert naive.tzinfo is None
    with pytest.raises(TypeError, match="offset-naive and offset-aware"):
        _ = naive < datetime.now(UTC)


def test_pydantic_v1_validator_is_deprecated() -> None:
    from pydantic import validator

    with pytest.warns(PydanticDeprecatedSince20, match="field_validator"):

        class Message(BaseModel):
            body: str

            @validator("body")
            @classmethod
            def not_blank(cls, value: str) -> str:
                return value


def test_on_event_is_deprecated() -> None:
    assert not hasattr(Starlette, "on_event"), (
        "Starlette 1.0 removed it; only FastAPI's own, deprecated, is left"
    )
    app = FastAPI()

    with pytest.warns(DeprecationWarning, match="lifespan"):

        @app.on_event("startup")
        async def start() -> None:
            return None


def test_httpx_async_client_no_longer_takes_an_app() -> None:
    with pytest.raises(TypeError, match="'app'"):
        AsyncClient(app=FastAPI())  # type: ignore[call-arg]


async def test_asgi_transport_alone_never_runs_the_lifespan() -> None:
    """Why the `client` fixture wraps the app in `LifespanManager`: without
    it, start-up never ran, and whatever it opens is missing.
    """
    started: list[str] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        started.append("engine")
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/opened")
    async def opened() -> list[str]:
        return started

    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/opened")).json() == []
    async with (
        LifespanManager(app) as manager,
        AsyncClient(
            transport=ASGITransport(app=manager.app), base_url="http://t"
        ) as client,
    ):
        assert (await client.get("/opened")).json() == ["engine"]


def test_an_engine_shared_across_event_loops_breaks(
    settings: Settings,
) -> None:
    """Why a Celery task must not reuse one engine across `asyncio.run` calls,
    and what meets a `nest_asyncio` set-up on its first other loop: the pooled
    asyncpg connection belongs to the first loop. Run in a child process,
    because the broken connection is left for the garbage collector."""
    script = textwrap.dedent("""
        import asyncio, sys
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(sys.argv[1])

        async def select_one():
            async with engine.connect() as connection:
                return await connection.scalar(text("SELECT 1"))

        print(asyncio.run(select_one()))
        try:
            asyncio.run(select_one())
        except RuntimeError as error:
            print(error)
        """)
    url = settings.sqlalchemy_database_url.render_as_string(
        hide_password=False
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    first, second = completed.stdout.splitlines()
    assert first == "1"  # the first loop works
    # the second gets the first loop's connection
    assert "attached to a different loop" in second


def test_asyncpg_reads_a_naive_datetime_as_the_process_local_time(
    settings: Settings,
) -> None:
    """The same naive noon, bound to a `timestamptz` parameter, is a different
    instant in a process on Berlin time than in one on UTC. Run in child
    processes, each with its own `TZ`."""
    script = textwrap.dedent("""
        import asyncio, sys
        from datetime import datetime
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        async def stored():
            engine = create_async_engine(sys.argv[1])
            async with engine.connect() as connection:
                instant = await connection.scalar(
                    text("SELECT CAST(:at AS timestamptz)"),
                    {"at": datetime(2026, 1, 15, 12, 0)},
                )
            await engine.dispose()
            return instant

        print(asyncio.run(stored()).isoformat())
        """)
    url = settings.sqlalchemy_database_url.render_as_string(
        hide_password=False
    )

    def stored_in(zone: str) -> str:
        environment = os.environ | {"TZ": zone}
        command = [sys.executable, "-c", script, url]
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            env=environment,
        )
        return completed.stdout.strip()

    assert stored_in("UTC") == "2026-01-15T12:00:00+00:00"
    # noon in Berlin, an hour earlier
    assert stored_in("Europe/Berlin") == "2026-01-15T11:00:00+00:00"


def test_get_event_loop_without_a_running_loop_is_deprecated() -> None:
    """What `nest_asyncio` recipes call first: with warnings as errors, it
    fails outright.
    """
    command = [
        sys.executable,
        "-W",
        "error::DeprecationWarning",
        "-c",
        "import asyncio; asyncio.get_event_loop()",
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=60
    )

    assert completed.returncode != 0
    assert (
        "DeprecationWarning: There is no current event loop"
        in completed.stderr
    )


def test_pytz_zone_as_tzinfo_gets_local_mean_time() -> None:
    """A pytz zone passed as `tzinfo=` uses the zone's first offset (Berlin's
    1893 LMT, +0:53).
    """
    wrong = datetime(2026, 1, 15, 12, 0, tzinfo=pytz.timezone("Europe/Berlin"))
    right = datetime(2026, 1, 15, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))

    assert wrong.utcoffset() == timedelta(minutes=53)
    assert right.utcoffset() == timedelta(hours=1)


def test_poetry_2_rejects_no_dev(tmp_path: Path) -> None:
    """`poetry install --no-dev` stops before installing anything; `--only
    main` is the option now.
    """
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(Path(__file__).parents[1] / "pyproject.toml", project)
    poetry = shutil.which("poetry")
    assert poetry, "poetry is not on PATH"
    # Poetry's own cache, config and virtualenvs stay in this test's folder.
    environment = {
        **os.environ,
        "POETRY_CACHE_DIR": str(tmp_path / "cache"),
        "POETRY_CONFIG_DIR": str(tmp_path / "config"),
        "POETRY_VIRTUALENVS_PATH": str(tmp_path / "venvs"),
    }

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        command = [
            poetry,
            *arguments,
            "--no-interaction",
            "--directory",
            str(project),
        ]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env=environment,
        )

    rejected = run("install", "--no-dev")
    assert rejected.returncode != 0
    assert (
        'The option "--no-dev" does not exist'
        in rejected.stdout + rejected.stderr
    )

    help_text = run("install", "--help").stdout
    assert "--only" in help_text
    assert "--no-dev" not in help_text


STRICT_MODE_TESTS = """
import pytest
import pytest_asyncio


@pytest.fixture
async def plain() -> int:
    return 1


@pytest_asyncio.fixture
async def declared() -> int:
    return 2


async def test_unmarked() -> None:
    pass


@pytest.mark.asyncio
async def test_marked_with_plain_fixture(plain: int) -> None:
    pass


@pytest.mark.asyncio
async def test_marked_with_declared_fixture(declared: int) -> None:
    pass
"""


def test_strict_mode_runs_only_marked_tests_with_pytest_asyncio_fixtures(
    tmp_path: Path,
) -> None:
    """In strict mode an async test needs `@pytest.mark.asyncio` and an async
    fixture `@pytest_asyncio.fixture`.
    """
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope ="
        " function\n"
    )
    (tmp_path / "test_strict.py").write_text(STRICT_MODE_TESTS)
    # The inner run gets none of the outer run's options (PYTEST_ADDOPTS) or
    # coverage's hooks.
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "COV_"))
    }
    plugins_off = ["-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:cov"]
    command = [
        sys.executable,
        "-m",
        "pytest",
        *plugins_off,
        "-q",
        "-rA",
        "test_strict.py",
    ]
    completed = subprocess.run(
        command,
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    output = completed.stdout + completed.stderr

    assert "FAILED test_strict.py::test_unmarked" in output, output
    assert "async def functions are not natively supported" in output, output
    assert "ERROR test_strict.py::test_marked_with_plain_fixture" in output, (
        output
    )
    assert (
        "requested an async fixture 'plain', with no plugin or hook that"
        " handled it" in output
    ), output
    assert (
        "PASSED test_strict.py::test_marked_with_declared_fixture" in output
    ), output


async def test_documenting_201_in_responses_leaves_the_endpoint_answering_200() -> (
    None
):
    """`responses=` only documents; the status an endpoint answers comes from
    `status_code`.
    """
    app = FastAPI()

    @app.post("/items", responses={201: {"description": "Created"}})
    async def create_item() -> dict[str, str]:
        return {"id": "1"}

    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.post("/items")

    # the documentation says 201 ...
    assert "201" in app.openapi()["paths"]["/items"]["post"]["responses"]
    assert response.status_code == 200  # ... and the endpoint answers 200
