"""MkDocs hook: after mkdocs-llmstxt has read a page, the page gets its highlighted code back.

See `code_as_text_for_llms.py`, which lightened the page for mkdocs-llmstxt alone.
"""

from __future__ import annotations

from mkdocs.plugins import event_priority
from mkdocs.structure.pages import Page

KEPT = "highlighted_html"  # as code_as_text_for_llms.py keeps it


@event_priority(-10)  # after mkdocs-llmstxt (priority 0)
def on_page_content(html: str, page: Page, **kwargs: object) -> str:
    """The highlighted page, as it was before mkdocs-llmstxt."""
    highlighted: str = getattr(page, KEPT)
    delattr(page, KEPT)
    return highlighted
