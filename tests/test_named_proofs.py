"""A test a page names as the proof of a claim exists, links to its source, and passed in the run.

The build side is `guidekit.extensions.proofs`; the run side is `guidekit/guard/run_hooks.py`.
"""

import contextlib
import html as html_module
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from subprocess import PIPE

import markdown
import pytest

from guidekit.extensions.page import PageError
from guidekit.extensions.proofs import LISTING_CLASS, MODULE_CLASS
from guidekit.markdown.includes import escape_snippet_syntax
from guidekit.paths import DOCS
from guidekit.proofs import (
    PROOFS_PAGE,
    defined_tests,
    dont_boxes,
    fenced_python,
    function_name,
    named_tests,
    pages_naming_tests,
    proofs_markdown,
    unknown,
    unproven,
    unproven_boxes,
)
from guidekit.site.build import SHARED_SITE, BuiltSite

PageMarkdown = Callable[[str, str], markdown.Markdown]


def test_every_test_a_page_names_exists() -> None:
    named = [
        pair
        for page in sorted(DOCS.rglob("*.md"))
        for pair in named_tests(page.relative_to(DOCS).as_posix(), page.read_text(encoding="utf-8"))
    ]
    assert ("devops/docker.md", "test_poetry_2_rejects_no_dev") in {(w.split(":")[0], n) for w, n in named}
    problems = unknown(named)
    assert not problems, "\n".join(problems)


def test_a_name_that_is_no_test_stops_the_build_with_its_page_and_line(page_markdown: PageMarkdown) -> None:
    text = "Proven by `test_poetry_2_rejects_no_dev`.\nAnd by `test_that_nobody_wrote`.\n"
    with pytest.raises(PageError, match=r"docs/x\.md:2: `test_that_nobody_wrote` is no test"):
        page_markdown(text, "x.md").convert(text)


def test_every_dont_box_names_the_test_that_proves_it() -> None:
    pages = {path.relative_to(DOCS).as_posix(): path.read_text(encoding="utf-8") for path in DOCS.rglob("*.md")}
    assert sum(len(dont_boxes(text)) for text in pages.values()) >= 60  # the boxes are found at all
    problems = [problem for page, text in sorted(pages.items()) for problem in unproven_boxes(f"docs/{page}", text)]
    assert not problems, "\n".join(problems)


def test_a_dont_box_without_a_proof_stops_the_build_with_its_page_and_line(page_markdown: PageMarkdown) -> None:
    text = (
        "Intro.\n\n"
        '!!! danger "Don\'t"\n'
        "    Don't do this.\n\n"
        "    Not even on Fridays.\n\n"
        "After the box, `test_poetry_2_rejects_no_dev` proves something else.\n\n"
        '!!! danger "Don\'t: two things"\n'
        "    - Don't do a (`test_poetry_2_rejects_no_dev`).\n"
        "    - Don't do b,\n"
        "      on two lines.\n"
        "        1. not a bullet of the box: one level deeper\n"
    )
    with pytest.raises(PageError) as stopped:
        page_markdown(text, "x.md").convert(text)
    assert str(stopped.value).splitlines() == [
        'docs/x.md:3: this "Don\'t" box names no test; name the test that proves it in backticks,'
        " e.g. (proven by `test_x`)",
        'docs/x.md:12: this bullet of the "Don\'t" box at line 10 names no test; name the test that proves it'
        " in backticks, e.g. (proven by `test_x`)",
    ]
    proven = text.replace("Not even on Fridays.", "Not even on Fridays (`test_poetry_2_rejects_no_dev`).")
    assert unproven_boxes("docs/x.md", proven.replace("do b,", "do b (`test_poetry_2_rejects_no_dev`),")) == []


def test_a_named_test_links_to_its_source_on_the_proofs_page(built_site: BuiltSite) -> None:
    html = built_site.page("devops/docker/")
    link = '<a class="proof-link" href="../../reference/proofs/#test_poetry_2_rejects_no_dev"'
    assert link in html
    proofs = built_site.page(PROOFS_PAGE.removesuffix(".md") + "/")
    # Every named test has its entry, with its source, once.
    for name in pages_naming_tests():
        assert proofs.count(f'id="{name}"') == 1, name
    # The source itself, as the page's Markdown copy (llms.txt's) has it: the HTML splits it into tokens.
    markdown = (built_site.path / "reference/proofs/index.md").read_text()
    assert "def test_poetry_2_rejects_no_dev(" in markdown
    # A test that mentions the snippets syntax keeps those lines, as written, on the page.
    assert '"Sections start at a `# --8<-- [start:name]` comment line."' in markdown
    assert 'assert "`;--8<--`" in log' in markdown


