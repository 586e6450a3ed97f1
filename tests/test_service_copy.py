"""The service as a team would copy it: `snippets/` alone, installed from its `poetry.lock`.

The copy holds the files git would clone (tracked, or new and not ignored), nothing from the root.
It installs into a fresh virtualenv as the image does (`poetry install --only main`), serves
`/livez` with the image's own command, then installs its dev group as `make install` does and
passes `make lint`, `make typecheck` and `make test` (the `tests/core` part; the root run covers
the rest). Poetry downloads what its cache lacks from PyPI.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dockerfile
import pytest

ROOT = Path(__file__).resolve().parents[1]
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
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "snippets"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        target = folder / "service" / Path(name).relative_to("snippets")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
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
        absent = subprocess.run([venv_python, "-c", "import pytest"], capture_output=True, check=False)

        assert absent.returncode != 0
        service.run(venv_python, "-c", "import app.main, celery, asyncpg")

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

    def test_make_lint(self, developer: Copy) -> None:
        developer.run("make", "lint")

    def test_make_typecheck(self, developer: Copy) -> None:
        developer.run("make", "typecheck")

    def test_make_test_on_the_core_tests(self, developer: Copy, tmp_path: Path) -> None:
        # PYTEST_ADDOPTS narrows the target's own command to tests/core, which alone covers less than 100 %.
        options = f"-x -q -p no:cacheprovider --basetemp={tmp_path / 'run'} --cov-fail-under=0 tests/core"
        completed = developer.run("make", "test", PYTEST_ADDOPTS=options)

        assert " passed" in completed.stdout
        assert "TOTAL" in completed.stdout  # the coverage report of app
