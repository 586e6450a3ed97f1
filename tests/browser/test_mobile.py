"""A phone-sized screen: the navigation drawer opens (page layout is checked per page in test_pages.py)."""

from guidekit.markdown.nav import nav_pages
from guidekit.site.browser import Reader

_DRAWER_LEFT = "document.querySelector('.md-sidebar--primary').getBoundingClientRect().left"


def test_navigation_drawer_opens(phone: Reader) -> None:
    """The menu button slides the navigation in from the left edge, with its links."""
    page = phone.page
    phone.open(nav_pages()[0])
    assert page.evaluate(_DRAWER_LEFT) < 0, "the drawer is on screen before it is opened"
    page.locator("label.md-header__button[for=__drawer]").click()
    page.wait_for_function(f"{_DRAWER_LEFT} >= 0")
    assert page.locator(".md-sidebar--primary .md-nav__link:visible").count() > 0, "the open drawer shows no link"


# The code blocks of the open page that scroll sideways, and what a keyboard and a screen reader
# get from each: its place in the tab order, its role and its name.
_CODE_THAT_SCROLLS = """() => Array.from(document.querySelectorAll('.md-content pre > code'))
  .filter((code) => code.scrollWidth > code.clientWidth)
  .map((code) => ({
    tabindex: code.getAttribute('tabindex'),
    role: code.getAttribute('role'),
    name: code.getAttribute('aria-label'),
  }))"""


def test_code_blocks_scroll_by_keyboard_on_a_touch_screen_after_instant_navigation(phone: Reader) -> None:
    """The theme makes code focusable only with a mouse: on a phone, after instant navigation, the site's fix does."""
    page = phone.page
    phone.open("index.md", wait_until="networkidle")  # instant navigation reads the sitemap first
    assert not page.evaluate("matchMedia('(hover)').matches"), "the phone tab has a mouse: not the case to test"
    page.evaluate("window.__samePage = true; document.querySelector('.md-content').dataset.leftPage = ''")
    page.evaluate("document.querySelector('a[href$=\"devops/celery/\"]').click()")
    page.wait_for_url("**/devops/celery/")
    # The new article is in, and two frames have passed: size and attribute observers have run.
    page.wait_for_function("!document.querySelector('[data-left-page]') && !!document.querySelector('.md-content pre')")
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    assert page.evaluate("window.__samePage === true"), "the link reloaded the page: no instant navigation"
    blocks = page.evaluate(_CODE_THAT_SCROLLS)
    assert blocks, "no code block scrolls sideways on a phone: nothing to test"
    for number, block in enumerate(blocks, start=1):
        assert block["tabindex"] == "0", f"scrolling code block {number} is not in the tab order"
        assert block["role"] == "region", f"scrolling code block {number} is focusable without a landmark role"
        assert block["name"], f"scrolling code block {number} has no name"
    code = page.locator(".md-content pre > code[tabindex='0']").first
    code.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("document.activeElement.scrollLeft > 0")
