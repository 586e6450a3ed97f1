"""Add each page's "verified" stamp at its end (both builders; the wording is `guidekit.generated.stamp`).

Priority 33: after the other checks read the page as written (37 to 34), before pymdownx.snippets
(32); the stamp is one more paragraph, so both builders, the search exclusion and llms-full.txt
treat it as the page's own text.
"""

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

from guidekit.extensions.page import page_written
from guidekit.generated.stamp import stamp_markdown


class Stamp(Preprocessor):
    """Append the stamp, after a blank line so it closes any open block (a list, an admonition)."""

    def run(self, lines: list[str]) -> list[str]:
        page = page_written(self.md)
        if page is None:
            return lines
        return [*lines, "", *stamp_markdown(page.where, page.root).split("\n")]


class StampExtension(Extension):
    """Registers the stamp."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.preprocessors.register(Stamp(md), "guidekit_stamp", 33)


def makeExtension(**kwargs: object) -> StampExtension:  # noqa: N802 (Python-Markdown's name)
    """The entry point Python-Markdown calls for `guidekit.extensions.stamp`."""
    return StampExtension(**kwargs)
