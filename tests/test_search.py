"""Search finds code names as typed: Material's own search worker, run under Node on the built index."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BuiltSite

HARNESS = Path(__file__).with_name("search_harness.js")

# (query, the page that must come first). Each name appears on the page that explains it.
QUERIES = [
    ("SessionDep", "architecture/dependency-injection/"),
    ("first_or_default", "reference/base-table/"),
    ("soft_delete", "reference/base-table/"),
    ("join_transaction_mode", "decisions/"),
    ("create_savepoint", "decisions/"),
    ("MessagingServiceDep", "architecture/dependency-injection/"),
    ("LAYER_RULES", "architecture/layer-rules/"),
]


@pytest.fixture(scope="session")
def search(built_site: BuiltSite) -> dict[str, list[str]]:
    """The pages each query in `QUERIES` returns, best first."""
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


@pytest.mark.parametrize(("query", "page"), QUERIES)
def test_query_finds_its_page_first(search: dict[str, list[str]], query: str, page: str) -> None:
    assert search[query][:1] == [page], f"searching {query!r} should lead to {page}; got {search[query][:3]}"
