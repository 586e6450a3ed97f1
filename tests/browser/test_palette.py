"""The palette toggle switches between light and dark, and the choice survives instant navigation."""

import pytest
from playwright.sync_api import Browser, Page

from guidekit.markdown.nav import nav_pages, page_url_path

_SCHEME = "document.body.getAttribute('data-md-color-scheme')"
# Relative luminance of the page background (0 black .. 1 white), as WCAG defines it.
_BACKGROUND_LUMINANCE = """() => {
  const channels = getComputedStyle(document.body).backgroundColor.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const linear = channels.map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
}"""


def _toggle_until(page: Page, scheme: str) -> None:
    """Click the visible palette toggle (it cycles: automatic, light, dark) until `scheme` is on."""
    for _ in range(3):
        if page.evaluate(_SCHEME) == scheme:
            return
        page.locator("form[data-md-component=palette] label.md-header__button:visible").click()
    assert page.evaluate(_SCHEME) == scheme, f"the palette toggle never switched to {scheme!r}"


def _instant_navigate(page: Page, target_url: str) -> None:
    """Follow a visible link to `target_url` the way a reader clicks it."""
    link = page.evaluate_handle(
        "(url) => Array.from(document.querySelectorAll('a[href]')).find((a) => a.href === url && a.offsetParent)",
        target_url,
    ).as_element()
    assert link is not None, f"no visible link to {target_url}"
    link.click()
    page.wait_for_url(target_url)


def test_palette_switches_and_survives_instant_navigation(browser: Browser, site_url: str) -> None:
    """Dark really darkens the page, light lightens it, and dark stays on through navigation and reload."""
    pages = nav_pages()
    if len(pages) < 2:
        pytest.skip("the nav has one page: nowhere to navigate to yet")
    context = browser.new_context(service_workers="block")  # its own storage: the palette choice is stored
    page = context.new_page()
    try:
        page.goto(
            site_url + page_url_path(pages[0]), wait_until="networkidle"
        )  # instant navigation reads the sitemap first
        _toggle_until(page, "default")
        assert page.evaluate(_BACKGROUND_LUMINANCE) > 0.8, "the light scheme's background is not light"
        _toggle_until(page, "slate")
        assert page.evaluate(_BACKGROUND_LUMINANCE) < 0.1, "the dark scheme's background is not dark"

        page.evaluate("window.__sameDocument = true")  # survives an instant navigation, not a full load
        _instant_navigate(page, site_url + page_url_path(pages[1]))
        assert page.evaluate("window.__sameDocument === true"), "navigation reloaded the page: not instant"
        assert page.evaluate(_SCHEME) == "slate", "instant navigation lost the dark scheme"
        assert page.evaluate(_BACKGROUND_LUMINANCE) < 0.1

        page.reload()
        assert page.evaluate(_SCHEME) == "slate", "a reload lost the dark scheme"
    finally:
        context.close()
