"""Fixtures for the tests of the site itself: one strict build per session, shared by every test."""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = str(Path(sys.executable).parent / "mkdocs")


@dataclass(frozen=True)
class BuiltSite:
    """A finished build: where the HTML is, and what MkDocs printed while building it."""

    path: Path
    log: str

    def page(self, uri: str) -> str:
        """The HTML of a page, by its URL path (`architecture/layer-rules/`)."""
        return (self.path / uri / "index.html").read_text(encoding="utf-8")


def mkdocs_build(project: Path, site_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run `mkdocs build --strict` on a project folder, as a user would from its root."""
    env = os.environ | {"NO_MKDOCS_2_WARNING": "1"}  # the Material end-of-life banner is not our output
    return subprocess.run(
        [MKDOCS, "build", "--strict", "--site-dir", str(site_dir), *extra],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The real site, built once per test session with `--strict` into a temporary folder."""
    site_dir = tmp_path_factory.mktemp("site")
    completed = mkdocs_build(ROOT, site_dir)
    log = completed.stdout + completed.stderr
    if completed.returncode != 0:
        pytest.fail(f"`mkdocs build --strict` failed; run `uv run mkdocs build` and fix:\n{log}")
    return BuiltSite(path=site_dir, log=log)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of the site's sources for a test to break; `snippets/` is linked, read-only, not copied."""
    for folder in ("docs", "hooks"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for file in ("mkdocs.yml", "pyproject.toml"):
        shutil.copy(ROOT / file, tmp_path / file)
    (tmp_path / "snippets").symlink_to(ROOT / "snippets", target_is_directory=True)
    return tmp_path
