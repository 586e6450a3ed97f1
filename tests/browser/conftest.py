"""The site as readers meet it: built once, served on 127.0.0.1, read by a real Chromium.

Outside CI a missing Chromium skips the browser tests, and the run's summary says why; with
`CI=true` it fails them, so a CI machine without a browser cannot pass by skipping.
"""

from collections.abc import Iterator

import pytest
from _pytest.terminal import TerminalReporter
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from guidekit.markdown.nav import nav_pages
from guidekit.site.browser import Reader, watch
from guidekit.site.build import BuiltSite
from guidekit.site.chromium import CHROMIUM_ARGS, NO_BROWSER, chromium_executable, in_ci
from guidekit.site.survey import AXE_SCRIPT, PHONE, PageReport, Surveyor


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    """Say which browser ran the browser tests, or why they did not run."""
    executable = chromium_executable()
    if executable:
        terminalreporter.write_line(f"browser tests: ran in {executable}")
    else:
        consequence = "FAILED (CI=true)" if in_ci() else "SKIPPED"
        terminalreporter.write_line(f"browser tests {consequence}: {NO_BROWSER}", yellow=True)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests that take `nav_page` run once per page of the nav, so new pages are covered unasked.

    A page's tests share their parameter id, so pytest-xdist runs them in one worker
    (`guidekit.pytest_plugin.SameParameterScheduling`), which visits the page once.
    """
    if "nav_page" in metafunc.fixturenames:
        metafunc.parametrize("nav_page", nav_pages())


@pytest.fixture(scope="session")
def site_url(built_site: BuiltSite) -> str:
    """Where the session's build is served: `http://127.0.0.1:{port}/`."""
    return built_site.url


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


def _tab(context: BrowserContext, base_url: str) -> Reader:
    page = context.new_page()
    return Reader(page, watch(page), base_url)


@pytest.fixture(scope="session")
def surveyor(browser: Browser, site_url: str) -> Iterator[Surveyor]:
    """A desktop tab (1280x800, a touch screen: see survey.py) with axe-core and a clipboard the tests may read."""
    context = browser.new_context(service_workers="block", viewport={"width": 1280, "height": 800}, has_touch=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url.rstrip("/"))
    context.add_init_script(AXE_SCRIPT)
    yield Surveyor(_tab(context, site_url))
    context.close()


@pytest.fixture(scope="session")
def phone(browser: Browser, site_url: str) -> Iterator[Reader]:
    """A phone: 375x740, touch, mobile layout."""
    context = browser.new_context(service_workers="block", viewport=PHONE, is_mobile=True, has_touch=True)
    yield _tab(context, site_url)
    context.close()


@pytest.fixture(scope="session")
def page_reports() -> dict[str, PageReport]:
    """The pages this worker has visited, by source path."""
    return {}


@pytest.fixture
def page_report(nav_page: str, surveyor: Surveyor, page_reports: dict[str, PageReport]) -> PageReport:
    """The report on `nav_page`: visited by its first test, read by the others."""
    if nav_page not in page_reports:
        page_reports[nav_page] = surveyor.survey(nav_page)
    return page_reports[nav_page]
