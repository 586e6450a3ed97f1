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

    Not `zensical build --clean`: it deletes all of `.cache/`, where `tested-with.json` still
    lives (the stack page reads it, and so do tests running alongside; moving it out of `.cache/`
    is another part of issue 12). So Zensical's own cache entries are emptied here, which is what
    `--clean` does for its cache; once the file has moved, this becomes `--clean`.
    """
    cache = project / ".cache"  # Zensical's, not configurable
    if cache.is_dir():
        for entry in cache.iterdir():
            if not entry.name.startswith("tested-with"):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.rmtree(project / SITE.relative_to(ROOT), ignore_errors=True)
    environment = os.environ | ({"SITE_URL": site_url} if site_url else {})
    started = time.perf_counter()
    completed = subprocess.run(
        [ZENSICAL, "build", "-f", str(project / CONFIG.name)],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    return completed, time.perf_counter() - started
