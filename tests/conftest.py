"""Fixtures for the tests of the site itself: one strict build per session, shared by every test."""

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# The fence guard's run-wide hooks, here because pytest-xdist's controller loads this conftest
# (a test path's) and not the guard's own (see tests/fence_guard/run_hooks.py).
from tests.fence_guard.run_hooks import (  # noqa: F401
    pytest_collection_finish,
    pytest_runtest_logreport,
    pytest_runtestloop,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
)

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = str(Path(sys.executable).parent / "mkdocs")
LOCAL_HOST = "127.0.0.1"


@dataclass(frozen=True)
class BuiltSite:
    """A finished build: where the HTML is, what MkDocs printed while building it, and where it is served."""

    path: Path
    log: str
    url: str

    def page(self, uri: str) -> str:
        """The HTML of a page, by its URL path (`architecture/layer-rules/`)."""
        return (self.path / uri / "index.html").read_text(encoding="utf-8")


def mkdocs_build(
    project: Path, site_dir: Path, *extra: str, site_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `mkdocs build --strict` on a project folder, as a user would from its root."""
    env = os.environ | {"NO_MKDOCS_2_WARNING": "1"}  # the Material end-of-life banner is not our output
    if site_url:
        env["SITE_URL"] = site_url
    return subprocess.run(
        [MKDOCS, "build", "--strict", "--site-dir", str(site_dir), *extra],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltSite]:
    """The real site, built once per test process with `--strict` and served over HTTP on 127.0.0.1.

    The server takes its port first so the site is built for its own address (`SITE_URL`), as
    `mkdocs serve` does: the theme's instant navigation only follows links its sitemap lists, and
    compares their ports. The server is a process of its own (`python -m http.server`): a
    thread per request inside this process would put greenlet state on every short-lived thread
    (coverage traces them), which is what made greenlet's clean-up spin forever once.
    The file tests read the folder; the browser tests read the same build through the server.
    """
    site_dir = tmp_path_factory.mktemp("site")
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", LOCAL_HOST, "--directory", str(site_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # one log line per request
        text=True,
    )
    try:
        assert server.stdout is not None
        announced = server.stdout.readline()  # "Serving HTTP on 127.0.0.1 port 40123 (http://...) ..."
        port = re.search(r" port (\d+) ", announced)
        assert port, f"the site server did not say its port: {announced!r}"
        url = f"http://{LOCAL_HOST}:{port[1]}/"
        completed = mkdocs_build(ROOT, site_dir, site_url=url)
        log = completed.stdout + completed.stderr
        if completed.returncode != 0:
            pytest.fail(f"`mkdocs build --strict` failed; run `uv run mkdocs build` and fix:\n{log}")
        yield BuiltSite(path=site_dir, log=log, url=url)
    finally:
        server.terminate()
        server.communicate(timeout=10)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of the site's sources for a test to break; what it only reads is linked, not copied."""
    for folder in ("docs", "hooks"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for file in ("mkdocs.yml", "pyproject.toml"):
        shutil.copy(ROOT / file, tmp_path / file)
    for folder in ("snippets", "diagrams", "vendor"):
        (tmp_path / folder).symlink_to(ROOT / folder, target_is_directory=True)
    return tmp_path
