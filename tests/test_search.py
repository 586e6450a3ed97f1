"""Search finds code names as typed: Material's own search worker, run under Node on the built index."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from guidekit.markdown.nav import page_url_path
from guidekit.site.build import BuiltSite
from guidekit.site.search_queries import QUERIES

HARNESS = Path(__file__).with_name("search_harness.js")

# Identifiers with `_`: the names a separator that splits on `_` would break into common words.
SNAKE_CASE = [query for query, _ in QUERIES if query.isidentifier() and "_" in query]


@pytest.fixture(scope="session")
def search(built_site: BuiltSite) -> dict[str, list[str]]:
    """The pages each query returns, best first."""
    node = shutil.which("node")
    assert node, "Node.js runs Material's search worker here; install the `nodejs` Debian package"
    worker = next((built_site.path / "assets" / "javascripts" / "workers").glob("search.*.min.js"))
    index = built_site.path / "search" / "search_index.json"
    queries = [query for query, _ in QUERIES]
    completed = subprocess.run(
        [node, str(HARNESS), str(worker), str(index), *queries], capture_output=True, text=True, check=True
    )
    results: dict[str, list[str]] = json.loads(completed.stdout)
    return {query: [location.partition("#")[0] for location in found] for query, found in results.items()}


@pytest.fixture(scope="session")
def page_texts(built_site: BuiltSite) -> dict[str, str]:
    """The indexed text of each page, as the search worker sees it."""
    texts: dict[str, str] = {}
    for doc in json.loads((built_site.path / "search" / "search_index.json").read_text())["docs"]:
        page = doc["location"].partition("#")[0]
        texts[page] = texts.get(page, "") + doc["title"] + "\n" + doc["text"] + "\n"
    return texts


@pytest.mark.parametrize(("query", "expected"), QUERIES)
def test_query_finds_the_page_that_defines_it(search: dict[str, list[str]], query: str, expected: str) -> None:
    """The same promise as tests/browser/test_search.py, from the search worker alone."""
    wanted = page_url_path(expected)
    assert wanted in search[query][:3], f"searching {query!r}: {expected} is not in the first 3 of {search[query][:5]}"


@pytest.mark.parametrize("query", SNAKE_CASE)
def test_query_leads_to_a_page_that_uses_the_name(
    search: dict[str, list[str]], page_texts: dict[str, str], query: str
) -> None:
    assert search[query], f"searching {query!r} finds nothing"
    first = search[query][0]
    assert query in page_texts[first], f"searching {query!r} leads to {first!r}, which never writes it"
