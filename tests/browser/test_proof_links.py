"""A proof link brings the reader to the test's source on the Proofs page, opened, with its copy button."""

from playwright.sync_api import Browser, Page

from guidekit.markdown.nav import page_url_path

# The entry's box: the first <details> after the heading the fragment names, before the next heading
# (false while that heading is not on the page yet: instant navigation swaps the page in later),
# open and showing the test's source: the listing is in a <template> until the box opens.
_BOX_OPEN = """(id) => {
  const heading = document.getElementById(id);
  if (!heading) return false;
  let next = heading.nextElementSibling;
  while (next && next.tagName !== 'DETAILS' && !/^H[1-6]$/.test(next.tagName)) next = next.nextElementSibling;
  return next !== null && next.tagName === 'DETAILS' && next.open
    && [...next.querySelectorAll('pre > code')].some((code) => code.textContent.includes(`def ${id}(`));
}"""
# What the copy button of the entry's listing copies (the clipboard as it is after the click).
_COPY_LISTING = """async (id) => {
  let box = document.getElementById(id).nextElementSibling;
  while (box.tagName !== 'DETAILS') box = box.nextElementSibling;
  await navigator.clipboard.writeText('');
  box.querySelector('pre button[data-clipboard-target]').click();
  return navigator.clipboard.readText();
}"""
_OPEN_BOXES = "() => document.querySelectorAll('article details[open]').length"
# Where the entry's heading is: in the window, below the theme's header (its section was not
# rendered before the link: `content-visibility: auto` holds a guessed height for unseen sections).
_IN_VIEW = """(id) => {
  const top = document.getElementById(id).getBoundingClientRect().top;
  const header = document.querySelector(".md-header").getBoundingClientRect().bottom;
  return top >= header - 1 && top < window.innerHeight;
}"""
_WAITING_LISTINGS = "() => document.querySelectorAll('article template.proof-listing').length"
_SHOWN_LISTINGS = "() => document.querySelectorAll('article details pre > code').length"
_COPY_TITLE = "() => document.querySelector('article pre button[data-clipboard-target]').title"
_ADD_LINK = """(id) => {
  const link = Object.assign(document.createElement('a'), {id: 'link-within-the-page', href: '#' + id});
  link.textContent = 'another test';
  document.querySelector('article h1').after(link);
}"""
# The page's last entry: far below, in a section not rendered yet.
_ANOTHER_ENTRY = "(id) => [...document.querySelectorAll('article h3[id]')].map((h) => h.id).findLast((h) => h !== id)"


def _wait_open(tab: Page, test_name: str) -> None:
    tab.wait_for_function(_BOX_OPEN, arg=test_name, timeout=10_000)


def _lands_on(tab: Page, test_name: str) -> None:
    """The entry's heading comes into view and stays there (the theme and the re-scroll are done)."""
    tab.wait_for_function(_IN_VIEW, arg=test_name, timeout=10_000)
    tab.wait_for_timeout(500)
    assert tab.evaluate(_IN_VIEW, test_name), f"{test_name} left the window after landing"


def test_a_proof_link_opens_that_tests_source_and_no_other(browser: Browser, site_url: str) -> None:
    proofs = site_url + page_url_path("reference/proofs.md")
    context = browser.new_context(service_workers="block", viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url.rstrip("/"))
    try:
        tab = context.new_page()
        tab.goto(site_url + page_url_path("database/soft-delete.md"))
        theme_copy_title = tab.evaluate(_COPY_TITLE)  # the theme's own button, on a block of this page
        link = tab.locator('article a[href*="reference/proofs/#"]').first
        test_name = (link.get_attribute("href") or "").split("#", 1)[1]
        link.click()  # instant navigation: the page changes without a load
        _wait_open(tab, test_name)
        assert tab.evaluate(_OPEN_BOXES) == 1, "other entries opened too"
        _lands_on(tab, test_name)
        # The listing came out of its template with the copy button every code block has.
        assert tab.evaluate(_COPY_TITLE) == theme_copy_title
        copied = tab.evaluate(_COPY_LISTING, test_name)
        assert f"def {test_name}(" in copied, copied[:200]

        # A link within the page (the table of contents stops at the modules' headings, so one is
        # added): instant navigation changes the address without a `hashchange`.
        other = tab.evaluate(_ANOTHER_ENTRY, test_name)
        tab.evaluate(_ADD_LINK, other)
        tab.locator("#link-within-the-page").click()
        _wait_open(tab, other)
        _lands_on(tab, other)

        # Loaded directly, in a tab of its own.
        fresh = context.new_page()
        fresh.goto(f"{proofs}#{test_name}")
        _wait_open(fresh, test_name)
        assert fresh.evaluate(_OPEN_BOXES) == 1, "other entries opened too"
        _lands_on(fresh, test_name)

        # Printing: the theme opens every box for the printout, and every listing is in it by then.
        waiting = fresh.evaluate(_WAITING_LISTINGS)
        assert waiting > 300
        fresh.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
        assert fresh.evaluate(_WAITING_LISTINGS) == 0
        assert fresh.evaluate(_SHOWN_LISTINGS) == waiting + 1, "a listing missing from the printout"
    finally:
        context.close()
