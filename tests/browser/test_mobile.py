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
