"""MkDocs hook: check every `--8<--` include of a page before pymdownx.snippets expands it.

The grammar and the checks are `guidekit.markdown.includes`; this names the page and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from guidekit.markdown.includes import include_targets, problems_with, swallowed_lines


def snippet_base(config: MkDocsConfig) -> Path:
    """The first `base_path` of pymdownx.snippets, where include paths start."""
    options: dict[str, Any] = config.mdx_configs.get("pymdownx.snippets", {})
    bases = options.get("base_path", ["."])
    first = bases[0] if isinstance(bases, list) else bases
    return Path(config.config_file_path).parent / str(first)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fail the build on the first page with a broken include or a line the build would drop, listing each."""
    base = snippet_base(config)
    errors = [
        f"docs/{page.file.src_uri}:{number}: {problem}"
        for number, target in include_targets(markdown)
        if (problem := problems_with(target, base)) is not None
    ]
    errors += [f"docs/{page.file.src_uri}:{number}: {problem}" for number, problem in swallowed_lines(markdown)]
    if errors:
        raise PluginError("Broken snippet include(s):\n" + "\n".join(errors))
    return markdown
