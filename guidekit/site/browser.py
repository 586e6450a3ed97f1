"""A reader in Chromium: one tab that records its traffic and console, and the search box as a reader types."""

import math
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Request

from guidekit.markdown.nav import page_url_path

LOCAL_HOST = "127.0.0.1"


@dataclass
class Traffic:
    """What a page did on the network and the console since it was last cleared."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def clear(self) -> None:
        """Forget everything seen so far (before the next navigation)."""
        self.console_errors.clear()
        self.failed_requests.clear()
        self.foreign_requests.clear()


def watch(page: Page) -> Traffic:
    """Record console errors, failed requests and any request for another host than 127.0.0.1."""
    traffic = Traffic()

    # Watched, not intercepted: routing requests through Playwright would switch off the HTTP cache.
    def request(request: Request) -> None:
        if (
            urlsplit(request.url).scheme in {"http", "https", "ws", "wss"}
            and urlsplit(request.url).hostname != LOCAL_HOST
        ):
            traffic.foreign_requests.append(request.url)

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            traffic.console_errors.append(f"{message.text} at {message.location.get('url')}")

    def failed(request: Request) -> None:
        # ERR_ABORTED is the browser cancelling a request (the tab moved on), not the server failing it.
        if urlsplit(request.url).hostname == LOCAL_HOST and request.failure != "net::ERR_ABORTED":
            traffic.failed_requests.append(f"{request.url}: {request.failure}")

    def finished(request: Request) -> None:
        response = request.response()
        if response is not None and response.status >= 400:
            traffic.failed_requests.append(f"{request.url}: HTTP {response.status}")

    page.on("request", request)
    page.on("console", console)
    page.on("pageerror", lambda error: traffic.console_errors.append(f"uncaught {error}"))
    page.on("requestfailed", failed)
    page.on("requestfinished", finished)
    return traffic


@dataclass
class Reader:
    """One browser tab that tests share: navigating it is cheap, opening a new one is not."""

    page: Page
    traffic: Traffic
    base_url: str

    def open(self, source: str, wait_until: Literal["load", "networkidle"] = "load") -> None:
        """Load a page of the site by its source path, with fresh traffic records."""
        self.traffic.clear()
        response = self.page.goto(self.base_url + page_url_path(source), wait_until=wait_until)
        assert response is not None, f"{source}: no response"
        assert response.status == 200, f"{source}: HTTP {response.status}"


# Arms a timer for the next keystroke: resolves with the milliseconds from that keydown until
# the result list holds results and the browser has painted a frame with them (null: none came).
_ARM_SEARCH_TIMER = """(timeout) => {
  const list = document.querySelector(".md-search-result__list");
  window.__searchShown = new Promise((resolve) => {
    setTimeout(() => resolve(null), timeout);
    let keydown;
    document.addEventListener("keydown", (event) => { keydown = performance.now(); }, { once: true, capture: true });
    const observer = new MutationObserver(() => {
      if (keydown !== undefined && list.children.length > 0) {
        observer.disconnect();
        requestAnimationFrame(() => resolve(performance.now() - keydown));
      }
    });
    observer.observe(list, { childList: true });
  });
}"""
_RESULT_PAGES = """() => Array.from(
  // One item per page; its first link is the page (or its best section).
  document.querySelectorAll(".md-search-result__list > li > a.md-search-result__link:first-of-type"),
  (link) => link.href,
)"""


@dataclass
class SearchOutcome:
    """What the site's search showed for one query: result pages in order, and how fast (inf: no result)."""

    pages: list[str]
    milliseconds: float


def search(page: Page, base_url: str, query: str, timeout_ms: int = 5000) -> SearchOutcome:
    """Type a query into the site's search as a reader does and read the result pages (URL paths).

    The query is filled in and its last character typed, so exactly one search runs, timed from
    that keystroke to results on screen.
    """
    box = page.locator(".md-search__input")
    box.click()
    box.fill("")
    box.press("End")  # the theme searches on keyup: an empty query empties the list
    page.wait_for_function("document.querySelector('.md-search-result__list').children.length === 0")
    box.fill(query[:-1])
    page.evaluate(_ARM_SEARCH_TIMER, timeout_ms)
    box.press(query[-1])
    milliseconds = page.evaluate("window.__searchShown")
    if milliseconds is None:
        return SearchOutcome([], math.inf)
    links: list[str] = page.evaluate(_RESULT_PAGES)
    paths = [urlsplit(link).path.removeprefix(urlsplit(base_url).path) for link in links]
    return SearchOutcome(paths, float(milliseconds))
