"""The queries the site itself implies (`guidekit.site.search_generated`), run through Material's search worker.

The worker runs under Node on the built index, as in tests/test_search.py. The test prints the
figures beside issue 14's targets (hit@3 100 %, hit@1 at least 90 %) and fails on any fall below
the floor reached so far (`guidekit.site.search_score`: hit@3 100 %). Every miss is printed: the
query, the page it expects and the first five results.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from guidekit.site.build import BuiltSite
from guidekit.site.search_generated import QuerySet, generate
from guidekit.site.search_queries import QUERIES
from guidekit.site.search_score import FLOOR_HIT_AT_1, FLOOR_HIT_AT_3, Scores, score

HARNESS = Path(__file__).with_name("search_harness.js")


@pytest.fixture(scope="session")
def generated() -> QuerySet:
    """The generated queries, derived from this checkout."""
    return generate()


def worker_results(built_site: BuiltSite, queries: list[str]) -> dict[str, list[str]]:
    """The pages (URL paths) Material's search worker returns for each query, best first."""
    node = shutil.which("node")
    assert node, "Node.js runs Material's search worker here; install the `nodejs` Debian package"
    worker = next((built_site.path / "assets" / "javascripts" / "workers").glob("search.*.min.js"))
    index = built_site.path / "search" / "search_index.json"
    completed = subprocess.run(
        [node, str(HARNESS), str(worker), str(index), *queries], capture_output=True, text=True, check=True
    )
    results: dict[str, list[str]] = json.loads(completed.stdout)
    pages: dict[str, list[str]] = {}
    for query, found in results.items():
        # One result per page: the worker groups a page's sections under it.
        pages[query] = list(dict.fromkeys(location.partition("#")[0] for location in found))
    return pages


def report(scores: Scores, name: str, capsys: pytest.CaptureFixture[str], *, targets: bool = True) -> None:
    with capsys.disabled():
        print(f"\n{scores.summary(name)}" + (f"; {scores.against_targets()}" if targets else ""))
        for miss in scores.misses:
            print(f"  miss {miss}")


def test_generated_queries_find_their_page(
    built_site: BuiltSite, generated: QuerySet, capsys: pytest.CaptureFixture[str]
) -> None:
    """The generated queries find their pages at least as well as the floor reached so far."""
    results = worker_results(built_site, [query.query for query in generated.queries])
    scores = score(((query.query, query.pages) for query in generated.queries), results)
    report(scores, "generated search", capsys)
    with capsys.disabled():
        counts = ", ".join(f"{source} {count}" for source, count in generated.counts().items())
        print(
            f"  from: {counts}; dropped {len(generated.dropped)} (`python -m guidekit.site.search_generated` says why)"
        )
    hit_at_1, hit_at_3 = scores.hit_at(1), scores.hit_at(3)
    off_the_podium = scores.beyond(3)
    assert hit_at_3 >= FLOOR_HIT_AT_3, f"{scores.summary('generated search')}; not in the first 3:\n" + "\n".join(
        off_the_podium
    )
    assert hit_at_1 >= FLOOR_HIT_AT_1, scores.summary("generated search")


def test_project_queries_hit_at_1(built_site: BuiltSite, capsys: pytest.CaptureFixture[str]) -> None:
    """The project's own queries in the same format; each must be in the first three (tests/test_search.py)."""
    results = worker_results(built_site, [query for query, _ in QUERIES])
    scores = score(((query, (page,)) for query, page in QUERIES), results)
    report(scores, "project search", capsys, targets=False)
    assert scores.hit_at(3) == 1, scores.summary("project search")
