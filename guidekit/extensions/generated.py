"""Fill each `<!-- generated: NAME -->` line of a page with content built from the code (both builders).

The generators are `guidekit.generated`. Priority 36: before pymdownx.snippets (32) and the
diagrams (34), so what a generator writes is read like the rest of the page.
"""

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

from guidekit.extensions.page import PageError, page_written
from guidekit.generated import GeneratedContentError, render


class GeneratedContent(Preprocessor):
    """Replace the marker lines; an unknown or failing marker names the page and the line."""

    def run(self, lines: list[str]) -> list[str]:
        page = page_written(self.md)
        if page is None:
            return lines
        markdown, written = "\n".join(lines), page.written()
        # The builders strip the front matter: count the lines before what is left, so numbers are the file's.
        before = written[: len(written) - len(markdown)].count("\n") if written.endswith(markdown) else 0
        try:
            return render(markdown, page.where, page.root, before).split("\n")
        except GeneratedContentError as error:
            raise PageError(str(error)) from error


class GeneratedContentExtension(Extension):
    """Registers the generated content."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.preprocessors.register(GeneratedContent(md), "guidekit_generated", 36)


def makeExtension(**kwargs: object) -> GeneratedContentExtension:  # noqa: N802 (Python-Markdown's name)
    """The entry point Python-Markdown calls for `guidekit.extensions.generated`."""
    return GeneratedContentExtension(**kwargs)
