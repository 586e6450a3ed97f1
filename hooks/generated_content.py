"""MkDocs hook: fill `<!-- generated: NAME -->` lines with content built from the code (`guidekit.generated`)."""

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from guidekit.generated import GeneratedContentError, render


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fill in the generated blocks of a page before it is rendered."""
    try:
        return render(markdown, f"docs/{page.file.src_uri}")
    except GeneratedContentError as error:
        raise PluginError(str(error)) from error
