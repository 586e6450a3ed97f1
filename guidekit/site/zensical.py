"""The second builder: Zensical builds the site from `mkdocs.yml`, through `zensical.yml`.

Zensical writes only inside the project and has no --site-dir option, so `zensical.yml`
(`INHERIT: mkdocs.yml`) names a git-ignored `site_dir`. tests/test_two_builders.py compares its
site with MkDocs'; scripts/bench_site.py times it.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from guidekit.paths import ROOT

ZENSICAL = Path(sys.executable).parent / "zensical"
CONFIG = ROOT / "zensical.yml"
SITE = ROOT / "site-zensical"
"""Where `zensical.yml` has Zensical write the site (git-ignored)."""


def zensical_build(project: Path = ROOT, site_url: str | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    """Build a project's site (this one's, or a copy's) with Zensical from an empty cache, for
    `site_url` if given; what it printed and the wall time in seconds. Zensical prints "No issues
    found" even when a page fails: read the exit code.

    `--clean` empties Zensical's cache (`.cache/`, not configurable), which does not notice changed
    extension code or the files the extensions read; the run's record lives in `.record/`, apart.
    """
    shutil.rmtree(project / SITE.relative_to(ROOT), ignore_errors=True)
    environment = os.environ | ({"SITE_URL": site_url} if site_url else {})
    started = time.perf_counter()
    completed = subprocess.run(
        [ZENSICAL, "build", "--clean", "-f", str(project / CONFIG.name)],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    return completed, time.perf_counter() - started
