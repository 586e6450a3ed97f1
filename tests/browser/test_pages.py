"""Every page of the nav as readers load it: on a desktop, in light and dark, and at a phone's width.

Each page is visited once (see survey.py); each test here checks one concern on one page.
"""

import re

from guidekit.markdown.includes import unexpanded_includes
from guidekit.site.survey import PageReport

_ANNOTATION_MARKER = re.compile(r"#\s*\(\d+\)!?\s*$", re.MULTILINE)
_PROMPT = re.compile(r"^\$ ", re.MULTILINE)
_SITE_TEST_SOURCE = re.compile(r"From tests/\S+\.py, line \d+\b")
_TEST_DEF_LINE = re.compile(r"^\s*(async )?def test_\w+\(")


def test_page_loads_cleanly(nav_page: str, page_report: PageReport) -> None:
    """No console error, no failed request, and nothing fetched from another host (no CDN, no web font)."""
    report = page_report
    assert not report.console_errors, f"{nav_page}: console errors: {report.console_errors}"
    assert not report.failed_requests, f"{nav_page}: failed requests: {report.failed_requests}"
    assert not report.foreign_requests, f"{nav_page}: requests leaving 127.0.0.1: {report.foreign_requests}"


def test_page_has_no_serious_accessibility_violation(nav_page: str, page_report: PageReport) -> None:
    """axe-core finds no serious or critical violation: every rule on desktop, contrast in dark mode too."""
    violations = page_report.serious_violations
    assert not violations, f"{nav_page}:\n" + "\n".join(violations)


def test_every_scrollable_region_is_reachable_by_keyboard(nav_page: str, page_report: PageReport) -> None:
    """Code blocks, tables and diagrams that scroll take the focus, as named regions, on a desktop and a phone."""
    unreachable = page_report.keyboard_unreachable
    assert not unreachable, f"{nav_page}: {len(unreachable)} problems:\n" + "\n".join(unreachable)


def test_copy_button_copies_exactly_the_code_shown(nav_page: str, page_report: PageReport) -> None:
    """Every code block has a copy button that copies its code: no prompt, output, annotation or include line."""
    for number, block in enumerate(page_report.code_blocks, start=1):
        where = f"{nav_page}, code block {number} ({block.language})"
        assert block.copied is not None, f"{where}: no copy button"
        assert block.copied == block.shown, f"{where}: copied text differs from the code shown"
        assert block.copied.strip(), f"{where}: copied nothing"
        assert not unexpanded_includes(block.copied), f"{where}: an include line reached the page"
        assert not _ANNOTATION_MARKER.search(block.copied), f"{where}: an annotation marker was copied"
        if "language-console" in block.language:
            assert not _PROMPT.search(block.copied), f"{where}: a shell prompt was copied"


def test_code_fits_the_column_on_a_desktop(nav_page: str, page_report: PageReport) -> None:
    """At 1280px no code block scrolls sideways: the shown code is formatted to the column's width.

    One line may be wider: a test's `def` line, when the test's name, which pages cite as the
    proof of a claim, is longer than the column holds. The generated tree of `snippets/` (a
    drawing of the folders, each file's role aligned in one column) is not code, and is left out.
    Not yet formatted to fit: the site's own tests (`tests/`, at the site code's 120 columns), which
    only the Proofs page shows; they are left out until they are reformatted.
    """
    wide = [
        f"{block.over}px wider ({block.fits} characters fit): {block.first_line}\n"
        + "\n".join(f"    {line.strip()[:90]}" for line in block.long_lines)
        for block in page_report.wide_code
        if block.first_line != "snippets/"
        and not _SITE_TEST_SOURCE.search(block.introduction)
        and (not block.long_lines or not all(_TEST_DEF_LINE.match(line) for line in block.long_lines))
    ]
    assert not wide, f"{nav_page}: {len(wide)} code blocks wider than the column at 1280px:\n" + "\n".join(wide)


def test_page_fits_a_phone_screen(nav_page: str, page_report: PageReport) -> None:
    """On a 375px screen the page never scrolls sideways; a wide code block scrolls inside itself."""
    report = page_report
    assert report.phone_overflow_px <= 0, f"{nav_page}: {report.phone_overflow_px}px wider than the screen"
    assert not report.phone_unscrollable_code, f"{nav_page}: code overflows without scrolling"
