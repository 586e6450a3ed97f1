"""mkdocs-llmstxt writes the same Markdown from code as text as from highlighted code.

`hooks/code_as_text_for_llms.py` hands mkdocs-llmstxt each page with its highlighted code reduced
to text, because parsing the highlighting is most of a build's time. The page here is the one
of the error patterns (a long one, mostly code), converted with the site's own Markdown extensions and settings.
"""

from pathlib import Path

import markdown
import pytest
from mkdocs_llmstxt._internal.plugin import _generate_page_markdown

from hooks.code_as_text_for_llms import code_as_text
from tests.browser.site import mkdocs_config

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "patterns" / "errors.md"


@pytest.fixture
def highlighted_page(monkeypatch: pytest.MonkeyPatch) -> str:
    """The page's HTML as the site's Markdown extensions write it (includes resolved from snippets/)."""
    monkeypatch.chdir(ROOT)  # pymdownx.snippets' base_path is relative to the working folder
    entries = mkdocs_config()["markdown_extensions"]
    assert isinstance(entries, list)
    extensions = [next(iter(entry)) if isinstance(entry, dict) else entry for entry in entries]
    settings = {name: options for entry in entries if isinstance(entry, dict) for name, options in entry.items()}
    html: str = markdown.markdown(PAGE.read_text(), extensions=extensions, extension_configs=settings)
    return html


def to_markdown(html: str) -> str:
    return _generate_page_markdown(
        html, should_autoclean=True, preprocess=None, path="page.md", base_uri="https://example.org/", page_uri="page/"
    )


def test_code_as_text_leaves_no_markup_in_code_and_the_same_markdown(highlighted_page: str) -> None:
    light = code_as_text(highlighted_page)
    assert highlighted_page.count("<span") > 500, "the page should have highlighted code to reduce"
    assert light.count("<span") < highlighted_page.count("<span") / 10
    assert to_markdown(light) == to_markdown(highlighted_page)
