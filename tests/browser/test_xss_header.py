"""`X-XSS-Protection` protects nothing in today's browsers: Chromium runs a reflected script the
header asks it to block (security-headers.md's "Don't"). The answer is fulfilled by Playwright,
so no server is needed; the script sits in the URL and in the page, as a reflected attack does."""

from urllib.parse import quote

from playwright.sync_api import Browser, Route

INJECTED = "<script>window.injectedRan = true</script>"


def test_chromium_runs_a_reflected_script_despite_x_xss_protection(browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()

    def reflect(route: Route) -> None:
        headers = {"Content-Type": "text/html", "X-XSS-Protection": "1; mode=block"}
        route.fulfill(status=200, headers=headers, body=f"<!doctype html><p>Results for {INJECTED}</p>")

    page.route("http://127.0.0.1/search**", reflect)
    response = page.goto(f"http://127.0.0.1/search?q={quote(INJECTED)}")

    assert response is not None
    assert response.headers["x-xss-protection"] == "1; mode=block"
    assert page.evaluate("window.injectedRan === true"), "the injected script was blocked"
    context.close()
