"""MkDocs hook: after mkdocs-llmstxt and Material's search have read a page, its code blocks get
their highlighting back.

See `code_as_text_for_parsers.py`, which reduced the code to text for those two plugins alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.pages import Page

RESTORE = "restore_highlighted_code"  # as code_as_text_for_parsers.py names it


def _restored(html: str, page: Page) -> str:
    restore: Callable[[str], str] = getattr(page, RESTORE)
    delattr(page, RESTORE)
    return restore(html)


@event_priority(-10)  # after mkdocs-llmstxt (priority 0)
def on_page_content(html: str, page: Page, **kwargs: object) -> str:
    """The page with its highlighted code back."""
    return _restored(html, page)


@event_priority(-10)  # after Material's search (priority 0)
def on_page_context(context: dict[str, Any], page: Page, **kwargs: object) -> dict[str, Any]:
    """The page with its highlighted code back."""
    assert page.content is not None
    page.content = _restored(page.content, page)
    return context
