"""MkDocs hook: a test that a page names as the proof of a claim links to that test's source.

A page names its proof in backticks, `` `test_a_killed_worker_loses_no_task` ``. This hook
- fails the build when a named test does not exist, with the page, the line and the fix;
- fails the build when a "Don't" box (or one bullet of a box written as a list) names no test;
- turns each such name into a link to its entry on the Proofs page (`reference/proofs.md`);
- fills that page: for each named test, the pages that name it and the test's source.

The test run checks the other half: every named test ran and passed
(`guidekit/guard/run_hooks.py`).
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from guidekit.proofs import PROOFS_PAGE, defined_tests, named_tests, proofs_markdown, unknown, unproven_boxes

# Inline code in the rendered HTML; one already inside a link is left alone.
_INLINE_NAME = re.compile(r"(<a\b[^>]*>)?<code>(test_\w+)</code>")


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fail on a named test that does not exist or a "Don't" box that names none; fill the Proofs page."""
    # The file as written: other hooks have already added lines to `markdown`, which would shift them.
    source = Path(page.file.abs_src_path).read_text(encoding="utf-8") if page.file.abs_src_path else markdown
    where = f"docs/{page.file.src_uri}"
    problems = unknown(named_tests(where, source)) + unproven_boxes(where, source)
    if problems:
        raise PluginError("\n".join(problems))
    if page.file.src_uri == PROOFS_PAGE:
        return markdown.rstrip("\n") + "\n\n" + proofs_markdown()
    return markdown


@event_priority(20)  # before mkdocs-llmstxt and search read the page: they get the link too
def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Link each named test to its entry on the Proofs page."""
    if page.file.src_uri == PROOFS_PAGE:
        return html
    proofs_url = get_relative_url(PROOFS_PAGE.removesuffix(".md") + "/", page.url or ".")

    def link(match: re.Match[str]) -> str:
        if match[1] or match[2] not in defined_tests():
            return match[0]
        title = "The test that proves this: open its source"
        return f'<a class="proof-link" href="{proofs_url}#{match[2]}" title="{title}"><code>{match[2]}</code></a>'

    return _INLINE_NAME.sub(link, html)
