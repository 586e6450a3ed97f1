"""Search finds code names as typed: Material's own search worker, run under Node on the built index."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from guidekit.site.build import BuiltSite

HARNESS = Path(__file__).with_name("search_harness.js")

# Names people paste into the search box. `expire_on_commit` and `create_savepoint` are the cases a
# separator that splits on `_` gets wrong: every page with "commit" or "create" outranks the real one.
QUERIES = [
    "SessionDep",
    "MessagingServiceDep",
    "first_or_default",
    "soft_delete",
    "join_transaction_mode",
    "create_savepoint",
    "expire_on_commit",
    "LAYER_RULES",
]


@pytest.fixture(scope="session")
def search(built_site: BuiltSite) -> dict[str, list[str]]:
    """The pages each query returns, best first."""
    node = shutil.which("node")
    assert node, "Node.js runs Material's search worker here; install the `nodejs` Debian package"
    worker = next((built_site.path / "assets" / "javascripts" / "workers").glob("search.*.min.js"))
    index = built_site.path / "search" / "search_index.json"
    completed = subprocess.run(
        [node, str(HARNESS), str(worker), str(index), *QUERIES], capture_output=True, text=True, check=True
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


@pytest.mark.parametrize("query", QUERIES)
def test_query_leads_to_a_page_that_uses_the_name(
    search: dict[str, list[str]], page_texts: dict[str, str], query: str
) -> None:
    assert search[query], f"searching {query!r} finds nothing"
    first = search[query][0]
    assert query in page_texts[first], f"searching {query!r} leads to {first!r}, which never writes it"
