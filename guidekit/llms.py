"""llms.txt's sections: one per top-level nav entry, pages in nav order.

The nav is the one list of pages; typing it again under `llmstxt: sections:` would drift. Neither
builder runs code between reading `mkdocs.yml` and handing the plugin its config (Zensical runs no
hooks), so `mkdocs.yml` computes the sections while it loads: both builders read it with PyYAML's
full loader, which calls `!!python/object/apply:guidekit.llms.sections_from_nav []`.
"""

from guidekit.markdown.nav import sections_from, site_config


def sections_from_nav() -> dict[str, list[str]]:
    """`{title: [pages]}` for each top-level entry of `mkdocs.yml`'s nav."""
    return sections_from(site_config()["nav"])
