"""The site as readers meet it: built once, served on 127.0.0.1, read by a real Chromium.

Outside CI a missing Chromium skips the browser tests, and the run's summary says why; with
`CI=true` it fails them, so a CI machine without a browser cannot pass by skipping.
"""

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path

import pytest
from _pytest.terminal import TerminalReporter
from playwright.sync_api import Browser, BrowserContext, Playwright, ViewportSize, sync_playwright

from tests.browser.site import LOCAL_HOST, ROOT, Reader, Visit, nav_pages, watch

# A headless Chromium that must not phone home: this machine has no network but the registries.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERIOUS_IMPACTS = {"serious", "critical"}
AXE_SCRIPT = (files("axe_playwright_python") / "axe.min.js").read_text()
NO_BROWSER = "no Chromium found: install it with `apt-get install -y --no-install-recommends chromium`"


def chromium_executable() -> Path | None:
    """Debian's Chromium (or `$CHROMIUM`): Playwright's own browser download cannot work here."""
    configured = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return Path(configured) if configured and Path(configured).exists() else None


def in_ci() -> bool:
    """CI sets `CI=true`; there a missing browser is a failure, never a skip."""
    return os.environ.get("CI", "").lower() == "true"


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    """Say which browser ran the browser tests, or why they did not run."""
    executable = chromium_executable()
    if executable:
        terminalreporter.write_line(f"browser tests: ran in {executable}")
    else:
        consequence = "FAILED (CI=true)" if in_ci() else "SKIPPED"
        terminalreporter.write_line(f"browser tests {consequence}: {NO_BROWSER}", yellow=True)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests that take `nav_page` run once per page of the nav, so new pages are covered unasked."""
    if "nav_page" in metafunc.fixturenames:
        metafunc.parametrize("nav_page", nav_pages())


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as `mkdocs build --strict` makes it, built once per session into a scratch folder."""
    site_dir = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site_dir)]
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, env=environment)
    assert completed.returncode == 0, f"mkdocs build --strict failed:\n{completed.stdout}{completed.stderr}"
    return site_dir


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves files without logging every request to stderr."""

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output for the tests."""


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    """The built site over real HTTP on a free port of 127.0.0.1, as a static host serves it."""
    server = ThreadingHTTPServer((LOCAL_HOST, 0), partial(_QuietHandler, directory=str(built_site)))
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    yield f"http://{LOCAL_HOST}:{server.server_port}/"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver, once per session; no Chromium skips (or, in CI, fails) what needs it."""
    if chromium_executable() is None:
        if in_ci():
            pytest.fail(f"{NO_BROWSER} (CI=true: the browser tests must run in CI)")
        pytest.skip(NO_BROWSER)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the whole session; tests share its tabs."""
    executable = chromium_executable()
    assert executable is not None
    browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _reader(
    browser: Browser, base_url: str, viewport: ViewportSize, *, mobile: bool = False
) -> tuple[BrowserContext, Reader]:
    context = browser.new_context(service_workers="block", viewport=viewport, is_mobile=mobile, has_touch=mobile)
    page = context.new_page()
    return context, Reader(page, watch(context, page), base_url)


@pytest.fixture(scope="session")
def reader(browser: Browser, site_url: str) -> Iterator[Reader]:
    """A desktop reader (1280x800) whose clipboard the copy button may write and tests may read."""
    context, reader = _reader(browser, site_url, {"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url.rstrip("/"))
    yield reader
    context.close()


@pytest.fixture(scope="session")
def mobile_reader(browser: Browser, site_url: str) -> Iterator[Reader]:
    """A phone-sized reader: 375x740, touch, mobile layout."""
    context, reader = _reader(browser, site_url, {"width": 375, "height": 740}, mobile=True)
    yield reader
    context.close()


@pytest.fixture(scope="session")
def visit(reader: Reader) -> Callable[[str], Visit]:
    """Load a page once and remember it: the load test and the accessibility test share one visit."""
    visits: dict[str, Visit] = {}

    def load(source: str) -> Visit:
        if source not in visits:
            # The first visit lets the network settle, so the search index and its worker are checked too.
            reader.open(source, wait_until="networkidle" if not visits else "load")
            reader.page.evaluate(AXE_SCRIPT)
            results = reader.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            serious = [
                f"{violation['id']} ({violation['impact']}): {violation['help']} at "
                + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
                for violation in results["violations"]
                if violation["impact"] in SERIOUS_IMPACTS
            ]
            traffic = reader.traffic
            visits[source] = Visit(
                source,
                list(traffic.console_errors),
                list(traffic.failed_requests),
                list(traffic.foreign_requests),
                serious,
            )
        return visits[source]

    return load
