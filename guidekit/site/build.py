"""Building the site with MkDocs and serving a build over HTTP, for the tests and the scripts."""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MKDOCS = str(Path(sys.executable).parent / "mkdocs")
LOCAL_HOST = "127.0.0.1"
SHARED_SITE = "shared-site"
"""The folder, in a run's base temp, where pytest-xdist's controller builds the site for every worker."""


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


def serve(site_dir: Path) -> tuple[subprocess.Popen[str], str]:
    """Serve a folder on a free port of 127.0.0.1 from a process of its own; the server and its URL.

    A process of its own (`python -m http.server`), not a thread of this one: a thread per
    request inside a test process puts greenlet state on every short-lived thread (coverage
    traces them), which is what once made greenlet's clean-up spin forever.
    """
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", LOCAL_HOST, "--directory", str(site_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # one log line per request
        text=True,
    )
    assert server.stdout is not None
    announced = server.stdout.readline()  # "Serving HTTP on 127.0.0.1 port 40123 (http://...) ..."
    port = re.search(r" port (\d+) ", announced)
    if not port:
        server.kill()
        server.communicate()
        raise RuntimeError(f"the site server did not say its port: {announced!r}")
    return server, f"http://{LOCAL_HOST}:{port[1]}/"
