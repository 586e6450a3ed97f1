"""MkDocs hook: give mkdocs-llmstxt one section per top-level nav entry, pages in nav order.

The nav is the one list of pages; typing it again under `llmstxt: sections:` would drift.
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError


def pages_in(entry: object) -> list[str]:
    """The Markdown files of one nav entry and its children, in order; links are left out."""
    if isinstance(entry, str):
        return [entry] if entry.endswith(".md") else []
    if isinstance(entry, list):
        return [page for child in entry for page in pages_in(child)]
    if isinstance(entry, dict):
        return [page for child in entry.values() for page in pages_in(child)]
    raise PluginError(f"unexpected nav entry: {entry!r}")


def sections_from(nav: list[object]) -> dict[str, list[str]]:
    """`{title: [pages]}` for each top-level nav entry."""
    sections: dict[str, list[str]] = {}
    for entry in nav:
        if isinstance(entry, dict):
            for title, children in entry.items():
                sections[title] = pages_in(children)
        else:
            sections.setdefault("Pages", []).extend(pages_in(entry))
    return {title: pages for title, pages in sections.items() if pages}


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Fill in `sections` of the llmstxt plugin, which has read its config but not the files yet."""
    plugin = config.plugins.get("llmstxt")
    if plugin is None:
        raise PluginError("hooks/llms_sections.py needs the llmstxt plugin in `plugins:`")
    plugin.config.sections = sections_from(config.nav or [])
    return config
