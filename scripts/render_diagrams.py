"""Draw every ```mermaid diagram of the docs as an SVG in `diagrams/`, for guidekit/extensions/diagrams.py to show.

    uv run python scripts/render_diagrams.py

Run it after adding or changing a diagram, and commit `diagrams/`: the build fails on a diagram
without a drawing and names this command. Drawings no page uses any more are deleted. Needs
Chromium (`apt-get install -y --no-install-recommends chromium`, or `$CHROMIUM`).
"""

import sys

from playwright.sync_api import sync_playwright

from guidekit.diagrams import DRAWINGS, draw, site_diagrams
from guidekit.paths import ROOT
from guidekit.site.chromium import CHROMIUM_ARGS, NO_BROWSER, chromium_executable


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
