"""Draw every ```mermaid diagram of the docs as an SVG in `diagrams/`, for hooks/diagrams.py to show.

    uv run python scripts/render_diagrams.py

Run it after adding or changing a diagram, and commit `diagrams/`: the build fails on a diagram
without a drawing and names this command. Drawings no page uses any more are deleted. Needs
Chromium (`apt-get install -y --no-install-recommends chromium`, or `$CHROMIUM`).
"""

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the hook owns the names and settings; this script only draws

from hooks.diagrams import DRAWINGS, Diagram, mermaid_bundle, render_settings, site_diagrams  # noqa: E402
from tests.browser.conftest import CHROMIUM_ARGS, NO_BROWSER, chromium_executable  # noqa: E402

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


def draw(tab: Page, diagrams: list[Diagram]) -> list[str]:
    """The SVG of each diagram, drawn by the vendored mermaid in a Chromium tab."""
    tab.set_content(DRAWING_PAGE)
    tab.add_script_tag(path=str(mermaid_bundle()))
    wanted = [{"id": f"diagram-{diagram.key}", "source": diagram.source} for diagram in diagrams]
    drawings: list[str] = tab.evaluate(DRAW, {"settings": render_settings(), "diagrams": wanted})
    # One line: the hook puts the SVG into Markdown as a raw HTML block, which a blank line would end.
    return [" ".join(svg.split("\n")) for svg in drawings]


def main() -> int:
    """Draw what is missing, delete what no page uses, and say what was done."""
    found = site_diagrams()
    wanted = {diagram.key: diagram for _, diagram in found}
    missing = [diagram for key, diagram in wanted.items() if not diagram.drawing.is_file()]
    executable = chromium_executable()
    if missing and executable is None:
        print(f"{len(missing)} diagram(s) to draw, but {NO_BROWSER}", file=sys.stderr)
        return 2
    if missing:
        assert executable is not None
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            for diagram, svg in zip(missing, draw(browser.new_page(), missing), strict=True):
                diagram.drawing.write_text(svg + "\n", encoding="utf-8")
            browser.close()
    unused = [path for path in DRAWINGS.glob("*.svg") if path.stem not in wanted]
    for path in unused:
        path.unlink()
    for where, diagram in found:
        state = "drawn now" if diagram in missing else "up to date"
        print(f"{where}: {diagram.drawing.relative_to(ROOT)} ({state})")
    print(f"{len(found)} diagram(s), {len(missing)} drawn, {len(unused)} unused drawing(s) deleted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