def test_each_listing_on_the_proofs_page_is_no_element_of_the_page_until_its_box_opens(built_site: BuiltSite) -> None:
    """A closed <details> is still hundreds of elements per listing, which a phone parses into the
    page and Lighthouse counts (36,700 on this page); a <template>'s content is parsed aside, as a
    fragment, and becomes part of the page only when theme-fixes.js puts it in (its browser test:
    tests/browser/test_proof_links.py)."""
    proofs = built_site.page(PROOFS_PAGE.removesuffix(".md") + "/")
    entries = re.findall(r"<h3 id=\"(test_\w+)\"", proofs)
    boxes = re.findall(
        r'<details class="example">\s*<summary>(.*?)</summary>\s*'
        rf'<template class="{LISTING_CLASS}">(.*?)</template>\s*</details>',
        proofs,
        re.DOTALL,
    )
    assert len(entries) > 300
    assert len(boxes) == len(entries), "an entry whose listing is not in its box's <template>"
    assert all(listing.count("<pre") == 1 for _, listing in boxes), "a box with no listing or several"
    # Nothing else of the page went into a template: every <pre> of the page is one of them.
    assert proofs.count("<pre") == len(boxes)
    assert proofs.count("<template") == len(boxes)


def test_the_proofs_page_renders_one_module_at_a_time_and_lists_only_modules_in_its_contents(
    built_site: BuiltSite,
) -> None:
    """Each module's heading and entries in a `<section>` the browser renders only in view
    (theme-fixes.css: `content-visibility: auto`); the table of contents names the modules, not the
    hundreds of tests."""
    proofs = built_site.page(PROOFS_PAGE.removesuffix(".md") + "/")
    content = proofs[proofs.index('<article class="md-content__inner') : proofs.index("</article>")]
    sections = re.findall(rf'<section class="{MODULE_CLASS}">(.*?)</section>', content, re.DOTALL)
    modules = re.findall(r'<h2 id="([^"]+)"', content)
    assert len(sections) == len(modules) > 30
    # Each section starts with its module's heading and holds every entry up to the next one.
    assert all(
        section.lstrip().startswith(f'<h2 id="{module}"') for section, module in zip(sections, modules, strict=True)
    )
    assert sum(section.count("<h3 ") for section in sections) == content.count("<h3 ") > 300
    start = proofs.index('aria-label="Table of contents"')
    contents = proofs[start : proofs.index('class="md-content"', start)]
    # The stylesheet the site loads renders that class only in view.
    css = (DOCS / "assets/stylesheets/theme-fixes.css").read_text(encoding="utf-8")
    assert re.search(rf"\.{MODULE_CLASS}\s*\{{[^}}]*content-visibility:\s*auto", css)
    # (The theme writes the contents twice: in the sidebar and, for phones, in the navigation.)
    listed = re.findall(r'<a href="#([^"]+)" class="md-nav__link">', contents)
    assert list(dict.fromkeys(listed)) == modules


def test_a_named_test_that_failed_or_was_skipped_fails_the_run() -> None:
    naming = {"test_a": ["x.md"], "test_b": ["y.md", "z.md"], "test_c": ["x.md"], "test_d": ["x.md"]}
    outcomes = {"test_a": {"passed"}, "test_b": {"passed", "failed"}, "test_c": {"skipped"}}
    assert unproven(naming, outcomes, whole_run=False) == [
        "`test_b` is named as a proof on y.md, z.md but failed in this run",
        "`test_c` is named as a proof on x.md but was skipped in this run",
    ]
    # In the whole run every named test must have run: one that did not is no proof.
    assert unproven(naming, outcomes, whole_run=True)[-1] == (
        "`test_d` is named as a proof on x.md but did not run; is it collected (a test_*.py module)?"
    )


