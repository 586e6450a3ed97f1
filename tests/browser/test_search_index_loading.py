"""The search index (the biggest file of the site) is fetched once a reader opens search, not on
every page view (overrides/main.html): Lighthouse counted it in every page's load."""

from playwright.sync_api import Browser, Request


def test_the_search_index_is_fetched_only_when_search_is_opened(browser: Browser, site_url: str) -> None:
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    requested: list[str] = []

    def note(request: Request) -> None:
        if request.url.endswith(("/search_index.json", "/search.json")):
            requested.append(request.url)

    page.on("request", note)
    try:
        page.goto(site_url + "tutorial/", wait_until="networkidle")
        page.wait_for_timeout(500)
        assert requested == [], "the page fetched the search index before search was opened"
        with page.expect_response(lambda response: response.url.endswith("/search_index.json")) as loaded:
            page.locator(".md-search__input").click()
        assert loaded.value.ok
    finally:
        context.close()
