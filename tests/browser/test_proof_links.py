"""A proof link brings the reader to the test's source on the Proofs page, opened."""

from playwright.sync_api import Browser

from guidekit.markdown.nav import page_url_path

# The entry's box: the first <details> after the heading the fragment names, before the next heading.
_BOX_OPEN = """(id) => {
  let next = document.getElementById(id).nextElementSibling;
  while (next && next.tagName !== 'DETAILS' && !/^H[1-6]$/.test(next.tagName)) next = next.nextElementSibling;
  return next !== null && next.tagName === 'DETAILS' && next.open;
}"""
_OPEN_BOXES = "() => document.querySelectorAll('article details[open]').length"


def test_a_proof_link_opens_that_tests_source_and_no_other(browser: Browser, site_url: str) -> None:
    context = browser.new_context(service_workers="block", viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    try:
        tab.goto(site_url + page_url_path("database/soft-delete.md"))
        link = tab.locator('article a[href*="reference/proofs/#"]').first
        href = link.get_attribute("href") or ""
        test_name = href.split("#", 1)[1]
        link.click()  # instant navigation: the page changes without a load
        tab.wait_for_url(f"**/reference/proofs/#{test_name}")
        tab.wait_for_function(_BOX_OPEN, arg=test_name, timeout=10_000)
        assert tab.evaluate(_OPEN_BOXES) == 1, "other entries opened too"

        # Loaded directly, and then another entry by its fragment alone.
        tab.goto(site_url + page_url_path("reference/proofs.md") + "#" + test_name)
        tab.wait_for_function(_BOX_OPEN, arg=test_name, timeout=10_000)
        other = tab.evaluate(
            "(id) => [...document.querySelectorAll('article h3[id]')].map((h) => h.id).find((h) => h !== id)", test_name
        )
        tab.evaluate("(id) => { location.hash = id; }", other)
        tab.wait_for_function(_BOX_OPEN, arg=other, timeout=10_000)
    finally:
        context.close()
