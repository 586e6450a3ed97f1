"""Diagrams are drawn ahead of time (`guidekit.extensions.diagrams`): each has its drawing, and a
missing one stops the build."""

import re
import textwrap
from collections.abc import Callable

import pytest
from markdown import Markdown

from guidekit.diagrams import DRAWINGS, RENDER_COMMAND, diagrams_in, site_diagrams, without_invalid_attributes
from guidekit.extensions.page import PageError

PageMarkdown = Callable[[str, str], Markdown]


@pytest.fixture
def render_page_markdown(page_markdown: PageMarkdown) -> Callable[[str], str]:
    """What the diagrams extension hands on for a page at `docs/guide/new.md` written as `markdown`."""

    def render(markdown: str) -> str:
        md = page_markdown(markdown, "guide/new.md")
        return "\n".join(md.preprocessors["guidekit_diagrams"].run(markdown.split("\n")))

    return render


def test_the_site_has_diagrams() -> None:
    assert len(site_diagrams()) >= 2, "the home and architecture pages each show a diagram"


def test_every_diagram_has_its_drawing_and_every_drawing_a_diagram() -> None:
    without = [where for where, diagram in site_diagrams() if not diagram.drawing.is_file()]
    assert without == [], f"diagrams without a drawing: run `{RENDER_COMMAND}`"
    used = {diagram.drawing.name for _, diagram in site_diagrams()}
    unused = sorted(path.name for path in DRAWINGS.glob("*.svg") if path.name not in used)
    assert unused == [], f"drawings no page shows: run `{RENDER_COMMAND}`, which deletes them"


def test_every_diagram_names_and_describes_itself_for_screen_readers() -> None:
    """`accTitle` and `accDescr` become the drawing's <title> and <desc>, which name it to assistive technology."""
    for where, diagram in site_diagrams():
        assert re.search(r"^\s*accTitle:\s*\S", diagram.source, re.MULTILINE), f"{where}: add `accTitle: ...`"
        assert re.search(r"^\s*accDescr:\s*\S", diagram.source, re.MULTILINE), f"{where}: add `accDescr: ...`"
        svg = diagram.drawing.read_text(encoding="utf-8")
        assert re.search(r'<svg [^>]*aria-labelledby="chart-title-', svg), f"{where}: the drawing has no title"
        assert re.search(r'<svg [^>]*aria-describedby="chart-desc-', svg), f"{where}: the drawing has no description"


def test_no_drawing_has_a_name_attribute_which_html_does_not_allow_in_svg() -> None:
    """The Nu Html Checker flags each (tests/test_html_validity.py); `draw` leaves them out."""
    for where, diagram in site_diagrams():
        named = re.findall(r"<(\w+)[^<>]* name=", diagram.drawing.read_text(encoding="utf-8"))
        assert named == [], f"{where}: {diagram.drawing.name} has `name` on {named}: run `{RENDER_COMMAND}`"


def test_drawing_leaves_out_name_attributes_and_keeps_the_rest() -> None:
    drawn = '<g><rect x="0" name="DB" rx="3"></rect><text x="1">name="DB"</text><line name="C" id="a"/></g>'
    kept = '<g><rect x="0" rx="3"></rect><text x="1">name="DB"</text><line id="a"/></g>'
    assert without_invalid_attributes(drawn) == kept


def test_a_page_shows_the_drawing_then_the_source(render_page_markdown: Callable[[str], str]) -> None:
    where, diagram = site_diagrams()[0]
    markdown = f"# A page\n\n```mermaid\n{diagram.source}```\n\nAfter.\n"
    shown = render_page_markdown(markdown)
    drawing = diagram.drawing.read_text(encoding="utf-8").strip()
    opening = (
        f'<div class="diagram" data-diagram="{diagram.key}" data-search-exclude tabindex="0" style="--diagram-width: '
    )
    assert opening in shown, where
    assert f">{drawing}</div>\n" in shown, where
    assert '??? abstract "Source of this diagram (Mermaid)"' in shown
    assert textwrap.indent(diagram.source, "    ") in shown
    assert shown.startswith("# A page\n\n")
    assert shown.endswith("\n\nAfter.\n")


def test_a_diagram_inside_an_admonition_keeps_its_indentation(render_page_markdown: Callable[[str], str]) -> None:
    _, diagram = site_diagrams()[0]
    markdown = '!!! note "Layers"\n\n    ```mermaid\n' + textwrap.indent(diagram.source, "    ") + "    ```\n"
    assert [found.key for found in diagrams_in(markdown)] == [diagram.key]
    shown = render_page_markdown(markdown)
    assert shown.startswith('!!! note "Layers"\n\n    <div class="diagram"')
    assert '\n    ??? abstract "Source of this diagram (Mermaid)"\n' in shown


def test_a_diagram_without_a_drawing_fails_the_build_with_page_line_and_command(page_markdown: PageMarkdown) -> None:
    markdown = "# A page\n\nText.\n\n```mermaid\nflowchart LR\n    a --> b\n```\n"
    with pytest.raises(PageError) as failure:
        page_markdown(markdown, "guide/new.md").convert(markdown)
    assert "docs/guide/new.md:5" in str(failure.value)
    assert RENDER_COMMAND in str(failure.value)


def test_an_edited_diagram_needs_a_new_drawing() -> None:
    """The drawing is named by its source: a changed diagram never shows an older drawing."""
    _, diagram = site_diagrams()[0]
    edited = diagram.source.replace("-->", "-.->", 1)
    (changed,) = diagrams_in(f"```mermaid\n{edited}```\n")
    assert changed.key != diagram.key
    assert not changed.drawing.is_file()


def test_an_unclosed_mermaid_fence_is_text_and_a_titled_one_is_a_diagram() -> None:
    """As Markdown shows them: a fence never closed is no diagram; one with attributes still is."""
    assert diagrams_in("intro\n\n```mermaid\ngraph TD\nA-->B\n\nmore text\n") == []
    (titled,) = diagrams_in('```mermaid title="Flow"\ngraph TD\nA-->B\n```\n')
    assert titled.source == "graph TD\nA-->B\n"


def test_the_build_shows_the_drawing_and_the_source_below_it(page_markdown: PageMarkdown) -> None:
    _, diagram = site_diagrams()[0]
    markdown = f"# A page\n\n```mermaid\n{diagram.source}```\n"
    html = page_markdown(markdown, "guide/new.md").convert(markdown)
    assert f'<div class="diagram" data-diagram="{diagram.key}"' in html
    assert '<details class="abstract">\n<summary>Source of this diagram (Mermaid)</summary>' in html
