"""MkDocs hook: the two plugins that parse whole pages read highlighted code as plain text.

mkdocs-llmstxt turns each page's HTML into Markdown (`on_page_content`) and Material's search
splits it into sections (`on_page_context`). Both keep only the text of a code block, yet nine
tenths of the elements they parse are the token and line spans of highlighted code; parsing
them was most of a build's time. So just before each of them runs, every highlighted `<code>`
becomes its text (still escaped HTML), and right after, `restore_highlighted_code.py` puts each
block's highlighting back. Only the blocks are put back, so what a plugin changes elsewhere in
the page stays changed (search removes `data-search-*` attributes). tests/test_code_as_text.py
proves, on a long page, that the Markdown and the search sections come out the same, and that
each block gets its own highlighting back; a whole build with and without these hooks wrote
byte-identical files when they were added (every page, `search_index.json`, `llms-full.txt`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.pages import Page

# A highlighted block's code: pymdownx.highlight writes `<pre>` with `<code>` holding only spans,
# anchors and escaped text, so removing the tags leaves the text.
_HIGHLIGHTED_CODE = re.compile(r"(<pre[^>]*>(?:<span></span>)?<code[^>]*>)(.*?)(</code></pre>)", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
# Where the page keeps the function that puts its highlighting back, until
# restore_highlighted_code.py calls it (MkDocs loads each hook file as a module of its own, so
# the two share the page, not a module).
RESTORE = "restore_highlighted_code"


def code_as_text(html: str) -> tuple[str, Callable[[str], str]]:
    """The page's HTML with each highlighted block's markup reduced to its text, and the function
    that gives a page derived from it its highlighted blocks back."""
    highlighted: list[str] = []

    def as_text(match: re.Match[str]) -> str:
        highlighted.append(match[2])
        return match[1] + _TAG.sub("", match[2]) + match[3]

    def restore(light: str) -> str:
        blocks = iter(highlighted)

        def back(match: re.Match[str]) -> str:
            block = next(blocks, None)
            if block is None:
                raise ValueError("a plugin added a code block to the page while its code was text")
            return match[1] + block + match[3]

        restored = _HIGHLIGHTED_CODE.sub(back, light)
        if next(blocks, None) is not None:
            raise ValueError("a plugin removed a code block from the page while its code was text")
        return restored

    return _HIGHLIGHTED_CODE.sub(as_text, html), restore


def _lighten(html: str, page: Page) -> str:
    light, restore = code_as_text(html)
    setattr(page, RESTORE, restore)
    return light


@event_priority(10)  # before mkdocs-llmstxt (priority 0)
def on_page_content(html: str, page: Page, **kwargs: object) -> str:
    """Hand on the page with its code as text."""
    return _lighten(html, page)


@event_priority(10)  # before Material's search (priority 0)
def on_page_context(context: dict[str, Any], page: Page, **kwargs: object) -> dict[str, Any]:
    """Hand on the page with its code as text."""
    assert page.content is not None
    page.content = _lighten(page.content, page)
    return context
