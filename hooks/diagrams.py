"""MkDocs hook: show each ```mermaid fence as the SVG drawn ahead of time (see `guidekit.diagrams`)."""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from guidekit.diagrams import RENDER_COMMAND, missing_drawings, with_drawings


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Swap each mermaid fence for its stored drawing; fail the build if one is missing."""
    # Lines are counted in the page as written: other hooks may have changed the Markdown already.
    missing = missing_drawings(page.file.content_string, f"docs/{page.file.src_uri}")
    if missing:
        raise PluginError(
            "Mermaid diagram(s) without a drawing (new or changed since the last one was made):\n"
            + "\n".join(missing)
            + f"\nDraw them with `{RENDER_COMMAND}` (needs Chromium) and commit diagrams/."
        )
    return with_drawings(markdown)
