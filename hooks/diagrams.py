"""MkDocs hook: show each ```mermaid fence as an SVG drawn ahead of time, not in the reader's browser.

Drawing diagrams in the browser means loading mermaid (3.5 MB) on every page that has one, which is
most of a first visit's weight. Instead `scripts/render_diagrams.py` draws each diagram once with the
vendored mermaid in Chromium and stores the SVG in `diagrams/`, named by a hash of everything the
drawing depends on: the diagram's source, mermaid's version, the settings and the stylesheet below.
This hook puts that SVG into the page, followed by the source in a collapsed block. A diagram
without a stored drawing (new or edited) fails the build with the page, the line and the command
that draws it, so a page never shows a drawing of an older source.
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[1]
DRAWINGS = ROOT / "diagrams"
"""Where the SVGs are stored, one `{key}.svg` per diagram source."""
THEME = DRAWINGS / "theme.css"
"""Colours for the drawings, given as the theme's CSS variables, so they follow the light/dark toggle."""
MERMAID = ROOT / "vendor"
RENDER_COMMAND = "uv run python scripts/render_diagrams.py"

# A mermaid fence, at any indentation (inside an admonition or a tab too).
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})mermaid[ \t]*\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    flags=re.MULTILINE | re.DOTALL,
)


def mermaid_bundle() -> Path:
    """The vendored `mermaid.min.js` (the newest, if a second version is being brought in)."""
    bundles = sorted(MERMAID.glob("mermaid-*/mermaid.min.js"))
    if not bundles:
        raise PluginError(f"No vendored mermaid: expected {MERMAID}/mermaid-<version>/mermaid.min.js")
    return bundles[-1]


def render_settings() -> dict[str, Any]:
    """What `mermaid.initialize()` gets: fixed ids so a drawing is the same on every run, text labels
    (no HTML inside the SVG), and the site's colours through `themeCSS`."""
    return {
        "startOnLoad": False,
        "deterministicIds": True,
        "securityLevel": "strict",
        "theme": "neutral",
        "htmlLabels": False,
        "flowchart": {"htmlLabels": False},
        "fontFamily": "var(--md-text-font-family), sans-serif",
        "themeCSS": THEME.read_text(encoding="utf-8"),
    }


@dataclass(frozen=True)
class Diagram:
    """One ```mermaid fence: where it is, its source, and the name of its drawing."""

    line: int
    indent: str
    source: str
    start: int
    end: int

    @property
    def key(self) -> str:
        """A hash of the source and of everything else the drawing depends on."""
        inputs = {"mermaid": mermaid_bundle().parent.name, "settings": render_settings(), "source": self.source}
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:20]

    @property
    def drawing(self) -> Path:
        """The stored SVG for this source (it may not exist yet)."""
        return DRAWINGS / f"{self.key}.svg"


def diagrams_in(markdown: str) -> list[Diagram]:
    """Every mermaid fence in a page's Markdown, in page order."""
    found = []
    for match in FENCE.finditer(markdown):
        indent = match["indent"]
        source = textwrap.dedent(match["body"]) if indent else match["body"]
        line = markdown.count("\n", 0, match.start()) + 1
        found.append(Diagram(line, indent, source.strip() + "\n", match.start(), match.end()))
    return found


def site_diagrams() -> list[tuple[str, Diagram]]:
    """Every mermaid diagram under docs/, as (`docs/page.md:line`, diagram), in file order."""
    return [
        (f"{page.relative_to(ROOT).as_posix()}:{diagram.line}", diagram)
        for page in sorted((ROOT / "docs").rglob("*.md"))
        for diagram in diagrams_in(page.read_text(encoding="utf-8"))
    ]


def replacement(diagram: Diagram) -> str:
    """The drawing, then its source in a collapsed block, indented like the fence was."""
    svg = diagram.drawing.read_text(encoding="utf-8").strip()
    source = textwrap.indent(diagram.source, "    ")
    # Its natural width, for diagrams.css; focusable, so a keyboard can scroll it on a small screen;
    # left out of the search index, where its labels would run together (the source below is in).
    natural = re.search(r'<svg [^>]*style="max-width: ([\d.]+px);', svg)
    width = f' style="--diagram-width: {natural[1]}"' if natural else ""
    block = (
        f'<div class="diagram" data-diagram="{diagram.key}" data-search-exclude tabindex="0"{width}>{svg}</div>\n\n'
        f'??? abstract "Source of this diagram (Mermaid)"\n\n    ```mermaid\n{source}    ```\n'
    )
    return textwrap.indent(block, diagram.indent)


def missing_drawings(markdown: str, page_path: str) -> list[str]:
    """`page.md:line` for each diagram on a page that has no stored drawing."""
    return [f"{page_path}:{diagram.line}" for diagram in diagrams_in(markdown) if not diagram.drawing.is_file()]


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Swap each mermaid fence for its stored drawing; fail the build if one is missing."""
    diagrams = diagrams_in(markdown)
    # Lines are counted in the page as written: other hooks may have changed the Markdown already.
    missing = missing_drawings(page.file.content_string, f"docs/{page.file.src_uri}")
    if missing:
        raise PluginError(
            "Mermaid diagram(s) without a drawing (new or changed since the last one was made):\n"
            + "\n".join(missing)
            + f"\nDraw them with `{RENDER_COMMAND}` (needs Chromium) and commit diagrams/."
        )
    for diagram in reversed(diagrams):
        markdown = markdown[: diagram.start] + replacement(diagram) + markdown[diagram.end :]
    return markdown
