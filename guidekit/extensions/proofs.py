"""Proof links (both builders): a test that a page names as the proof of a claim links to its source.

A page names its proof in backticks, `` `test_a_killed_worker_loses_no_task` ``. This extension
- fails the build when a named test does not exist, with the page, the line and the fix;
- fails the build when a "Don't" box (or one bullet of a box written as a list) names no test;
- fills the Proofs page (`reference/proofs.md`): for each named test, the pages that name it and
  the test's source;
- turns each such name into a link to its entry on the Proofs page.

The logic is `guidekit.proofs`, which also holds the run's half (every named test ran and passed).
"""

import re

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor

from guidekit.extensions.page import PageError, current_page, page_written
from guidekit.proofs import PROOFS_PAGE, defined_tests, named_tests, proofs_markdown, unknown, unproven_boxes

# Inline code in the rendered HTML; one already inside a link is left alone.
_INLINE_NAME = re.compile(r"(<a\b[^>]*>)?<code>(test_\w+)</code>")
LINK_TITLE = "The test that proves this: open its source"


class ProofsCheck(Preprocessor):
    """Fail on a named test that does not exist or a "Don't" box that names none; fill the Proofs page."""

    def run(self, lines: list[str]) -> list[str]:
        page = page_written(self.md)
        if page is None:
            return lines
        written = page.written()
        problems = unknown(named_tests(page.where, written)) + unproven_boxes(page.where, written)
        if problems:
            raise PageError("\n".join(problems))
        if page.src_path == PROOFS_PAGE:
            return [*lines, "", *proofs_markdown(page.docs).split("\n")]
        return lines


class ProofLinks(Postprocessor):
    """Link each named test to its entry on the Proofs page.

    A postprocessor on the final HTML: when treeprocessors run, inline code is still stashed by
    pymdownx.inlinehilite. `PageInfo.link_to` writes the link each builder expects at this stage.
    """

    def run(self, text: str) -> str:
        page = current_page(self.md)
        if page is None or page.src_path == PROOFS_PAGE:
            return text

        def link(match: re.Match[str]) -> str:
            if match[1] or match[2] not in defined_tests():
                return match[0]
            href = page.link_to(PROOFS_PAGE, match[2])
            return f'<a class="proof-link" href="{href}" title="{LINK_TITLE}"><code>{match[2]}</code></a>'

        return _INLINE_NAME.sub(link, text)


class ProofsExtension(Extension):
    """Registers the check (before pymdownx.snippets, 32) and the links (after the raw HTML is back, 30)."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.preprocessors.register(ProofsCheck(md), "guidekit_proofs_check", 35)
        md.postprocessors.register(ProofLinks(md), "guidekit_proof_links", 10)


def makeExtension(**kwargs: object) -> ProofsExtension:  # noqa: N802 (Python-Markdown's name)
    """The entry point Python-Markdown calls for `guidekit.extensions.proofs`."""
    return ProofsExtension(**kwargs)
