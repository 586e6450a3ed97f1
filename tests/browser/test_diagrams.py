"""The stored drawings are what mermaid draws from the pages' sources now, and they follow the palette."""

import re

from playwright.sync_api import Browser

from guidekit.diagrams import draw, site_diagrams
from guidekit.markdown.nav import page_url_path
from guidekit.site.browser import Reader


def shape(svg: str) -> tuple[list[str], list[str]]:
    """A drawing without its coordinates: its elements in order, and every text in it.

    Positions depend on the fonts of the machine that drew it; elements and texts do not.
    """
    return re.findall(r"<([a-zA-Z][\w-]*)", svg), [text.strip() for text in re.findall(r">([^<>]+)<", svg)]


def test_stored_drawings_are_what_mermaid_draws_from_the_source_now(browser: Browser) -> None:
    diagrams = site_diagrams()
    tab = browser.new_page()
    try:
        drawn_now = draw(tab, [diagram for _, diagram in diagrams])
    finally:
        tab.close()
    for (where, diagram), svg in zip(diagrams, drawn_now, strict=True):
        stored = diagram.drawing.read_text(encoding="utf-8")
        assert shape(stored) == shape(svg), f"{where}: {diagram.drawing.name} was not drawn from this source"


_LABEL_COLOUR = "getComputedStyle(document.querySelector('.diagram .node text')).fill"
_FITS = """() => {
  const drawing = document.querySelector('.diagram svg').getBoundingClientRect();
  const content = document.querySelector('.md-content__inner').getBoundingClientRect();
  return drawing.width > 200 && drawing.height > 200 && drawing.right <= content.right + 1;
}"""


def test_a_diagram_fits_the_page_and_takes_the_colours_of_the_scheme(browser: Browser, site_url: str) -> None:
    context = browser.new_context(service_workers="block", viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    try:
        tab.goto(site_url + page_url_path("index.md"))
        assert tab.evaluate(_FITS), "the drawing is missing, tiny, or wider than the page's text"
        tab.evaluate("document.body.setAttribute('data-md-color-scheme', 'default')")
        light = tab.evaluate(_LABEL_COLOUR)
        tab.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")
        dark = tab.evaluate(_LABEL_COLOUR)
        assert light != dark, f"a label has the same colour ({light}) in light and dark: not the theme's colours"
    finally:
        context.close()


_ON_A_PHONE = """() => {
  const box = document.querySelector('.diagram');
  return {
    drawing: box.querySelector('svg').getBoundingClientRect().width,
    scrollsInside: box.scrollWidth > box.clientWidth,
    pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
}"""


def test_a_wide_diagram_scrolls_sideways_on_a_phone_instead_of_shrinking(phone: Reader) -> None:
    """The sequence diagram is 1335px wide: squeezed into 375px its labels would be 4px high."""
    phone.open("architecture/index.md")
    layout = phone.page.evaluate(_ON_A_PHONE)
    assert layout["drawing"] >= 720, f"the drawing shrank to {layout['drawing']:.0f}px"
    assert layout["scrollsInside"], "the drawing neither fits nor scrolls"
    assert layout["pageOverflow"] <= 0, "the drawing widens the page"
