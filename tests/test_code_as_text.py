"""The plugins that parse whole pages read the same page from code as text as from highlighted code.

`hooks/code_as_text_for_parsers.py` hands mkdocs-llmstxt and Material's search each page with its
highlighted code reduced to text, because parsing the highlighting was most of a build's time,
and `hooks/restore_highlighted_code.py` puts the highlighting back afterwards. The page here is
the one of the error patterns (a long one, mostly code), converted with the site's own Markdown
extensions and settings.
"""

import markdown
import pytest
from material.plugins.search.plugin import Parser
from mkdocs_llmstxt._internal.plugin import _generate_page_markdown

from guidekit.markdown.nav import site_config as mkdocs_config
from guidekit.paths import ROOT
from hooks.code_as_text_for_parsers import code_as_text

PAGE = ROOT / "docs" / "patterns" / "errors.md"


@pytest.fixture(scope="module")
def highlighted_page() -> str:
    """The page's HTML as the site's Markdown extensions write it (includes resolved from snippets/)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)  # pymdownx.snippets' base_path is relative to the working folder
        entries = mkdocs_config()["markdown_extensions"]
        assert isinstance(entries, list)
        extensions = [next(iter(entry)) if isinstance(entry, dict) else entry for entry in entries]
        settings = {name: options for entry in entries if isinstance(entry, dict) for name, options in entry.items()}
        html: str = markdown.markdown(PAGE.read_text(), extensions=extensions, extension_configs=settings)
    return html


def to_markdown(html: str) -> str:
    """What mkdocs-llmstxt writes for the page."""
    return _generate_page_markdown(
        html, should_autoclean=True, preprocess=None, path="page.md", base_uri="https://example.org/", page_uri="page/"
    )


def search_sections(html: str) -> list[tuple[str | None, str, str]]:
    """What Material's search indexes of the page: each section's anchor, title and text."""
    parser = Parser()
    parser.feed(html)
    parser.close()
    return [(section.id, "".join(section.title), "".join(section.text)) for section in parser.data]


def test_code_as_text_leaves_no_markup_in_code(highlighted_page: str) -> None:
    light, _ = code_as_text(highlighted_page)
    # about 250 spans once lean_code has merged and dropped the tokens without a colour of their own
    assert highlighted_page.count("<span") > 200, "the page should have highlighted code to reduce"
    assert light.count("<span") < highlighted_page.count("<span") / 10


def test_llmstxt_writes_the_same_markdown_from_code_as_text(highlighted_page: str) -> None:
    light, _ = code_as_text(highlighted_page)
    assert to_markdown(light) == to_markdown(highlighted_page)


def test_search_indexes_the_same_sections_from_code_as_text(highlighted_page: str) -> None:
    light, _ = code_as_text(highlighted_page)
    sections = search_sections(highlighted_page)
    assert len(sections) > 3, "the page should have sections to index"
    assert search_sections(light) == sections


def test_restoring_gives_back_the_highlighting_and_keeps_edits_made_elsewhere(highlighted_page: str) -> None:
    light, restore = code_as_text(highlighted_page)
    assert restore(light) == highlighted_page
    # Material's search removes `data-search-*` attributes from the page while it reads it.
    edited = light.replace("<h2", '<h2 data-search-note="x"', 1)
    assert 'data-search-note="x"' in restore(edited)
    assert restore(edited).replace(' data-search-note="x"', "", 1) == highlighted_page


def test_a_code_block_added_or_removed_meanwhile_is_an_error(highlighted_page: str) -> None:
    light, restore = code_as_text(highlighted_page)
    extra_block = '<pre><code class="language-text">extra</code></pre>'
    with pytest.raises(ValueError, match="added a code block"):
        restore(light + extra_block)
    first_block_end = light.index("</code></pre>") + len("</code></pre>")
    first_block_start = light.rindex("<pre", 0, first_block_end)
    with pytest.raises(ValueError, match="removed a code block"):
        restore(light[:first_block_start] + light[first_block_end:])
