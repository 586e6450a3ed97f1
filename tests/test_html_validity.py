"""The built site is valid HTML, as the Nu Html Checker reads it, apart from the theme's own templates.

One run of the checker over the whole shared build (`built_site`). Outside CI a machine without
Java or npm skips it with the reason; with `CI=true` that is a failure.
"""

import os
import time
from collections import Counter
from pathlib import Path

import pytest

from guidekit.extensions.line_ids import unique_line_ids
from guidekit.run_limits import limit_seconds
from guidekit.site.build import BuiltSite
from guidekit.site.chromium import in_ci
from guidekit.site.nu_checker import (
    THEME_ERRORS,
    VNU_FOLDER,
    VNU_JAR,
    Allowance,
    CheckerMissingError,
    Problem,
    allowance_for,
    check_site,
    highlighted,
    java_major,
    page_of,
    require_java,
    summary,
    vnu_jar,
)

# The part of the per-test limit left for the shared build (when this test starts it) and the report.
CHECK_MARGIN_SECONDS = 30


def test_the_site_has_no_html_errors_of_ours(built_site: BuiltSite) -> None:
    started = time.perf_counter()
    try:
        # Within the test's own limit, so a slow checker fails with its message, not the watchdog's.
        problems = check_site(built_site.path, seconds=limit_seconds() - CHECK_MARGIN_SECONDS)
    except CheckerMissingError as missing:
        if in_ci():
            pytest.fail(f"{missing} (CI=true: the HTML check must run in CI)")
        pytest.skip(str(missing))
    seconds = time.perf_counter() - started
    ours: list[Problem] = []
    allowed: Counter[Allowance] = Counter()
    for problem in problems:
        if (entry := allowance_for(problem)) is not None:
            allowed[entry] += 1
        else:
            ours.append(problem)
    pages = sum(1 for _ in built_site.path.rglob("*.html"))
    counts = f"{summary(pages, ours, allowed)}; {seconds:.1f} s"
    print(f"\n{counts}")  # shown with -s (or -n0 -rP); a failure shows it in its message
    assert not ours, f"{counts}\n{len(ours)} HTML error(s) of ours (page:line: message):\n" + "\n".join(map(str, ours))
    unused = [f"{entry.name} ({entry.template})" for entry in THEME_ERRORS if entry not in allowed]
    assert not unused, f"allow-list entries that matched nothing, drop them from THEME_ERRORS: {unused}"


def test_a_code_block_repeating_another_blocks_line_ids_is_renumbered() -> None:
    """mkdocstrings highlights each signature on its own, so each is block 0 (`__span-0-1`) on the page."""
    block = '<pre><code><span id="__span-{n}-1">a\n</span><span id="__span-{n}-2">b\n</span></code></pre>'
    page = "<h2>A</h2>" + block.format(n=0) + "<p>x</p>" + block.format(n=0) + block.format(n=2) + block.format(n=0)
    renumbered = unique_line_ids(page)
    expected = "<h2>A</h2>" + block.format(n=0) + "<p>x</p>" + block.format(n=3) + block.format(n=2) + block.format(n=4)
    assert renumbered == expected
    assert unique_line_ids(renumbered) == renumbered, "a page whose ids are unique is left as it is"


# Errors with the theme's messages, written by markup of ours: the message alone must not excuse them.
_OURS_WITH_THEME_MESSAGES = [
    (
        "The value of the “for” attribute of the “label” element must be the ID of a non-hidden form control.",
        '<div class="tabbed-labels"><label for="__tabbed_1_2">Async</label>',  # a broken pymdownx.tabbed tab
    ),
    (
        "Attribute “autocomplete” is only allowed when the input type is “color”, “date”, …",
        '<li class="task-list-item"><input type="checkbox" autocomplete="off" disabled>',  # a task list item
    ),
    (
        "Bad value “” for attribute “tabindex” on element “label”: The empty string is not a valid integer.",
        '<label class="copy-hint" for="copy" tabindex="">',  # an override of ours
    ),
]


