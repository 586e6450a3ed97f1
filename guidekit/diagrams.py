"""Diagrams drawn ahead of time: each ```mermaid fence of the pages, drawn once as an SVG and stored.

Drawing diagrams in the browser means loading mermaid (3.5 MB) on every page that has one, which is
most of a first visit's weight. Instead `scripts/render_diagrams.py` draws each diagram once with the
vendored mermaid in Chromium (`draw`) and stores the SVG in `diagrams/`, named by a hash of everything
the drawing depends on: the diagram's source, mermaid's version, the settings and the stylesheet.
The build puts that SVG into the page, followed by the source in a collapsed block (`replacement`);
a diagram without a stored drawing fails the build with the page, the line and the command that
draws it, so a page never shows a drawing of an older source.
"""

import hashlib
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guidekit.markdown.fences import parse_page
from guidekit.paths import DOCS, ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Page

DRAWINGS = ROOT / "diagrams"
"""Where the SVGs are stored, one `{key}.svg` per diagram source."""
THEME = DRAWINGS / "theme.css"
"""Colours for the drawings, given as the theme's CSS variables, so they follow the light/dark toggle."""
MERMAID = ROOT / "vendor"
"""The vendored mermaid, which draws the diagrams and parses them in the guard."""
RENDER_COMMAND = "uv run python scripts/render_diagrams.py"


def mermaid_bundle() -> Path:
    """The vendored `mermaid.min.js` (the newest, if a second version is being brought in)."""
    bundles = sorted(MERMAID.glob("mermaid-*/mermaid.min.js"))
    if not bundles:
        raise FileNotFoundError(f"No vendored mermaid: expected {MERMAID}/mermaid-<version>/mermaid.min.js")
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
    """The 1-based line of the opening fence."""
    indent: str
    source: str
    start: int
    """The first line of the fence (1-based), as the page is written."""
    end: int
    """The line of its closing fence."""

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
    """Every mermaid fence in a page's Markdown, in page order (found by the site's one fence parser)."""
    return [
        Diagram(fence.line, fence.indent, fence.body.strip() + "\n", fence.line, fence.end)
        for fence in parse_page(markdown, Path("page.md"))
        if fence.language == "mermaid" and fence.closed  # an unclosed fence is text, as Markdown shows it
    ]


def site_diagrams() -> list[tuple[str, Diagram]]:
    """Every mermaid diagram under docs/, as (`docs/page.md:line`, diagram), in file order."""
    return [
        (f"{page.relative_to(ROOT).as_posix()}:{diagram.line}", diagram)
        for page in sorted(DOCS.rglob("*.md"))
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


def with_drawings(markdown: str) -> str:
    """The page with each mermaid fence swapped for its drawing (see `replacement`)."""
    lines = markdown.split("\n")
    for diagram in reversed(diagrams_in(markdown)):
        lines[diagram.start - 1 : diagram.end] = replacement(diagram).removesuffix("\n").split("\n")
    return "\n".join(lines)


def missing_drawings(markdown: str, page_path: str) -> list[str]:
    """`page.md:line` for each diagram on a page that has no stored drawing."""
    return [f"{page_path}:{diagram.line}" for diagram in diagrams_in(markdown) if not diagram.drawing.is_file()]


# Drawn in a page that sets the theme's text font, so labels are measured in the font readers see.
# The theme's variable, as Material defines it without a web font (`font: false` in mkdocs.yml).
DRAWING_PAGE = """<!doctype html><html><head><style>
:root { --md-text-font-family: -apple-system, BlinkMacSystemFont, Helvetica, Arial, sans-serif; }
</style></head><body></body></html>"""

DRAW = """async ({settings, diagrams}) => {
  mermaid.initialize(settings);
  const drawings = [];
  for (const {id, source} of diagrams) {
    const {svg} = await mermaid.render(id, source);
    drawings.push(svg);
  }
  return drawings;
}"""


def draw(tab: "Page", diagrams: list[Diagram]) -> list[str]:
    """The SVG of each diagram, drawn by the vendored mermaid in a Chromium tab."""
    tab.set_content(DRAWING_PAGE)
    tab.add_script_tag(path=str(mermaid_bundle()))
    wanted = [{"id": f"diagram-{diagram.key}", "source": diagram.source} for diagram in diagrams]
    drawings: list[str] = tab.evaluate(DRAW, {"settings": render_settings(), "diagrams": wanted})
    # One line: the build puts the SVG into Markdown as a raw HTML block, which a blank line would end.
    return [without_invalid_attributes(" ".join(svg.split("\n"))) for svg in drawings]


# A `name` attribute inside a tag (text between tags cannot hold `<` unescaped).
_NAME_ATTRIBUTE = re.compile(r'(<[a-zA-Z][^<>]*?) name="[^"]*"')


def without_invalid_attributes(svg: str) -> str:
    """A drawing without what HTML does not allow in an inline SVG: mermaid's sequence diagrams put
    a `name` (the participant's) on each actor's shapes, an attribute no SVG element has. Nothing
    reads it: mermaid's own script, which would, does not run on the site."""
    return _NAME_ATTRIBUTE.sub(r"\1", svg)
