"""Show each ```mermaid fence of a page as the SVG drawn ahead of time (both builders; see `guidekit.diagrams`).

Priority 34: after the generated content (36) and the Proofs page (35), before pymdownx.snippets (32).
"""

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

from guidekit.diagrams import RENDER_COMMAND, missing_drawings, with_drawings
from guidekit.extensions.page import PageError, page_written


class Diagrams(Preprocessor):
    """Swap each mermaid fence for its stored drawing; fail the build if one is missing."""

    def run(self, lines: list[str]) -> list[str]:
        page = page_written(self.md)
        if page is None:
            return lines
        # Lines are counted in the page as written: the extensions before this one change the page.
        missing = missing_drawings(page.written(), page.where)
        if missing:
            raise PageError(
                "Mermaid diagram(s) without a drawing (new or changed since the last one was made):\n"
                + "\n".join(missing)
                + f"\nDraw them with `{RENDER_COMMAND}` (needs Chromium) and commit diagrams/."
            )
        return with_drawings("\n".join(lines)).split("\n")


class DiagramsExtension(Extension):
    """Registers the drawings."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.preprocessors.register(Diagrams(md), "guidekit_diagrams", 34)


def makeExtension(**kwargs: object) -> DiagramsExtension:  # noqa: N802 (Python-Markdown's name)
    """The entry point Python-Markdown calls for `guidekit.extensions.diagrams`."""
    return DiagramsExtension(**kwargs)
