"""How well search answered a set of queries: hit@1, hit@3 and every miss, in one printed format.

Shared by the Node and the Chromium search tests, so both print the same figures.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from guidekit.markdown.nav import page_url_path

# Issue 14's targets for the generated set, printed beside every result so the gap stays in view.
TARGET_HIT_AT_1 = 0.90
TARGET_HIT_AT_3 = 1.0
# What the ranking reached (hit@1 a little below it, hit@3 the target itself): the tests fail on any
# fall back from there. On 2026-12-05 it met the targets (hit@1 96.1 %, hit@3 100 %; 78 % and 93 %
# before the query rewrite asked for each word as typed too, titles were weighed by their length,
# stop words were indexed, a page's opening weighed 0.6 of a section, a "Don't" box weighed its
# subjects only, a method shown in its class counted as defined, the Decisions page's rows weighed
# their names on the sections they link to, a route's full path counted as defined where its
# decorator is shown and a phrase typed whole ranked the pages that hold it). Two changes were to
# what counts as found, not to the ranking: headings the search reads as one query accept each
# other's pages, and a Decisions name accepts a page whose heading holds it as code
# (guidekit/site/search_generated.py).
FLOOR_HIT_AT_1 = 0.95
FLOOR_HIT_AT_3 = TARGET_HIT_AT_3


@dataclass(frozen=True)
class Scores:
    """The rank of each query's first accepted page (None: not among the results)."""

    ranks: dict[str, int | None]
    misses: list[str]
    """Each query not answered on the first try: the query, what was expected, the first five results."""
    missed: dict[str, str] = field(default_factory=dict)
    """The same lines by query."""

    def beyond(self, k: int) -> list[str]:
        """The misses whose accepted page is not among the first k results (from the ranks, not the text)."""
        return [self.missed[query] for query, rank in self.ranks.items() if rank is None or rank > k]

    def hit_at(self, k: int) -> float:
        """The share of queries whose accepted page is among the first k results."""
        return sum(rank is not None and rank <= k for rank in self.ranks.values()) / max(len(self.ranks), 1)

    def summary(self, name: str) -> str:
        """`{name}: N queries, hit@1 X%, hit@3 Y%`."""
        return f"{name}: {len(self.ranks)} queries, hit@1 {self.hit_at(1):.0%}, hit@3 {self.hit_at(3):.0%}"

    def against_targets(self) -> str:
        """The gap to issue 14's targets, or that they are met."""
        if self.hit_at(1) >= TARGET_HIT_AT_1 and self.hit_at(3) >= TARGET_HIT_AT_3:
            return "targets met"
        return (
            f"targets hit@1 {TARGET_HIT_AT_1:.0%} and hit@3 {TARGET_HIT_AT_3:.0%} NOT met"
            f" (floor asserted: hit@1 {FLOOR_HIT_AT_1:.0%}, hit@3 {FLOOR_HIT_AT_3:.0%})"
        )


def score(expected: Iterable[tuple[str, tuple[str, ...]]], results: Mapping[str, list[str]]) -> Scores:
    """Rank each query's accepted pages (source paths) in its results (URL paths, best first)."""
    ranks: dict[str, int | None] = {}
    misses: dict[str, str] = {}
    for query, pages in expected:
        shown = results[query]
        wanted = {page_url_path(page) for page in pages}
        rank = next((index for index, found in enumerate(shown, start=1) if found in wanted), None)
        ranks[query] = rank
        if rank != 1:
            where = "not found" if rank is None else f"rank {rank}"
            misses[query] = f"{query!r}: expected {' or '.join(pages)} ({where}), got {shown[:5]}"
        else:
            misses.pop(query, None)
    return Scores(ranks, list(misses.values()), misses)
