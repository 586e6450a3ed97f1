"""MkDocs hook: mkdocs-llmstxt reads each page with its code as plain text, not as highlighting.

mkdocs-llmstxt turns every page's HTML into Markdown with BeautifulSoup and markdownify, which
took half of a build's time, and nine tenths of the elements it parses are the token and line
spans of highlighted code, of which the Markdown keeps only the text. So just before it runs,
each highlighted `<code>` becomes its text (still escaped HTML), and right after it runs,
`restore_highlighted_code.py` puts the highlighted page back for every other reader. The
Markdown it writes is the same either way (tests/test_llms_input.py).

Material's search plugin parses the pages too, but after cross-references are resolved and
while it also edits the page (it removes `data-search-*` attributes), so it is left alone.
"""

from __future__ import annotations

import re

from mkdocs.plugins import event_priority
from mkdocs.structure.pages import Page

# A highlighted block's code: pymdownx.highlight writes `<pre>` with `<code>` holding only spans,
# anchors and escaped text, so removing the tags leaves the text.
_HIGHLIGHTED_CODE = re.compile(r"(<pre[^>]*>(?:<span></span>)?<code[^>]*>)(.*?)(</code></pre>)", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
# Where the page keeps its highlighted HTML until restore_highlighted_code.py puts it back
# (MkDocs loads each hook file as a module of its own, so the two share the page, not a module).
KEPT = "highlighted_html"


def code_as_text(html: str) -> str:
    """The page's HTML with each highlighted code block's markup reduced to its text."""
    return _HIGHLIGHTED_CODE.sub(lambda match: match[1] + _TAG.sub("", match[2]) + match[3], html)


@event_priority(10)  # before mkdocs-llmstxt (priority 0)
def on_page_content(html: str, page: Page, **kwargs: object) -> str:
    """Keep the highlighted page and hand on the light one."""
    setattr(page, KEPT, html)
    return code_as_text(html)
