"""Run the guard on a page written for a test, never on the real site."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from guidekit.guard.checker import Context, FenceError
from guidekit.guard.guard import Verdict, check
from guidekit.markdown.fences import parse_page
from guidekit.paths import ROOT, SNIPPETS


@dataclass
class Outcome:
    """What the guard said about one fence of a test page."""

    where: str
    verdict: Verdict | None
    error: str | None


def guard_page(
    markdown: str, request: pytest.FixtureRequest, tmp_path: Path, snippets: Path = SNIPPETS
) -> list[Outcome]:
    """Write `markdown` as `docs/page.md` under tmp_path and check each of its fences."""
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "page.md").write_text(markdown, encoding="utf-8")
    context = Context(root=ROOT, docs=docs, snippets=snippets, fixture=request.getfixturevalue)
    outcomes = []
    for fence in parse_page(markdown, Path("page.md")):
        try:
            outcomes.append(Outcome(fence.where, check(fence, context), None))
        except FenceError as error:
            outcomes.append(Outcome(fence.where, None, str(error)))
    return outcomes


def only_error(markdown: str, request: pytest.FixtureRequest, tmp_path: Path, snippets: Path = SNIPPETS) -> str:
    """The guard's message for a page holding one fence that must fail."""
    (outcome,) = guard_page(markdown, request, tmp_path, snippets)
    assert outcome.error is not None, f"the guard accepted {outcome.where}: {outcome.verdict}"
    return outcome.error
