"""The queries the site itself implies (`guidekit.site.search_generated`), typed into the search box in Chromium.

The same set and targets as tests/test_search_generated.py (Material's worker under Node), here
through the real page: hit@3 100 % and hit@1 at least 90 %, printed with every miss. The project's
own queries are printed in the same format (tests/browser/test_search.py asserts them one by one).
"""

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page

from guidekit.site.browser import search
from guidekit.site.search_generated import GeneratedQuery, generate
from guidekit.site.search_queries import QUERIES
from guidekit.site.search_score import FLOOR_HIT_AT_1, FLOOR_HIT_AT_3, Scores, score

# How long one query may wait for the list to change; results come in tens of milliseconds.
PATIENCE_MS = 3000

# Runs every query in the page, through the search box itself: the box gets each value and the
# keyup the theme searches on, so the theme's own handler, worker and result list answer it. Typing
# each query with Playwright's keyboard (`guidekit.site.browser.search`) takes several round trips
# a query, minutes for the generated set; here a whole part takes one call. A query's answer is
# what the result list shows after its next change, read one frame later (the theme renders every
# answer anew, the count line included, even one with no result); none within `patience` is null.
_TYPE_EACH = """async ([queries, patience]) => {
  const box = document.querySelector(".md-search__input");
  const output = document.querySelector(".md-search-result");
  const results = {};
  const shown = () => Array.from(
    document.querySelectorAll(".md-search-result__list > li > a.md-search-result__link:first-of-type"),
    (link) => new URL(link.href).pathname,
  );
  for (const query of queries) {
    if (box.value === query) { results[query] = shown(); continue; }  // already answered on screen
    const answered = new Promise((resolve) => {
      const observer = new MutationObserver(() => { observer.disconnect(); clearTimeout(timer); resolve(true); });
      const timer = setTimeout(() => { observer.disconnect(); resolve(false); }, patience);
      observer.observe(output, { childList: true, subtree: true, characterData: true });
    });
    box.value = query;
    box.dispatchEvent(new KeyboardEvent("keyup", { key: query.slice(-1), bubbles: true }));
    if (!(await answered)) { results[query] = null; continue; }
    await new Promise((resolve) => requestAnimationFrame(() => resolve()));
    results[query] = shown();
  }
  return results;
}"""


PARTS = 6


@dataclass
class Answers:
    """What the search box showed for each query, filled part by part."""

    pages: dict[str, list[str]] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)
    seconds: float = 0.0


@contextmanager
def search_tab(browser: Browser, site_url: str) -> Iterator[Page]:
    """A tab on the site's home page with its search open and answering (the first query typed for real)."""
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    try:
        # The theme fetches the index only once search is opened: the first query typed loads it.
        page.goto(site_url, wait_until="networkidle")
        warm_up = search(page, site_url, "search", timeout_ms=30_000)
        # Until this one answered, a late answer could be taken for the first query's.
        assert warm_up.pages, "the warm-up search showed no result"
        assert math.isfinite(warm_up.milliseconds)
        yield page
    finally:
        context.close()


def run_in_chromium(page: Page, site_url: str, queries: list[str], answers: Answers) -> None:
    """Put each query into the tab's search box and record the result pages (source-relative URL paths)."""
    started = time.monotonic()
    found: dict[str, list[str] | None] = page.evaluate(_TYPE_EACH, [queries, PATIENCE_MS])
    base = urlsplit(site_url).path
    for query, paths in found.items():
        if paths is None:
            answers.unanswered.append(query)
        answers.pages[query] = [path.removeprefix(base) for path in paths or []]
    answers.seconds += time.monotonic() - started


def report(
    scores: Scores, name: str, seconds: float, capsys: pytest.CaptureFixture[str], *, targets: bool = True
) -> None:
    with capsys.disabled():
        shown = f"\n{scores.summary(name)} (in Chromium, {seconds:.0f} s)"
        print(shown + (f"; {scores.against_targets()}" if targets else ""))
        for miss in scores.misses:
            print(f"  miss {miss}")


@pytest.fixture(scope="class")
def generated() -> list[GeneratedQuery]:
    """The generated queries, derived from this checkout."""
    return generate().queries


@pytest.fixture(scope="class")
def tab(browser: Browser, site_url: str) -> Iterator[Page]:
    """One tab for every part: the index is loaded and indexed once."""
    with search_tab(browser, site_url) as page:
        yield page


@pytest.fixture(scope="class")
def answers() -> Answers:
    """The answers of the parts run so far; the last test of the class reads them all."""
    return Answers()


class TestGeneratedQueriesInChromium:
    """The generated set in parts, each under the run's time limit, then its figures as a whole.

    A class is one unit for the project's scheduler (`guidekit.pytest_plugin.SameParameterScheduling`):
    the parts and the whole run in one process, in this order.
    """

    def run_part(self, part: int, tab: Page, site_url: str, generated: list[GeneratedQuery], answers: Answers) -> None:
        queries = [query.query for query in generated[part::PARTS]]
        run_in_chromium(tab, site_url, queries, answers)
        unanswered = [query for query in queries if query in answers.unanswered]
        assert not unanswered, f"the search box showed nothing new within {PATIENCE_MS} ms for: {unanswered}"

    def test_part_1(self, tab: Page, site_url: str, generated: list[GeneratedQuery], answers: Answers) -> None:
        self.run_part(0, tab, site_url, generated, answers)

    def test_part_2(self, tab: Page, site_url: str, generated: list[GeneratedQuery], answers: Answers) -> None:
        self.run_part(1, tab, site_url, generated, answers)

    def test_part_3(self, tab: Page, site_url: str, generated: list[GeneratedQuery], answers: Answers) -> None:
        self.run_part(2, tab, site_url, generated, answers)

    def test_part_4(self, tab: Page, site_url: str, generated: list[GeneratedQuery], answers: Answers) -> None:
        self.run_part(3, tab, site_url, generated, answers)

    def test_part_5(self, tab: Page, site_url: str, generated: list[GeneratedQuery], answers: Answers) -> None:
        self.run_part(4, tab, site_url, generated, answers)

    def test_part_6(self, tab: Page, site_url: str, generated: list[GeneratedQuery], answers: Answers) -> None:
        self.run_part(5, tab, site_url, generated, answers)

    def test_the_whole_set_finds_its_pages(
        self, generated: list[GeneratedQuery], answers: Answers, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The generated queries find their pages at least as well as the floor reached so far."""
        missing = [query.query for query in generated if query.query not in answers.pages]
        assert not missing, f"{len(missing)} queries were not run (a part failed or was deselected)"
        scores = score(((query.query, query.pages) for query in generated), answers.pages)
        report(scores, "generated search", answers.seconds, capsys)
        hit_at_1, hit_at_3 = scores.hit_at(1), scores.hit_at(3)
        assert hit_at_3 >= FLOOR_HIT_AT_3, scores.summary("generated search")
        assert hit_at_1 >= FLOOR_HIT_AT_1, scores.summary("generated search")


def test_project_queries_hit_at_1_in_chromium(
    browser: Browser, site_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The project's own set, in the same format; each in the first three."""
    answers = Answers()
    with search_tab(browser, site_url) as tab:
        run_in_chromium(tab, site_url, [query for query, _ in QUERIES], answers)
    scores = score(((query, (page,)) for query, page in QUERIES), answers.pages)
    report(scores, "project search", answers.seconds, capsys, targets=False)
    assert scores.hit_at(3) == 1, scores.summary("project search")
