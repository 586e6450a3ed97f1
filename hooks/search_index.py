"""MkDocs hook: after Material's search plugin wrote `search/search_index.json`, add each section's
name parts to it, what its code defines (with the routes of `snippets/app` whose decorators it
shows), and weigh its titles less, and put the query rewrite in front of the search worker
(guidekit/site/search_index.py says why and how).

Zensical runs no hooks and writes its own index for its own search; tests/test_two_builders.py
names that difference.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority

from guidekit.site.search_index import refine_file, wrap_worker


@event_priority(-100)  # after the search plugin (priority 0) has written the index
def on_post_build(config: MkDocsConfig) -> None:
    """Refine the index the search plugin just wrote; rewrite queries before the theme's worker reads them."""
    site = Path(config.site_dir)
    refine_file(site / "search" / "search_index.json", Path(config.docs_dir))
    for worker in (site / "assets" / "javascripts" / "workers").glob("search.*.min.js"):
        wrap_worker(worker)