@pytest.mark.parametrize(("outcome", "workers"), [(None, "0"), ("skipped", "0"), ("failed", "0"), ("skipped", "1")])
def test_a_run_in_which_a_named_test_failed_or_was_skipped_exits_non_zero(
    outcome: str | None, workers: str, tmp_path: Path
) -> None:
    """A real pytest run of one named test, which passes, or which a plugin skips or fails."""
    named = "tests/test_named_proofs.py::test_a_name_that_is_no_test_stops_the_build_with_its_page_and_line"
    env = os.environ | {"FORCE_TEST": named if outcome else "", "FORCE_OUTCOME": outcome or ""}
    command = [sys.executable, "-m", "pytest", "-p", "tests.fence_guard.outcome_plugin", "-n", workers]
    command += ["--no-cov", "-p", "no:cacheprovider", "-q", f"--basetemp={tmp_path / 'run'}", named]
    # A session of its own: whatever the run starts (its worker, a build) is stopped with it.
    with subprocess.Popen(
        command, cwd=DOCS.parent, env=env, stdout=PIPE, stderr=PIPE, text=True, start_new_session=True
    ) as run:
        try:
            stdout, stderr = run.communicate(timeout=120)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(run.pid, signal.SIGKILL)
    run_output = stdout + stderr

    name = named.split("::")[1]
    # The named test needs no built site: a run with workers builds none for it.
    assert not (tmp_path / "run" / SHARED_SITE / "site").exists(), "the run built the site for nothing"
    if outcome is None:
        assert run.returncode == 0, run_output
        assert "is named as a proof" not in stdout
    else:
        assert run.returncode == 1, run_output
        said = "was skipped" if outcome == "skipped" else "failed"
        assert f"FAILED: `{name}` is named as a proof on " in stdout
        assert f" but {said} in this run" in stdout
        assert f"1 {outcome}" in stdout  # a skip alone would exit 0: the proof check fails the run


def test_a_test_source_holding_a_fence_stays_in_one_code_block() -> None:
    source = 'def test_x() -> None:\n    page = """\n```python\nx = 1\n```\n"""\n    assert page'
    html = markdown.markdown(fenced_python(source), extensions=["pymdownx.superfences"])

    code = re.sub(r"<[^>]+>", "", html.split("</code>")[0])
    assert "    assert page" in code, html  # the last line is still inside the block


def test_a_report_is_filed_under_its_function_name_whatever_its_parameters() -> None:
    assert function_name("snippets/tests/x.py::TestY::test_z[a]") == "test_z"
    assert function_name("tests/x.py::test_y[tests/a.py::test_b[c]]") == "test_y"  # an id holding `::`


def test_each_test_source_on_the_proofs_page_is_collapsed_until_a_reader_opens_it() -> None:
    """Hundreds of listings: closed, a phone's browser neither styles nor lays them out (issue 16)."""
    page = proofs_markdown()
    html = markdown.markdown(page, extensions=["attr_list", "pymdownx.details", "pymdownx.superfences"])
    entries = re.findall(r"<h3[ >]", html)
    listings = re.findall(r"<details\b([^>]*)>\s*<summary>(.*?)</summary>\s*(<div class=\"highlight\"><pre\b)?", html)
    assert len(entries) > 300
    assert len(listings) == len(entries)
    assert all(" open" not in attributes and pre for attributes, _, pre in listings), listings[:3]
    assert all(
        re.fullmatch(r"From <code>(snippets/)?tests/\S+\.py</code>, line \d+", title) for _, title, _ in listings
    )
    assert html.count("<pre") == len(listings), "a listing outside its <details>"
    # Inside each block, the test's source line for line (the fence is indented in the Markdown only).
    codes = [
        re.sub(r"<[^>]+>", "", code)
        for code in re.findall(r"<pre\b[^>]*>(?:<span></span>)?<code[^>]*>(.*?)</code>", html, re.DOTALL)
    ]
    naming = pages_naming_tests()
    sources = sorted(
        (source for name in naming if name in defined_tests() for source in defined_tests()[name]),
        key=lambda source: (source.path, source.line),
    )
    assert [html_module.unescape(code).rstrip("\n") for code in codes] == [
        escape_snippet_syntax(source.source) for source in sources
    ]