@pytest.mark.parametrize(("message", "extract"), _OURS_WITH_THEME_MESSAGES)
def test_a_theme_message_in_markup_of_ours_is_not_excused(message: str, extract: str) -> None:
    assert any(entry.message.search(message) for entry in THEME_ERRORS), "the message is one of the theme's"
    assert allowance_for(Problem("page/index.html", 1, message, extract, extract)) is None


def test_the_marked_part_is_cut_in_utf16_units_as_the_checker_counts_them() -> None:
    element = '<input class="md-toggle" type="checkbox">'
    extract = f"<p>\U0001f600\U0001f600</p>{element}<p>"
    start = len("<p></p>") + 2 * 2  # each emoji is two UTF-16 units
    assert highlighted(extract, start, len(element)) == element
    assert highlighted(extract, 0, 0) == ""


def test_the_theme_markup_beside_the_marked_element_excuses_nothing() -> None:
    """The theme's `__toc` label just before a broken tab label of ours: the error is the tab's."""
    message = "The value of the “for” attribute of the “label” element must be the ID of a non-hidden form control."
    ours = '<label for="__tabbed_9_9">'
    extract = f'<label class="md-nav__title" for="__toc"> {ours}Sync</label>'
    assert allowance_for(Problem("page/index.html", 1, message, extract, ours)) is None


def test_the_theme_errors_are_excused_by_message_and_markup() -> None:
    """The parts the checker marked in Material's templates (vnu 26.9, whitespace collapsed)."""
    reported = [
        (
            "Attribute “autocomplete” is only allowed when the input type is “color”, …",
            '<input class="md-toggle" data-md-toggle="search" type="checkbox" id="__search" autocomplete="off">',
        ),
        (
            "Bad value “” for attribute “tabindex” on element “label”: The empty string is not a valid integer.",
            '<label class="md-nav__link md-nav__link--active" for="__nav_4" id="__nav_4_label" tabindex="">',
        ),
        (
            "The value of the “for” attribute of the “label” element must be the ID of a non-hidden form control.",
            '<label class="md-nav__title" for="__toc">',
        ),
    ]
    excused = [allowance_for(Problem("p.html", 1, message, f"<p>{marked} <", marked)) for message, marked in reported]
    assert excused == THEME_ERRORS


def _fake_npm(bin_folder: Path) -> None:
    """An `npm` that "installs" by writing the jar where the package puts it (no registry in a unit test)."""
    bin_folder.mkdir()
    script = bin_folder / "npm"
    jar = VNU_JAR.relative_to(VNU_FOLDER).as_posix()
    shell = f'while [ "$1" != --prefix ]; do shift; done\nmkdir -p "$(dirname "$2/{jar}")"\necho jar > "$2/{jar}"\n'
    script.write_text("#!/bin/sh\n" + shell)
    script.chmod(0o755)


def test_a_leftover_checker_folder_without_the_jar_is_fetched_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_npm(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    folder = tmp_path / "tools" / "vnu-jar-x"
    (folder / "node_modules").mkdir(parents=True)  # the jar deleted, or a layout npm changed
    jar = vnu_jar(folder)
    assert jar.read_text() == "jar\n"
    assert [path.name for path in folder.parent.iterdir()] == [folder.name], "no temporary folder is left"


def test_a_message_about_a_file_outside_the_site_is_reported_with_its_url(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    assert page_of(f"file:{site}/guide/index.html", site) == "guide/index.html"
    assert page_of(f"file:{tmp_path}", site) == str(tmp_path)
    assert page_of("", site) == "?"


@pytest.mark.parametrize(
    ("report", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', 17),
        ('openjdk version "1.8.0_392"\nOpenJDK Runtime Environment', 8),
        ('java version "21" 2023-09-19 LTS', 21),
    ],
)
def test_the_java_version_is_read_from_its_report(report: str, major: int) -> None:
    assert java_major(report) == major


def test_a_java_older_than_the_checker_needs_is_missing_with_its_version() -> None:
    with pytest.raises(CheckerMissingError, match="Java 8 is older than the checker's 17"):
        require_java('openjdk version "1.8.0_392"')
    require_java('openjdk version "17.0.15" 2025-04-15')  # new enough: no error
