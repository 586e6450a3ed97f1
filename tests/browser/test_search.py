"""Search finds a pattern by the name engineers type: identifiers and plain phrases alike.

Each query names the page that defines the pattern; it must be among the first three results.
The test prints hit@1 and hit@3 over all queries.
"""

import pytest
from playwright.sync_api import Browser

from guidekit.markdown.nav import nav_pages, page_url_path
from guidekit.site.browser import search
from guidekit.site.search_queries import QUERIES

MIN_QUERIES = 25


def test_queries_name_pages_of_the_nav() -> None:
    """Enough queries, each expecting a page the nav has (anything else is a mistake in this list)."""
    assert len(QUERIES) >= MIN_QUERIES
    missing = sorted({page for _, page in QUERIES} - set(nav_pages()))
    assert not missing, f"expected pages not in the nav: {missing}"


def test_search_finds_each_pattern_in_the_first_three_results(
    browser: Browser, site_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Type each query into the search box; the defining page must be among the first three results."""
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    try:
        page.goto(site_url, wait_until="networkidle")
        # The index loads when search is first opened (overrides/main.html): one search, not
        # counted, waits for it to be loaded and indexed.
        search(page, site_url, QUERIES[0][0], timeout_ms=60_000)
        ranks: dict[str, int | None] = {}
        misses: list[str] = []
        for query, expected in QUERIES:
            shown = search(page, site_url, query).pages
            wanted = page_url_path(expected)
            rank = shown.index(wanted) + 1 if wanted in shown else None
            ranks[query] = rank
            if rank is None or rank > 3:
                misses.append(f"{query!r}: expected {expected} in the first 3, got {shown[:5]}")
    finally:
        context.close()
    hit_at_1 = sum(rank == 1 for rank in ranks.values()) / len(ranks)
    hit_at_3 = sum(rank is not None and rank <= 3 for rank in ranks.values()) / len(ranks)
    with capsys.disabled():
        print(f"\nsearch: {len(ranks)} queries, hit@1 {hit_at_1:.0%}, hit@3 {hit_at_3:.0%}")
    assert not misses, "search misses:\n" + "\n".join(misses)
