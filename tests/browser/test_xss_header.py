"""`X-XSS-Protection` protects nothing in today's browsers: Chromium runs a reflected script the
header asks it to block, while a Content Security Policy stops it (security-headers.md's "Don't").
The answers are fulfilled by Playwright, so no server is needed; the script sits in the URL and in
the page, as a reflected attack does."""

from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Route

INJECTED = "<script>window.injectedRan = true</script>"


@pytest.mark.parametrize(
    ("header", "value", "runs"),
    [("X-XSS-Protection", "1; mode=block", True), ("Content-Security-Policy", "script-src 'none'", False)],
)
def test_chromium_runs_a_reflected_script_despite_x_xss_protection(
    browser: Browser, header: str, value: str, *, runs: bool
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()

        def reflect(route: Route) -> None:
            headers = {"Content-Type": "text/html", header: value}
            route.fulfill(status=200, headers=headers, body=f"<!doctype html><p>Results for {INJECTED}</p>")

        page.route("http://127.0.0.1/search**", reflect)
        response = page.goto(f"http://127.0.0.1/search?q={quote(INJECTED)}")

        assert response is not None
        assert response.headers[header.lower()] == value
        assert page.evaluate("window.injectedRan === true") is runs
    finally:
        context.close()
