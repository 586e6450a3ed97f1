"""Fixtures for the tests of the site itself: one strict build per session, shared by every test."""

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

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


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves files without logging every request to stderr."""

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output for the tests."""


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltSite]:
    """The real site, built once per test session with `--strict` and served over HTTP on 127.0.0.1.

    The server takes its port first so the site is built for its own address (`SITE_URL`), as
    `mkdocs serve` does: the theme's instant navigation only follows links its sitemap lists.
    The file tests read the folder; the browser tests read the same build through the server.
    """
    site_dir = tmp_path_factory.mktemp("site")
    server = ThreadingHTTPServer((LOCAL_HOST, 0), partial(_QuietHandler, directory=str(site_dir)))
    url = f"http://{LOCAL_HOST}:{server.server_port}/"
    completed = mkdocs_build(ROOT, site_dir, site_url=url)
    log = completed.stdout + completed.stderr
    if completed.returncode != 0:
        server.server_close()
        pytest.fail(f"`mkdocs build --strict` failed; run `uv run mkdocs build` and fix:\n{log}")
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    yield BuiltSite(path=site_dir, log=log, url=url)
    server.shutdown()
    server.server_close()
    thread.join()


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
