"""MkDocs hook: give mkdocs-llmstxt one section per top-level nav entry, pages in nav order.

The nav is the one list of pages; typing it again under `llmstxt: sections:` would drift.
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError

from guidekit.markdown.nav import sections_from


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Fill in `sections` of the llmstxt plugin, which has read its config but not the files yet."""
    plugin = config.plugins.get("llmstxt")
    if plugin is None:
        raise PluginError("hooks/llms_sections.py needs the llmstxt plugin in `plugins:`")
    plugin.config.sections = sections_from(config.nav or [])
    return config
