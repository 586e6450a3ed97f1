"""Proof links (both builders): a test that a page names as the proof of a claim links to its source.

A page names its proof in backticks, `` `test_a_killed_worker_loses_no_task` ``. This extension
- fails the build when a named test does not exist, with the page, the line and the fix;
- fails the build when a "Don't" box (or one bullet of a box written as a list) names no test;
- fills the Proofs page (`reference/proofs.md`): for each named test, the pages that name it and
  the test's source;
- turns each such name into a link to its entry on the Proofs page;
- lays the Proofs page out for a phone: each listing in a `<template>` inside its closed box
  (no element of the page until a reader opens the box and `theme-fixes.js` puts it in), each
  module's entries rendered only in view, and only the modules in the table of contents.

The logic is `guidekit.proofs`, which also holds the run's half (every named test ran and passed).
"""

import re
from typing import Any
from xml.etree.ElementTree import Element

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

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


# A test's box as pymdownx.details writes it: its summary, then the listing. The listing's code is
# escaped (`&lt;`), so the first `</details>` after the summary is the box's own.
_BOX = re.compile(r'(<details class="example">\s*<summary>.*?</summary>)(.*?)(</details>)', re.DOTALL)
# A module: from its h2 to the next h2 or the page's stamp.
_MODULE = re.compile(r"<h2\b.*?(?=<h2\b|<p class=\"page-stamp\"|\Z)", re.DOTALL)
LISTING_CLASS = "proof-listing"
"""The class of the `<template>` that holds a listing on the Proofs page (theme-fixes.js reads it)."""
MODULE_CLASS = "proof-module"
"""The class of the `<section>` that holds one module's heading and entries (theme-fixes.css
renders it when seen)."""


class ProofsPageLayout(Postprocessor):
    """The Proofs page as a phone can load it: each listing in a `<template>`, each module's heading
    and entries in a `<section>` the browser renders only when it comes into view.

    Lighthouse, mobile, on this machine (scripts/bench_lighthouse.py, 2026-12-05): with every
    listing in a closed box the page had 36,949 elements and scored 75 (one run); a template's
    content is parsed into a fragment of its own, outside the page, and with the listings in
    templates and only the modules in the contents it had 4,490 and still scored 75 (median of 3):
    the 371 boxes and headings cost a phone about a second of style and layout at load. With
    `content-visibility: auto` on each module's section it scores 93 (runs 93, 93, 93 in the
    survey of every nav page; desktop 100). The h2 belongs inside the section: outside it, where
    the theme's contents measure each heading, it scored 84 and 87 (two medians of 3).
    """

    def run(self, text: str) -> str:
        page = current_page(self.md)
        if page is None or page.src_path != PROOFS_PAGE:
            return text
        text = _BOX.sub(rf'\1<template class="{LISTING_CLASS}">\2</template>\3', text)
        return _MODULE.sub(lambda module: f'<section class="{MODULE_CLASS}">\n{module[0]}</section>\n', text)


class ModulesOnlyInContents(Treeprocessor):
    """On the Proofs page, the table of contents lists the test modules (h2), not every test (h3).

    Hundreds of entries nobody scans made the sidebar half the page's elements, and the theme
    measures where each entry's heading is on every scroll (`toc.follow`). Both builders build the
    sidebar from `md.toc_tokens`, which the toc extension's treeprocessor (priority 5) has just set.
    """

    def run(self, root: Element) -> None:
        page = current_page(self.md)
        if page is not None and page.src_path == PROOFS_PAGE:
            tokens: list[dict[str, Any]] = getattr(self.md, "toc_tokens", [])
            tokens[:] = _down_to_modules(tokens)


def _down_to_modules(tokens: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The toc extension's tokens without the headings below h2 (the page's title is h1, its modules h2)."""
    return [{**token, "children": _down_to_modules(token["children"])} for token in tokens if token["level"] <= 2]


class ProofsExtension(Extension):
    """Registers the check (before pymdownx.snippets, 32), the links and the templates (after the raw
    HTML is back, 30), and the contents' trim (after the toc extension, 5)."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.preprocessors.register(ProofsCheck(md), "guidekit_proofs_check", 35)
        md.postprocessors.register(ProofLinks(md), "guidekit_proof_links", 10)
        md.postprocessors.register(ProofsPageLayout(md), "guidekit_proofs_layout", 4)
        md.treeprocessors.register(ModulesOnlyInContents(md), "guidekit_proof_contents", 4)


def makeExtension(**kwargs: object) -> ProofsExtension:  # noqa: N802 (Python-Markdown's name)
    """The entry point Python-Markdown calls for `guidekit.extensions.proofs`."""
    return ProofsExtension(**kwargs)
