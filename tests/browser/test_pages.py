"""Every page of the nav, loaded the way a reader loads it: clean console, no failed or foreign request, accessible."""

from collections.abc import Callable

from tests.browser.site import Visit


def test_page_loads_cleanly(nav_page: str, visit: Callable[[str], Visit]) -> None:
    """No console error, no request that failed, and nothing fetched from another host (no CDN, no web font)."""
    loaded = visit(nav_page)
    assert not loaded.console_errors, f"{nav_page}: console errors: {loaded.console_errors}"
    assert not loaded.failed_requests, f"{nav_page}: failed requests: {loaded.failed_requests}"
    assert not loaded.foreign_requests, f"{nav_page}: requests leaving 127.0.0.1: {loaded.foreign_requests}"


def test_page_has_no_serious_accessibility_violation(nav_page: str, visit: Callable[[str], Visit]) -> None:
    """axe-core finds no serious or critical violation (contrast, names, landmarks, ...)."""
    loaded = visit(nav_page)
    assert not loaded.serious_violations, f"{nav_page}: " + "\n".join(loaded.serious_violations)
